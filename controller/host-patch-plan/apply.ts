/**
 * The one applier of the HostPatchPlan reconciler. Per reconcile it: sets the phase and the status
 * fields the transition names, derives Ready / Reconciling / Stalled and `status.outcome` from the
 * verdict (verdict.ts), records the intent with a single status write, logs one line, and only then
 * performs the transition's action. A crash after the write leaves the intent on status; the next
 * reconcile sees it and does what is still missing (the decisions are level-triggered).
 */
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { Deps } from "../context.js";
import { writeCycleReport } from "../reports/cycle-report.js";
import { applyConditions } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileResult } from "../runtime/manager.js";
import { AlreadyExistsError, NotFoundError } from "../runtime/store.js";
import { inCycle, summaryOf } from "./cycle.js";
import { generationOf } from "./decide.js";
import { stallSeverity } from "./stall-severity.js";
import { mutexKey, type World } from "./observe.js";
import { childName, childSpec, newChild } from "./targets.js";
import type { Action, ChildPlan, PlanStatus, StatusChange, Transition } from "./types.js";
import { conditionsOf, outcomeOf } from "./verdict.js";

export type Applicable = Exclude<Transition, { kind: "askMutex" }>;

function patch(s: PlanStatus, change: StatusChange | undefined): void {
  for (const [k, v] of Object.entries(change ?? {})) {
    if (v === undefined) delete (s as Record<string, unknown>)[k];
    else (s as Record<string, unknown>)[k] = v;
  }
}

/** The next status, in place: phase, the transition's fields, conditions, outcome. */
export function nextStatus(plan: HostPatchPlan, t: Applicable, nowMs: number): PlanStatus {
  const s: PlanStatus = (plan.status ??= {});
  const generation = generationOf(plan);
  const phase = t.kind === "wait" ? s.phase : (t.phase ?? s.phase);
  if (phase !== undefined) s.phase = phase;
  patch(s, t.status);
  applyConditions(s, conditionsOf(t.verdict, inCycle(s)), generation, nowMs);
  s.outcome = outcomeOf(s.outcome, t.verdict.outcome, s.cycle, generation, nowMs);
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
  if (action?.kind === "finishCycle" && world.cluster) {
    // The report is written first: the status that ends the cycle names it.
    const mine = world.children.filter((c) => c.spec.cycle === s.cycle);
    const startedAt = s.lastCycle?.startedAt ?? new Date(now).toISOString();
    const finishedAt = s.lastCycle?.finishedAt ?? new Date(now).toISOString();
    const reportPath = await writeCycleReport(deps, plan, world.cluster, mine, startedAt, finishedAt);
    s.lastCycle = { startedAt, finishedAt, reportPath };
  }
  keepMutex(deps, plan, t);
  const saved = await deps.store.updateStatus(plan);
  const changed = before !== JSON.stringify(s);
  ctx.log[action || changed ? "info" : "debug"](
    {
      plan: plan.metadata.name,
      cluster: world.cluster?.metadata.name,
      cycle: s.cycle,
      phase: s.phase,
      outcome: s.outcome?.state,
      reason: t.verdict.reason,
      ...(action ? { action: action.kind } : {}),
      ...(action?.kind === "finishCycle" ? { report: s.lastCycle?.reportPath } : {}),
    },
    lineOf(s, t),
  );
  // A stopping controller does not start the action; the recorded intent is done on the next run.
  if (action && !ctx.signal.aborted) await perform(deps, { ...world, plan: saved }, action);
  return { requeueAfter: t.requeueAfter };
}

function lineOf(s: PlanStatus, t: Applicable): string {
  if (t.kind !== "act") return t.verdict.message;
  switch (t.action.kind) {
    case "startCycle":
      return `cycle started over ${t.action.hosts.join(", ") || "no host"}`;
    case "finishCycle":
      return `cycle finished: ${summaryOf(s)}`;
    default:
      return t.verdict.message;
  }
}

/**
 * A plan holds its mutex for a whole cycle (again after a restart), keeps its place in line while it
 * waits for it, and gives both up otherwise: a plan outside its window or suspended blocks nobody.
 */
function keepMutex(deps: Deps, plan: HostPatchPlan, t: Applicable): void {
  const key = mutexKey(plan);
  const name = plan.spec.mutex;
  if (!name) deps.mutexes.forget(key);
  else if (inCycle(plan.status)) deps.mutexes.acquire(name, key, deps.clock.now());
  else if (t.verdict.reason !== "MutexHeld" && !isFinish(t)) deps.mutexes.forget(key, name);
}

function isFinish(t: Applicable): boolean {
  return t.kind === "act" && t.action.kind === "finishCycle";
}

async function perform(deps: Deps, world: World, action: Action): Promise<void> {
  const { plan } = world;
  const cluster = world.cluster?.metadata.name ?? "";
  const notice = {
    plan: {
      kind: "HostPatchPlan" as const,
      name: plan.metadata.name,
      namespace: plan.metadata.namespace ?? "",
    },
    cluster,
  };
  const message = plan.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
  switch (action.kind) {
    case "startCycle":
      await putChildren(deps, plan, cluster, action.cycle, action.children);
      return deps.notifier.notify({
        ...notice,
        event: "PlanStarted",
        severity: "info",
        hosts: action.hosts,
        summary: `HostPatchPlan/${plan.metadata.name}: cycle ${action.cycle} started over ${action.hosts.join(", ") || "no host"}`,
      });
    case "ensureChildren":
      return putChildren(deps, plan, cluster, action.cycle, action.children);
    case "notifyStalled":
      return deps.notifier.notify({
        ...notice,
        event: "PlanStalled",
        severity: stallSeverity(plan),
        hosts: action.hosts,
        summary: `HostPatchPlan/${plan.metadata.name} stalled: ${message}`,
      });
    case "finishCycle":
      return finishCycle(deps, world, action, notice, message);
  }
}

async function finishCycle(
  deps: Deps,
  world: World,
  action: Action & { kind: "finishCycle" },
  notice: { plan: { kind: "HostPatchPlan"; name: string; namespace: string }; cluster: string },
  message: string,
): Promise<void> {
  const { plan } = world;
  const s = plan.status ?? {};
  if (plan.spec.mutex) deps.mutexes.release(plan.spec.mutex, mutexKey(plan));
  if (action.result === "Stalled") {
    if (!action.notifyStalled) return;
    await deps.notifier.notify({
      ...notice,
      event: "PlanStalled",
      severity: stallSeverity(plan),
      hosts: action.failed,
      summary: `HostPatchPlan/${plan.metadata.name} stalled: ${message}`,
    });
    return;
  }
  await deps.notifier.notify({
    ...notice,
    event: "PlanSucceeded",
    severity: "info",
    hosts: s.cycleHosts ?? world.children.map((c) => c.spec.host),
    summary: `HostPatchPlan/${plan.metadata.name}: ${summaryOf(s)}`,
    details: { report: s.lastCycle?.reportPath },
  });
}

/** Creates, moves and deletes children so each host of `cycle` has one of that cycle. Idempotent. */
async function putChildren(
  deps: Deps,
  plan: HostPatchPlan,
  cluster: string,
  cycle: string,
  p: ChildPlan,
): Promise<void> {
  const { store } = deps;
  const ns = plan.metadata.namespace ?? "";
  const uid = plan.metadata.uid ?? "";
  for (const host of p.create) {
    await store.create(newChild(plan, uid, cluster, host, cycle)).catch(ignore(AlreadyExistsError));
  }
  for (const host of p.move) {
    const child: HostPatch | undefined = await store.get("HostPatch", ns, childName(plan, host));
    if (child && child.spec.cycle !== cycle)
      await store.update({ ...child, spec: childSpec(plan, cluster, host, cycle) });
  }
  for (const name of p.remove) await store.delete("HostPatch", ns, name).catch(ignore(NotFoundError));
}

/** Another writer got there first: the next reconcile sees what it did. */
function ignore(kind: abstract new (...args: never[]) => Error) {
  return (err: unknown): void => {
    if (!(err instanceof kind)) throw err;
  };
}
