/**
 * The vocabulary of the GuestUpdatePlan reconciler: what it observed, and the transition a pure
 * decision returns for the applier to carry out.
 */
import type { GuestUpdatePhase } from "../../src/api/guest-update.js";
import type { GuestUpdatePlan, GuestUpdatePlanPhase } from "../../src/api/guest-update-plan.js";
import type { PlanOutcomeState } from "../../src/api/host-patch-plan.js";
import type { AfterResult, GateResult } from "../../src/schedule/index.js";
import type { HaltState } from "../runtime/kill-switch.js";
import type { Selection } from "./selection.js";

export type PlanStatus = NonNullable<GuestUpdatePlan["status"]>;
export type PlanPhase = GuestUpdatePlanPhase;
export type CycleTarget = NonNullable<PlanStatus["cycleTargets"]>[number];
export type Conflict = NonNullable<PlanStatus["conflicts"]>[number];

/** One GuestUpdate of the plan as the decisions see it. */
export interface ChildView {
  name: string;
  vmid: number;
  cycle: string;
  /** Where the container is now: the child's status.node, else the node it was created for. */
  node: string;
  /** Its status phase as stored (undefined: no status yet). */
  phase: GuestUpdatePhase | undefined;
  /** Whether the status was written for the current spec (observedGeneration has caught up). */
  current: boolean;
  message?: string;
  /** Its lastError reason, when it has one. */
  reason?: string;
  /**
   * Failed under rollback policy Manual with its backup kept and not restored: the container waits
   * for an operator (`refit rollback`, or a new `refit.dev/requested-at` on the plan to go on).
   */
  awaitsOperator?: boolean;
}

/** Whether the plan's mutex is its own. */
export type MutexView = { acquired: true } | { acquired: false; holder: string | undefined };

/** The selection, or why it could not be read (fail closed: no cycle starts). */
export type SelectionView = { ok: true; selection: Selection } | { ok: false; message: string };

/** A partial run (`refit run --plan NAME --vmid …`): a one-off request for some containers. */
export interface PartialRequest {
  /** The containers asked for; absent: every container the plan selects. */
  vmids?: number[];
  /** When it was asked for: echoed as status.lastHandledRequestAt once its cycle started. */
  requestedAt: string;
}

/** Everything one reconcile read, for the decisions. */
export interface Observation {
  now: number;
  cluster: { name: string; observeIntervalMs: number } | undefined;
  /** The plan's GuestUpdate children, whatever their cycle. */
  children: ChildView[];
  /** The kill switch, then the cluster's and the plan's `suspend`. */
  halt: HaltState;
  /** The windows and blackouts now: between cycles they gate the start, in a cycle each new start. */
  gate?: GateResult;
  /** Between cycles: the `after` ordering. */
  after?: AfterResult;
  /** Between cycles, asked once every earlier gate is open. */
  selection?: SelectionView;
  /** Between cycles, asked last. */
  mutex?: MutexView;
  partial?: PartialRequest;
}

export interface DecideTiming {
  waitMs: number;
  idleMs: number;
}

export interface Verdict {
  outcome: PlanOutcomeState;
  /** One CamelCase word. */
  reason: string;
  message: string;
}

export type Action =
  /** Record the cycle and its targets (one status write); no container starts yet. */
  | { kind: "startCycle"; cycle: string; targets: CycleTarget[]; request?: string }
  /** Record these containers as started (intent), then make their GuestUpdates. */
  | { kind: "startTargets"; cycle: string; vmids: number[] }
  /** Containers recorded as started lack their GuestUpdate (a crash in between): make them. */
  | { kind: "ensureChildren"; cycle: string; vmids: number[] }
  /** Failures went over maxFailures: say so once while the updates in flight finish. */
  | { kind: "notifyStalled"; vmids: number[] }
  /** Every container has ended (or none may start any more and none is in flight): report, notify. */
  | {
      kind: "finishCycle";
      cycle: string;
      result: "Succeeded" | "Stalled";
      notifyStalled: boolean;
      failed: number[];
    };

/** Status fields a transition sets; a field given as undefined is removed. */
export type StatusChange = Partial<Omit<PlanStatus, "conditions" | "observedGeneration" | "outcome">>;

interface Step {
  verdict: Verdict;
  requeueAfter: number;
  status?: StatusChange;
}

export type Transition =
  | (Step & { kind: "goTo"; phase: PlanPhase })
  | (Step & { kind: "wait" })
  | (Step & { kind: "act"; action: Action; phase?: PlanPhase })
  /** Every gate before it is open: read this, then decide again. */
  | { kind: "ask"; what: "selection" | "mutex" };
