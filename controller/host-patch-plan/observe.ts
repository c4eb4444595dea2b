/**
 * What a HostPatchPlan reconcile reads: the plan's cluster and children, the halt state, and between
 * cycles the windows, `after` and (asked last, only when every earlier gate is open) the mutex.
 */
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { parseDuration } from "../../src/api/primitives.js";
import { LABEL_PLAN } from "../../src/api/version.js";
import { afterGate, scheduleGate, type AfterResult } from "../../src/schedule/index.js";
import type { Deps } from "../context.js";
import { planSchedule } from "../plan-scheduling.js";
import { haltState } from "../runtime/kill-switch.js";
import { inCycle } from "./cycle.js";
import { selectNodes } from "./targets.js";
import type { ChildView, MutexView, Observation } from "./types.js";

/** The objects behind an observation, for the applier. */
export interface World {
  plan: HostPatchPlan;
  cluster: ProxmoxCluster | undefined;
  children: HostPatch[];
}

export function mutexKey(plan: { metadata: { name: string; namespace?: string } }): string {
  return `HostPatchPlan/${plan.metadata.namespace ?? ""}/${plan.metadata.name}`;
}

export function childView(c: HostPatch): ChildView {
  const generation = c.metadata.generation ?? 1;
  return {
    name: c.metadata.name,
    host: c.spec.host,
    cycle: c.spec.cycle,
    phase: c.status?.phase,
    current: c.status !== undefined && (c.status.observedGeneration ?? generation) >= generation,
    ...(c.status?.message !== undefined ? { message: c.status.message } : {}),
    ...(c.status?.lastError?.reason !== undefined ? { reason: c.status.lastError.reason } : {}),
  };
}

export async function observe(deps: Deps, plan: HostPatchPlan): Promise<{ world: World; obs: Observation }> {
  const { store } = deps;
  const ns = plan.metadata.namespace ?? "";
  const now = deps.clock.now();
  const cluster = plan.spec.clusterRef
    ? await store.get("ProxmoxCluster", ns, plan.spec.clusterRef.name)
    : undefined;
  const children = (
    await store.list("HostPatch", { namespace: ns, labels: { [LABEL_PLAN]: plan.metadata.name } })
  )
    .filter((c) => c.spec.planRef.name === plan.metadata.name)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const obs: Observation = {
    now,
    cluster: cluster
      ? { name: cluster.metadata.name, observeIntervalMs: parseDuration(cluster.spec.observeInterval) }
      : undefined,
    selected: cluster ? selectNodes(plan, cluster) : [],
    children: children.map(childView),
    halt: await haltState(deps.killSwitch, plan, cluster),
  };
  if (cluster && plan.spec.profile === "pve" && !inCycle(plan.status)) {
    const schedule = await planSchedule(store, plan, now);
    obs.gate = scheduleGate({
      windows: schedule.windows,
      blackouts: schedule.blackouts,
      nowMs: now,
      expectedDurationMs: 0,
      force: schedule.force,
    });
    const waitingSince = plan.status?.waitingSince ? Date.parse(plan.status.waitingSince) : now;
    obs.after = await observeAfter(deps, plan, schedule.windowOpenedAt ?? waitingSince);
  }
  return { world: { plan, cluster, children }, obs };
}

async function observeAfter(deps: Deps, plan: HostPatchPlan, cycleStartedAtMs: number): Promise<AfterResult> {
  const plans = [...(await deps.store.list("HostPatchPlan")), ...(await deps.store.list("GuestUpdatePlan"))];
  const others = plans.map((o) => ({
    kind: o.kind,
    name: o.metadata.name,
    ...(o.status?.phase ? { phase: o.status.phase } : {}),
    ...(o.status?.lastCycle?.finishedAt ? { cycleFinishedAt: o.status.lastCycle.finishedAt } : {}),
    stalled: o.status?.conditions?.some((c) => c.type === "Stalled" && c.status === "True") ?? false,
  }));
  return afterGate(
    { kind: "HostPatchPlan", name: plan.metadata.name, after: plan.spec.after },
    others,
    cycleStartedAtMs,
  );
}

/** Asks for the plan's mutex (a waiter keeps its place in line); holding it already counts. */
export function observeMutex(deps: Deps, plan: HostPatchPlan, nowMs: number): MutexView {
  const got = deps.mutexes.acquire(plan.spec.mutex ?? "", mutexKey(plan), nowMs);
  return got.acquired ? { acquired: true } : { acquired: false, holder: got.holder };
}
