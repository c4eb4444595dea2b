/**
 * The one applier of the GuestUpdatePlan reconciler. Per reconcile it sets the phase and the status
 * fields the transition names, derives the conditions and outcome (verdict.ts, conflicts included),
 * records the intent with a single status write (a container is recorded as started before its
 * GuestUpdate is made), logs one line, and only then performs the action. A crash after the write
 * leaves the intent on status; the next reconcile makes what is missing.
 */
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { guestUpdatePlanStatus, type GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import type { Severity } from "../../src/api/plan-common.js";
import type { Deps, PlanNotice } from "../context.js";
import { applyConditions } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileResult } from "../runtime/manager.js";
import { AlreadyExistsError, NotFoundError } from "../runtime/store.js";
import { inCycle, summaryOf } from "./cycle.js";
import { generationOf } from "./decide.js";
import { mutexKey, type World } from "./observe.js";
import { effectivePolicy } from "./policy.js";
import { buildGuestCycleReport, writeGuestCycleReport } from "./report.js";
import { newChild } from "./targets.js";
import type { Action, PlanStatus, StatusChange, Transition } from "./types.js";
import { conditionsOf, outcomeOf, withConflicts } from "./verdict.js";

export type Applicable = Exclude<Transition, { kind: "ask" }>;

/** Lines of a failing container's output a degraded-cycle notice carries. */
const LOG_LINES = 20;

function patch(s: PlanStatus, change: StatusChange | undefined): void {
  for (const [k, v] of Object.entries(change ?? {})) {
    if (v === undefined) delete (s as Record<string, unknown>)[k];
    else (s as Record<string, unknown>)[k] = v;
  }
}

/** The next status, in place: phase, the transition's fields, conditions, outcome. */
export function nextStatus(plan: GuestUpdatePlan, t: Applicable, nowMs: number): PlanStatus {
  const s: PlanStatus = (plan.status ??= guestUpdatePlanStatus.parse({}));
  const generation = generationOf(plan);
  if (t.kind !== "wait" && t.phase !== undefined) s.phase = t.phase;
  patch(s, t.status);
  const verdict = withConflicts(t.verdict, s.conflicts);
  applyConditions(s, conditionsOf(verdict, inCycle(s)), generation, nowMs);
  s.outcome = outcomeOf(s.outcome, verdict.outcome, s.currentCycle ?? s.lastCycle?.id, generation, nowMs);
  s.observedGeneration = generation;
  return s;
}

export async function apply(
  deps: Deps,
  ctx: ReconcileContext,
  world: World,
  t: Applicable,
): Promise<ReconcileResult> {
  const { plan } = world;
  const before = JSON.stringify(plan.status ?? {});
  const now = deps.clock.now();
  const s = nextStatus(plan, t, now);
  const action = t.kind === "act" ? t.action : undefined;
  if (action?.kind === "finishCycle") {
    // The report is written first: the status that ends the cycle names it.
    const startedAt = s.lastCycle?.startedAt ?? new Date(now).toISOString();
    const finishedAt = s.lastCycle?.finishedAt ?? new Date(now).toISOString();
    const report = buildGuestCycleReport(
      plan,
      world.cluster?.metadata.name ?? plan.spec.clusterRef.name,
      action.cycle,
      world.children,
      startedAt,
      finishedAt,
    );
    const reportPath = await writeGuestCycleReport(deps.stateDir, report);
    s.lastCycle = { ...(s.lastCycle ?? { startedAt }), id: action.cycle, finishedAt, reportPath };
  }
  keepMutex(deps, plan, t);
  const saved = await deps.store.updateStatus(plan);
  const changed = before !== JSON.stringify(s);
  ctx.log[action || changed ? "info" : "debug"](
    {
      plan: plan.metadata.name,
      cluster: world.cluster?.metadata.name,
      cycle: s.currentCycle ?? s.lastCycle?.id,
      phase: s.phase,
      outcome: s.outcome?.state,
      reason: t.verdict.reason,
      ...(action ? { action: action.kind } : {}),
      ...(action?.kind === "startTargets" ? { vmids: action.vmids } : {}),
    },
    t.verdict.message,
  );
  // A stopping controller does not start the action; the recorded intent is done on the next run.
  if (action && !ctx.signal.aborted) await perform(deps, { ...world, plan: saved }, action);
  return { requeueAfter: t.requeueAfter };
}

/** A plan holds its mutex for a whole cycle, keeps its place while it waits, and gives both up otherwise. */
function keepMutex(deps: Deps, plan: GuestUpdatePlan, t: Applicable): void {
  const key = mutexKey(plan);
  const name = plan.spec.mutex;
  if (!name) deps.mutexes.forget(key);
  else if (inCycle(plan.status)) deps.mutexes.acquire(name, key, deps.clock.now());
  else if (t.verdict.reason !== "MutexHeld" && !(t.kind === "act" && t.action.kind === "finishCycle"))
    deps.mutexes.forget(key, name);
}

function noticeBase(world: World): Pick<PlanNotice, "plan" | "cluster"> {
  const { plan } = world;
  return {
    plan: { kind: "GuestUpdatePlan", name: plan.metadata.name, namespace: plan.metadata.namespace ?? "" },
    cluster: world.cluster?.metadata.name ?? plan.spec.clusterRef.name,
  };
}

async function perform(deps: Deps, world: World, action: Action): Promise<void> {
  const { plan } = world;
  const name = `GuestUpdatePlan/${plan.metadata.name}`;
  const message = plan.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
  switch (action.kind) {
    case "startCycle":
      // A cycle over no container is not news (plans look again every observeInterval).
      if (action.targets.length === 0) return;
      return deps.notifier.notify({
        ...noticeBase(world),
        event: "PlanStarted",
        severity: "info",
        hosts: action.targets.map((x) => String(x.vmid)),
        summary: `${name}: ${message}`,
      });
    case "startTargets":
    case "ensureChildren":
      return putChildren(deps, world, action.cycle, action.vmids);
    case "notifyStalled":
      return deps.notifier.notify({
        ...noticeBase(world),
        event: "PlanStalled",
        severity: "error",
        hosts: action.vmids.map(String),
        summary: `${name} stalled: ${message}`,
      });
    case "finishCycle":
      return finishCycle(deps, world, action);
  }
}

async function finishCycle(
  deps: Deps,
  world: World,
  action: Action & { kind: "finishCycle" },
): Promise<void> {
  const { plan } = world;
  const s = plan.status;
  if (plan.spec.mutex) deps.mutexes.release(plan.spec.mutex, mutexKey(plan));
  const name = `GuestUpdatePlan/${plan.metadata.name}`;
  const report = s?.lastCycle?.reportPath;
  const failing = failingDetails(world.children, action.cycle, action.failed);
  if (action.result === "Stalled") {
    if (!action.notifyStalled) return;
    await deps.notifier.notify({
      ...noticeBase(world),
      event: "PlanStalled",
      severity: "error",
      hosts: action.failed.map(String),
      summary: `${name} stalled: ${s?.conditions?.find((c) => c.type === "Ready")?.message ?? ""}`,
      details: { report, failing },
    });
    return;
  }
  // Success is one compressed line; a degraded cycle names its failing containers with their last lines.
  const degraded = action.failed.length > 0;
  const c = s?.counts;
  // Nothing updated, nothing wrong (every container up to date): no notice, the report has it.
  if (!degraded && c && c.succeeded + c.blocked + c.notStarted === 0) return;
  const severity: Severity = degraded ? "warning" : "info";
  await deps.notifier.notify({
    ...noticeBase(world),
    event: "PlanSucceeded",
    severity,
    hosts: (s?.cycleTargets ?? []).map((x) => String(x.vmid)),
    summary: `${name}: ${degraded ? "degraded: " : ""}${summaryOf(s?.counts ?? {})}${degraded ? `; failing: ${action.failed.join(", ")}` : ""}`,
    details: { report, ...(degraded ? { failing } : {}) },
  });
}

function failingDetails(
  children: readonly GuestUpdate[],
  cycle: string,
  vmids: readonly number[],
): Record<string, { phase?: string; reason?: string; message?: string; log?: string[] }> {
  const out: Record<string, { phase?: string; reason?: string; message?: string; log?: string[] }> = {};
  for (const vmid of vmids) {
    const c = children.find((x) => x.spec.cycle === cycle && x.spec.vmid === vmid);
    const tail = [...(c?.status?.runners ?? [])].reverse().find((r) => r.logTail)?.logTail;
    out[String(vmid)] = {
      ...(c?.status?.phase ? { phase: c.status.phase } : {}),
      ...(c?.status?.lastError
        ? { reason: c.status.lastError.reason, message: c.status.lastError.message }
        : {}),
      ...(tail ? { log: tail.trimEnd().split("\n").slice(-LOG_LINES) } : {}),
    };
  }
  return out;
}

/**
 * Makes the GuestUpdate of each container of `cycle` in `vmids`, with the effective policy fixed now.
 * Ended GuestUpdates of earlier cycles for those containers are deleted first (one per container);
 * one still in flight is never touched. Idempotent.
 */
async function putChildren(deps: Deps, world: World, cycle: string, vmids: readonly number[]): Promise<void> {
  const { plan } = world;
  const { store } = deps;
  const ns = plan.metadata.namespace ?? "";
  const cluster = world.cluster?.metadata.name ?? plan.spec.clusterRef.name;
  const targets = plan.status?.cycleTargets ?? [];
  for (const vmid of vmids) {
    const target = targets.find((x) => x.vmid === vmid);
    if (!target) continue;
    for (const old of world.children.filter((c) => c.spec.vmid === vmid && c.spec.cycle !== cycle)) {
      if (isEnded(old)) await store.delete("GuestUpdate", ns, old.metadata.name).catch(ignore(NotFoundError));
    }
    const policy = target.policy ? world.policies.find((p) => p.metadata.name === target.policy) : undefined;
    await store
      .create(newChild(plan, cluster, target, cycle, effectivePolicy(plan, policy)))
      .catch(ignore(AlreadyExistsError));
  }
}

const ENDED = new Set(["Succeeded", "Skipped", "Failed", "RolledBack", "Blocked"]);

function isEnded(c: GuestUpdate): boolean {
  return c.status?.phase !== undefined && ENDED.has(c.status.phase);
}

function ignore(kind: abstract new (...args: never[]) => Error) {
  return (err: unknown): void => {
    if (!(err instanceof kind)) throw err;
  };
}
