/**
 * The vocabulary of the HostPatchPlan reconciler: what it observed, and the transition a pure
 * decision returns for the applier to carry out.
 */
import type { HostPatchPhase } from "../../src/api/host-patch.js";
import type { HostPatchPlan, PlanOutcomeState } from "../../src/api/host-patch-plan.js";
import type { AfterResult, GateResult } from "../../src/schedule/index.js";
import type { HaltState } from "../runtime/kill-switch.js";

export type PlanStatus = NonNullable<HostPatchPlan["status"]>;
export type PlanPhase = NonNullable<PlanStatus["phase"]>;

/** One HostPatch of the plan as the decisions see it. */
export interface ChildView {
  name: string;
  host: string;
  /** The cycle its spec belongs to. */
  cycle: string;
  /** Its status phase as stored (undefined: no status yet). */
  phase: HostPatchPhase | undefined;
  /** Whether the status was written for the current spec (observedGeneration has caught up). */
  current: boolean;
  message?: string;
  /** Its lastError reason (why it failed or was blocked). */
  reason?: string;
}

/** Whether the plan's mutex is its own: asked only between cycles once every earlier gate is open. */
export type MutexView = { acquired: true } | { acquired: false; holder: string | undefined };

/** Everything one reconcile read, for the decisions. */
export interface Observation {
  now: number;
  /** The plan's cluster; undefined when it does not exist. */
  cluster: { name: string; observeIntervalMs: number } | undefined;
  /** The hosts the plan's targets select now, in name order. */
  selected: string[];
  /** The plan's HostPatch children, whatever their cycle. */
  children: ChildView[];
  /** The kill switch, then the cluster's and the plan's `suspend`. */
  halt: HaltState;
  /** Between cycles: the windows and blackouts (src/schedule scheduleGate). */
  gate?: GateResult;
  /** Between cycles: the `after` ordering (src/schedule afterGate). */
  after?: AfterResult;
  /** Between cycles, asked last: the mutex. Undefined until asked. */
  mutex?: MutexView;
}

/** How often the decisions look again, in clock ms. */
export interface DecideTiming {
  waitMs: number;
  idleMs: number;
}

/** How the plan stands after this step: the outcome, and the reason and message of its conditions. */
export interface Verdict {
  outcome: PlanOutcomeState;
  /** One CamelCase word: the reason of Ready (and of Reconciling / Stalled when they are present). */
  reason: string;
  message: string;
}

/** Children to put in place for a cycle: hosts to create, hosts moved to the cycle, names to delete. */
export interface ChildPlan {
  create: string[];
  move: string[];
  remove: string[];
}

export type Action =
  /** Record the cycle and its hosts (one status write), then put its children in place. */
  | { kind: "startCycle"; cycle: string; hosts: string[]; request?: string; children: ChildPlan }
  /** A cycle in progress lacks children of this cycle for some of its hosts: make them. */
  | { kind: "ensureChildren"; cycle: string; children: ChildPlan }
  /** A host failed: say so once (PlanStalled) while the steps in flight finish. */
  | { kind: "notifyStalled"; hosts: string[] }
  /** Every host has ended (or one failed and none is mid-step): report, release, notify. */
  | { kind: "finishCycle"; result: "Succeeded" | "Stalled"; notifyStalled: boolean; failed: string[] };

/** Status fields a transition sets; a field given as undefined is removed. */
export type StatusChange = Partial<Omit<PlanStatus, "conditions" | "observedGeneration" | "outcome">>;

interface Step {
  verdict: Verdict;
  requeueAfter: number;
  status?: StatusChange;
}

export type Transition =
  /** Move to another phase and look again later. */
  | (Step & { kind: "goTo"; phase: PlanPhase })
  /** Stay in this phase and look again later. */
  | (Step & { kind: "wait" })
  /** Do one thing (recorded first), then look again later. */
  | (Step & { kind: "act"; action: Action; phase?: PlanPhase })
  /** Every gate before the mutex is open: ask for it and decide again. */
  | { kind: "askMutex" };
