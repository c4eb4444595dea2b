/**
 * What one reconcile of a HostPatch reads, and what a phase says it needs. A phase declares its
 * needs from (spec, status); the reconciler reads exactly that once, and the decision reads only it.
 */
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlanSpec } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import type {
  CephState,
  ClusterObservation,
  NodeObservation,
  Observed,
  PveTask,
} from "../../src/pve/index.js";
import type { JobStatus } from "../../src/ssh/index.js";
import type { WindowSpec } from "../../src/schedule/index.js";
import type { Timing } from "../context.js";
import type { EvacGuest } from "./evacuation-plan.js";
import type { Status } from "./transition.js";

export interface Needs {
  /** `apt-get update` first (Preflight: the pending list must be today's). */
  refreshIndex?: boolean;
  /** The batched node observation; `mayBeDown` when an unreachable node is an answer (a reboot). */
  node?: { pendingUpdates: boolean; mayBeDown?: boolean };
  /** The cluster as seen from a node other than this one where possible. */
  cluster?: boolean;
  /** The cluster too, for the quorum watch: when no node answers, nothing is read and nothing thrown. */
  watchQuorum?: boolean;
  /** This host's guests with their configs (to plan an evacuation). */
  guests?: boolean;
  /** Job states, by id, on the named host. */
  jobs?: { on: string; id: string }[];
  /** `systemctl is-active` of these units on this host. */
  services?: readonly string[];
  /** A guest's tasks (running and finished) on the named node: to prove a migration by its task. */
  tasks?: { on: string; vmid: number }[];
  /** Whether the cluster runs Ceph and its health, read on this host. */
  ceph?: boolean;
}

export type Readout<T> = { ok: true; value: T } | { ok: false; reason: string; message: string };

export interface Observation {
  index?: Readout<true>;
  node?: Readout<NodeObservation>;
  cluster?: ClusterObservation;
  guests?: EvacGuest[];
  jobs: Record<string, JobStatus>;
  services?: Readout<Record<string, string>>;
  /** By `taskKey(on, vmid)`. */
  tasks?: Record<string, Readout<readonly PveTask[]>>;
  ceph?: Observed<CephState>;
}

export function taskKey(on: string, vmid: number): string {
  return `${on}/${vmid}`;
}

export type Turn = { ok: true } | { ok: false; message: string };

/** Other nodes' migrations of this cluster that have not ended (turn.ts movesInFlight). */
export interface MovesInFlight {
  /** How many of them run now: lanes of spec.evacuation.maxParallelMigrations they take. */
  lanes: number;
  /** `back`: a guest going home (the owner is Restoring); otherwise leaving a node to be rebooted. */
  moves: {
    vmid: number;
    from: string;
    to: string;
    running: boolean;
    back: boolean;
    owner: string;
    /** Asked of HA (`ha-manager migrate`): HA's LRM on `from` bounds how many run at once. */
    ha: boolean;
  }[];
}

/** Everything a decision reads; no I/O happens behind any of it. */
export interface PatchContext {
  hp: Pick<HostPatch, "spec" | "metadata">;
  host: string;
  planName: string;
  spec: HostPatchPlanSpec;
  cluster: Pick<ProxmoxCluster, "metadata" | "spec">;
  status: Readonly<Status>;
  now: number;
  timing: Timing;
  /** Why no new step may start (kill switch, suspend), if so. */
  halt?: { reason: string; message: string };
  schedule: { windows: WindowSpec[]; blackouts: WindowSpec[]; force: "windows" | "all" | false };
  /** Whether this node may take its turn at disruptive work now (order and maxUnavailable). */
  turn: Turn;
  /** Whether a prefetch download may start now (fewer than upgrade.prefetch.maxParallel run in the cluster); unset: never (a dry run). */
  prefetchSlot?: boolean;
  /** Other nodes' migrations not yet ended (a previous node's guests moving back); unset: none. */
  movesInFlight?: MovesInFlight;
  /** Nodes of this cluster already patched in this cycle (preferred migration targets). */
  patchedNodes: readonly string[];
  /** What ProxmoxCluster last published about this node, when fresh (within its observeInterval). */
  published?: { pendingUpdates?: number; rebootRequired?: boolean; observedAt: string };
}

export function emptyObservation(): Observation {
  return { jobs: {} };
}

/** The node observation, when it was read. */
export function nodeObs(obs: Observation): NodeObservation | undefined {
  return obs.node?.ok ? obs.node.value : undefined;
}
