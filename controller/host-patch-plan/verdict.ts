/**
 * From a verdict to what the plan's status says: the kstatus conditions and the outcome. The one
 * place they are derived, so Ready, Reconciling, Stalled and `status.outcome` never disagree.
 */
import type { PlanOutcomeState } from "../../src/api/host-patch-plan.js";
import type { ConditionSummary } from "../runtime/conditions.js";
import type { PlanStatus, Verdict } from "./types.js";

type Shape = "ready" | "reconciling" | "stalled" | "reconcilingInCycle";

/**
 * Which abnormal condition each outcome carries: Reconciling while the plan moves by itself, Stalled
 * while it needs a person. Halted and Suspended stop new steps: mid-cycle the steps in flight still
 * finish (Reconciling); between cycles nothing moves.
 */
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

export type PlanOutcome = NonNullable<PlanStatus["outcome"]>;

/** The outcome to record; `at` moves only when the state or the cycle changes. */
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
