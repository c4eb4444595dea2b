/**
 * From a verdict to what the plan's status says: the kstatus conditions and the outcome, derived in
 * one place so that Ready, Reconciling, Stalled and `status.outcome` never disagree.
 */
import type { PlanOutcomeState } from "../../src/api/host-patch-plan.js";
import type { ConditionSummary } from "../runtime/conditions.js";
import { conflictMessage } from "./selection.js";
import type { Conflict, PlanStatus, Verdict } from "./types.js";

type Shape = "ready" | "reconciling" | "stalled" | "reconcilingInCycle";

const SHAPE: Record<PlanOutcomeState, Shape> = {
  Converged: "ready",
  OutsideWindow: "ready",
  Progressing: "reconciling",
  Waiting: "reconciling",
  Failing: "stalled",
  Stalled: "stalled",
  Blocked: "stalled",
  NotHandled: "stalled",
  Halted: "reconcilingInCycle",
  Suspended: "reconcilingInCycle",
};

export function conditionsOf(verdict: Verdict, midCycle: boolean): ConditionSummary {
  const { reason, message } = verdict;
  const ready = { status: verdict.outcome === "Converged" ? "True" : "False", reason, message } as const;
  const shape = SHAPE[verdict.outcome];
  if (shape === "reconciling" || (shape === "reconcilingInCycle" && midCycle))
    return { ready, reconciling: { reason, message } };
  if (shape === "stalled") return { ready, stalled: { reason, message } };
  return { ready };
}

/**
 * Containers in conflict need a person to fix the desired state: whatever else the plan does for
 * its other containers, Ready says Conflict and names the other objects. A failure says more and
 * keeps its own reason.
 */
export function withConflicts(verdict: Verdict, conflicts: readonly Conflict[] | undefined): Verdict {
  if (!conflicts?.length) return verdict;
  if (verdict.outcome === "Failing" || verdict.outcome === "Stalled") return verdict;
  const outcome = verdict.outcome === "Converged" ? "Blocked" : verdict.outcome;
  return { outcome, reason: "Conflict", message: `${conflictMessage(conflicts)}; ${verdict.message}` };
}

export type PlanOutcome = NonNullable<PlanStatus["outcome"]>;

export function outcomeOf(
  previous: PlanOutcome | undefined,
  state: PlanOutcomeState,
  cycle: string | undefined,
  generation: number,
  nowMs: number,
): PlanOutcome {
  const same = previous !== undefined && previous.state === state && previous.cycle === cycle;
  return {
    state,
    ...(cycle !== undefined ? { cycle } : {}),
    generation,
    at: same ? previous.at : new Date(nowMs).toISOString(),
  };
}
