/**
 * Condition helpers that keep status readable by kstatus (`kubectl wait`, Flux, Argo CD):
 * `Ready` always present; `Reconciling` and `Stalled` present only while True; `observedGeneration`
 * on the status and on each condition; `lastTransitionTime` moves only when the status flips;
 * `reason` is one CamelCase word. The helpers change `status` in place and return it.
 */
import type { Condition } from "../../src/api/meta.js";

export type ConditionStatus = Condition["status"];

export interface StatusWithConditions {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ConditionInput {
  status: ConditionStatus;
  reason: string;
  message?: string;
}

export type AbnormalConditionInput = Omit<ConditionInput, "status"> & { status?: ConditionStatus };

export const READY = "Ready";
export const RECONCILING = "Reconciling";
export const STALLED = "Stalled";

const CAMEL_WORD = /^[A-Z][A-Za-z0-9]*$/;

export function assertReason(reason: string): void {
  if (!CAMEL_WORD.test(reason)) {
    throw new TypeError(
      `condition reason ${JSON.stringify(reason)} is not one CamelCase word (e.g. "UpgradeFailed"); put details in the message`,
    );
  }
}

function iso(now: number): string {
  return new Date(now).toISOString();
}

export function getCondition(status: StatusWithConditions | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

function put(
  status: StatusWithConditions,
  type: string,
  input: ConditionInput,
  generation: number,
  now: number,
): StatusWithConditions {
  assertReason(input.reason);
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((c) => c.type === type);
  const next: Condition = {
    type,
    status: input.status,
    reason: input.reason,
    message: input.message ?? "",
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : iso(now),
    observedGeneration: generation,
  };
  if (existing) conditions[conditions.indexOf(existing)] = next;
  else conditions.push(next);
  status.observedGeneration = generation;
  return status;
}

function remove(status: StatusWithConditions, type: string): StatusWithConditions {
  if (status.conditions) status.conditions = status.conditions.filter((c) => c.type !== type);
  return status;
}

/** A status without Ready gets Ready=Unknown, so Ready is present from the first write on. */
function ensureReady(
  status: StatusWithConditions,
  reason: string,
  message: string,
  generation: number,
  now: number,
) {
  if (!getCondition(status, READY))
    put(status, READY, { status: "Unknown", reason, message }, generation, now);
}

export function setReady(
  status: StatusWithConditions,
  input: ConditionInput,
  generation: number,
  now: number,
): StatusWithConditions {
  return put(status, READY, input, generation, now);
}

function setAbnormal(
  type: string,
  status: StatusWithConditions,
  input: AbnormalConditionInput,
  generation: number,
  now: number,
): StatusWithConditions {
  assertReason(input.reason);
  if ((input.status ?? "True") !== "True") return remove(status, type);
  put(status, type, { status: "True", reason: input.reason, message: input.message }, generation, now);
  ensureReady(status, input.reason, input.message ?? "", generation, now);
  return status;
}

/** Work is in progress toward the spec. Status other than True (default True) removes the condition. */
export function setReconciling(
  status: StatusWithConditions,
  input: AbnormalConditionInput,
  generation: number,
  now: number,
): StatusWithConditions {
  return setAbnormal(RECONCILING, status, input, generation, now);
}

/** Progress stopped and needs a person. Status other than True (default True) removes the condition. */
export function setStalled(
  status: StatusWithConditions,
  input: AbnormalConditionInput,
  generation: number,
  now: number,
): StatusWithConditions {
  return setAbnormal(STALLED, status, input, generation, now);
}

export function clearReconciling(status: StatusWithConditions): StatusWithConditions {
  return remove(status, RECONCILING);
}

export function clearStalled(status: StatusWithConditions): StatusWithConditions {
  return remove(status, STALLED);
}

/**
 * Ready=True; with `generation`, also only when that condition was computed for this generation
 * (kstatus "Current").
 */
export function isReady(status: StatusWithConditions | undefined, generation?: number): boolean {
  const ready = getCondition(status, READY);
  if (!ready || ready.status !== "True") return false;
  return generation === undefined || ready.observedGeneration === generation;
}

/** Every kstatus rule a status breaks, as sentences; empty when it follows them all. */
export function conditionProblems(status: StatusWithConditions | undefined): string[] {
  const problems: string[] = [];
  const conditions = status?.conditions ?? [];
  if (!conditions.some((c) => c.type === READY)) problems.push("Ready condition is missing");
  const seen = new Set<string>();
  for (const c of conditions) {
    if (seen.has(c.type)) problems.push(`${c.type} appears more than once`);
    seen.add(c.type);
    if ((c.type === RECONCILING || c.type === STALLED) && c.status !== "True")
      problems.push(`${c.type} is ${c.status}; it must be removed instead`);
    if (!CAMEL_WORD.test(c.reason))
      problems.push(`${c.type} reason ${JSON.stringify(c.reason)} is not CamelCase`);
    if (c.observedGeneration === undefined) problems.push(`${c.type} has no observedGeneration`);
  }
  if (conditions.length > 0 && status?.observedGeneration === undefined)
    problems.push("status.observedGeneration is missing");
  return problems;
}

/** The whole kstatus picture of an object at once: Ready, and Reconciling / Stalled when true. */
export interface ConditionSummary {
  ready: ConditionInput;
  reconciling?: Omit<ConditionInput, "status">;
  stalled?: Omit<ConditionInput, "status">;
}

/**
 * Writes Ready and sets or removes Reconciling and Stalled from one summary, so an applier derives
 * all three in one place and a condition from an earlier step is never left behind.
 */
export function applyConditions(
  status: StatusWithConditions,
  summary: ConditionSummary,
  generation: number,
  now: number,
): StatusWithConditions {
  setReady(status, summary.ready, generation, now);
  if (summary.reconciling) setReconciling(status, summary.reconciling, generation, now);
  else clearReconciling(status);
  if (summary.stalled) setStalled(status, summary.stalled, generation, now);
  else clearStalled(status);
  return status;
}
