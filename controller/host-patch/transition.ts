/**
 * What a phase decides: a pure value the applier carries out. A decision never performs I/O; it
 * reads (spec, status, observation) and says where to go, why to wait, why it failed, or which
 * actions to take with the intent (a status patch) written before them.
 */
import type { HostPatch, HostPatchPhase } from "../../src/api/host-patch.js";
import type { PlanNotice } from "../context.js";
import type { RemoteCommand } from "./commands.js";

export type Status = NonNullable<HostPatch["status"]>;
export type Migration = NonNullable<Status["migrations"]>[number];
export type Shutdown = NonNullable<Status["shutdowns"]>[number];

/** Fields to set; a key whose value is `undefined` is removed from status. */
export type StatusPatch = { [K in keyof Status]?: Status[K] | undefined };

export interface HistoryNote {
  step: string;
  outcome: "started" | "done" | "failed" | "skipped" | "blocked";
  message?: string;
  extra?: Record<string, unknown>;
}

export type Action =
  | {
      type: "run";
      command: RemoteCommand;
      /** What it is, for logs and crash points ("upgrade", "migrate 100", ...). */
      what: string;
      /** A request that is repeated until the world shows it: a refusal is logged, not retried. */
      tolerateFailure?: boolean;
    }
  | { type: "notify"; notice: Omit<PlanNotice, "plan" | "cluster" | "hosts"> };

/** When to look again: now, after the poll or wait interval, or after `ms`. */
export type Requeue = "now" | "poll" | "wait" | "never" | { ms: number };

interface Common {
  patch?: StatusPatch;
  notes?: HistoryNote[];
  requeue?: Requeue;
}

export type Transition =
  /** Move to `phase` (its conditions follow from it). */
  | (Common & { kind: "goto"; phase: HostPatchPhase; message: string })
  /** Stay in the phase and say why on Reconciling. */
  | (Common & { kind: "wait"; reason: string; message: string })
  /** The host has failed; the plan stalls. */
  | (Common & { kind: "fail"; reason: string; message: string })
  /** Record the intent (patch, optionally a new phase), then perform the actions. */
  | (Common & { kind: "act"; actions: Action[]; phase?: HostPatchPhase; message?: string; reason?: string })
  /** Nothing to do (a terminal phase). */
  | { kind: "idle" };

export const goto = (phase: HostPatchPhase, message: string, extra: Common = {}): Transition => ({
  kind: "goto",
  phase,
  message,
  requeue: "now",
  ...extra,
});

export const wait = (reason: string, message: string, extra: Common = {}): Transition => ({
  kind: "wait",
  reason,
  message,
  requeue: "wait",
  ...extra,
});

/** Stay, unchanged, and look again after the poll interval (a job or a reboot in progress). */
export const poll = (reason: string, message: string, extra: Common = {}): Transition =>
  wait(reason, message, { requeue: "poll", ...extra });

export const fail = (reason: string, message: string, extra: Common = {}): Transition => ({
  kind: "fail",
  reason,
  message,
  requeue: "never",
  ...extra,
});

export const act = (
  actions: Action[],
  extra: Common & { phase?: HostPatchPhase; message?: string; reason?: string } = {},
): Transition => ({ kind: "act", actions, requeue: "poll", ...extra });

export const run = (command: RemoteCommand, what: string, tolerateFailure = false): Action => ({
  type: "run",
  command,
  what,
  ...(tolerateFailure ? { tolerateFailure } : {}),
});

/** The transition with `patch` written first (its own patch wins where both set a field). */
export function withPatch(t: Transition, patch: StatusPatch): Transition {
  if (t.kind === "idle") return t;
  return { ...t, patch: { ...patch, ...t.patch } };
}
