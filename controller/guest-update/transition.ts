/**
 * What a guest update phase decides: a pure value the applier carries out. A decision never
 * performs I/O; it reads (spec, status, observation) and says where to go, why to wait, why it
 * failed, or which actions to take with the intent (a status patch) written before them.
 */
import type { GuestUpdate, GuestUpdatePhase } from "../../src/api/guest-update.js";
import type { PlanNotice } from "../context.js";
import type { RemoteCommand } from "./commands.js";

export type Status = NonNullable<GuestUpdate["status"]>;

/** The status of an update no reconcile has written yet. */
export function emptyStatus(): Status {
  return { phase: "Pending", runners: [], healthBaseline: [], healthResults: [] };
}

/** Fields to set; a key whose value is `undefined` is removed from status. */
export type StatusPatch = { [K in keyof Status]?: Status[K] | undefined };

export interface HistoryNote {
  step: string;
  outcome: "started" | "done" | "failed" | "skipped" | "blocked";
  message?: string;
  extra?: Record<string, unknown>;
}

export type Action =
  | { type: "run"; command: RemoteCommand; what: string; tolerateFailure?: boolean }
  | { type: "notify"; notice: Omit<PlanNotice, "plan" | "cluster" | "hosts"> };

/** When to look again: now, after the poll or wait interval, never, or after `ms`. */
export type Requeue = "now" | "poll" | "wait" | "never" | { ms: number };

interface Common {
  patch?: StatusPatch;
  notes?: HistoryNote[];
  requeue?: Requeue;
  /** Sent after the status is written (a final phase's notice). */
  notices?: Extract<Action, { type: "notify" }>[];
}

export type Transition =
  | (Common & { kind: "goto"; phase: GuestUpdatePhase; message: string; reason?: string })
  | (Common & { kind: "wait"; reason: string; message: string })
  | (Common & { kind: "fail"; reason: string; message: string })
  | (Common & { kind: "act"; actions: Action[]; phase?: GuestUpdatePhase; message?: string; reason?: string })
  | { kind: "idle" };

export const goto = (
  phase: GuestUpdatePhase,
  message: string,
  extra: Common & { reason?: string } = {},
): Transition => ({ kind: "goto", phase, message, requeue: "now", ...extra });

export const wait = (reason: string, message: string, extra: Common = {}): Transition => ({
  kind: "wait",
  reason,
  message,
  requeue: "wait",
  ...extra,
});

/** Stay, and look again after the poll interval (a job in progress). */
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
  extra: Common & { phase?: GuestUpdatePhase; message?: string; reason?: string } = {},
): Transition => ({ kind: "act", actions, requeue: "poll", ...extra });

export const run = (command: RemoteCommand, what: string, tolerateFailure = false): Action => ({
  type: "run",
  command,
  what,
  ...(tolerateFailure ? { tolerateFailure } : {}),
});

export const notify = (
  notice: Extract<Action, { type: "notify" }>["notice"],
): Extract<Action, { type: "notify" }> => ({
  type: "notify",
  notice,
});

/** The transition with `patch` written first (its own patch wins where both set a field). */
export function withPatch(t: Transition, patch: StatusPatch): Transition {
  if (t.kind === "idle") return t;
  return { ...t, patch: { ...patch, ...t.patch } };
}
