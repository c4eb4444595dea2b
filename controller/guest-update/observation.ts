/**
 * What one reconcile of a GuestUpdate reads, and what a phase says it needs. A phase declares its
 * needs from (spec, status); the reconciler reads exactly that, and the decision reads only it.
 */
import type { GuestUpdate, HealthResult, PendingPackage } from "../../src/api/guest-update.js";
import type { RunnerType } from "../../src/api/runners.js";
import type { DiskUsage, SnapshotList } from "../../src/pve/index.js";
import type { RunnerPlugin, RunnerTarget } from "../../src/runners/contract.js";
import type { JobStatus } from "../../src/ssh/index.js";
import type { Timing } from "../context.js";
import type { Status } from "./transition.js";

/** Which runner plugin handles a type; undefined when this build has none (the update is Blocked). */
export type RunnerLookup = (type: RunnerType) => RunnerPlugin | undefined;

/** Which list of checks a probe run takes. */
export type ProbeSet = "preflight" | "baseline" | "health";

export interface Needs {
  /** The container's status and config (running, lock, ostype, unprivileged). */
  guest?: boolean;
  /** The node's load per core. */
  load?: boolean;
  /** `df` of the container's root filesystem (it must run). */
  disk?: boolean;
  /** Every runner's detect, refresh and list steps inside the running container ("asIs": no refresh, for a dry run). */
  listing?: boolean | "asIs";
  /** `pct listsnapshot`. */
  snapshots?: boolean;
  /** Job states, by id, on the container's node. */
  jobs?: string[];
  /** Run these health checks now. */
  probes?: ProbeSet;
  /** The `installed` steps of the runner at this index (what it changed). */
  installed?: number;
  /** Whether /var/run/reboot-required exists inside the container. */
  rebootRequired?: boolean;
}

export type Readout<T> = { ok: true; value: T } | { ok: false; reason: string; message: string };

export interface GuestFacts {
  running: boolean;
  lock?: string;
  target: RunnerTarget;
}

export interface Listing {
  applies: boolean;
  pending: PendingPackage[];
}

export interface Observation {
  guest?: Readout<GuestFacts>;
  load?: Readout<{ perCore: number; cores: number }>;
  disk?: Readout<DiskUsage>;
  /** By runner index. */
  listing?: Record<number, Readout<Listing>>;
  snapshots?: Readout<SnapshotList>;
  jobs: Record<string, JobStatus>;
  probes?: HealthResult[];
  installed?: Readout<PendingPackage[]>;
  rebootRequired?: Readout<boolean>;
}

/** Everything a decision reads; no I/O happens behind any of it. */
export interface GuestContext {
  gu: Pick<GuestUpdate, "spec" | "metadata">;
  /** Node the container is on (status follows a migration; the spec's node otherwise). */
  node: string;
  status: Readonly<Status>;
  now: number;
  timing: Timing;
  runners: RunnerLookup;
  /** Why no new step may start (kill switch, suspend), if so. */
  halt?: { reason: string; message: string };
  /** An operator's rollback request (the refit.dev/rollback-* annotations), if any. */
  rollbackRequest?: { requestedAt: string; to?: string };
}

export function emptyObservation(): Observation {
  return { jobs: {} };
}

export function guestFacts(obs: Observation): GuestFacts | undefined {
  return obs.guest?.ok ? obs.guest.value : undefined;
}
