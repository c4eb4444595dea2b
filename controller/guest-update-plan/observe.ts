/**
 * What a GuestUpdatePlan reconcile reads: the plan's cluster, children and policies, the halt state,
 * the windows (always: in a cycle they stop new starts), between cycles `after`, and, asked only
 * once every earlier gate is open, the selection (one `/cluster/resources` read) and the mutex.
 */
import type { GuestUpdate } from "../../src/api/guest-update.js";
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import type { GuestUpdatePolicy } from "../../src/api/guest-update-policy.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { parseDuration } from "../../src/api/primitives.js";
import { LABEL_PLAN } from "../../src/api/version.js";
import { errorMessage, RetryableError } from "../../src/errors.js";
import { PveReader } from "../../src/pve/reader.js";
import { afterGate, scheduleGate, type AfterResult } from "../../src/schedule/index.js";
import type { Deps } from "../context.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { planSchedule } from "../plan-scheduling.js";
import { haltState } from "../runtime/kill-switch.js";
import { inCycle } from "./cycle.js";
import { guestView, type GuestView } from "./select.js";
import { planSelection } from "./selection.js";
import type { ChildView, MutexView, Observation, PartialRequest, SelectionView } from "./types.js";

export interface World {
  plan: GuestUpdatePlan;
  cluster: ProxmoxCluster | undefined;
  children: GuestUpdate[];
  policies: GuestUpdatePolicy[];
}

/** The containers of a cluster as `/cluster/resources` lists them. */
export type Inventory = (cluster: ProxmoxCluster) => Promise<GuestView[]>;

/** The inventory over SSH: the first node that answers lists the whole cluster. */
export function fleetInventory(deps: Deps): Inventory {
  return (cluster) => listContainers(deps.fleet.for(cluster));
}

export async function listContainers(access: ClusterAccess): Promise<GuestView[]> {
  const failures: string[] = [];
  for (const node of access.nodes) {
    try {
      const r = await new PveReader(access.node(node)).resources();
      return r.guests.map(guestView);
    } catch (err) {
      failures.push(`${node}: ${errorMessage(err)}`);
    }
  }
  throw new RetryableError(
    "ClusterUnreachable",
    `no node of ProxmoxCluster/${access.cluster.metadata.name} listed its containers (${failures.join("; ")}); no cycle starts until one answers`,
  );
}

export function mutexKey(plan: { metadata: { name: string; namespace?: string } }): string {
  return `GuestUpdatePlan/${plan.metadata.namespace ?? ""}/${plan.metadata.name}`;
}

export function childView(c: GuestUpdate): ChildView {
  const generation = c.metadata.generation ?? 1;
  const ready = c.status?.conditions?.find((x) => x.type === "Ready");
  return {
    name: c.metadata.name,
    vmid: c.spec.vmid,
    cycle: c.spec.cycle,
    node: c.status?.node ?? c.spec.node,
    phase: c.status?.phase,
    current: c.status !== undefined && (c.status.observedGeneration ?? generation) >= generation,
    ...(ready?.message
      ? { message: ready.message }
      : c.status?.lastError
        ? { message: c.status.lastError.message }
        : {}),
    ...(c.status?.lastError?.reason !== undefined ? { reason: c.status.lastError.reason } : {}),
    ...(awaitsOperator(c) ? { awaitsOperator: true } : {}),
  };
}

function awaitsOperator(c: GuestUpdate): boolean {
  const s = c.status;
  return (
    s?.phase === "Failed" &&
    c.spec.policy.rollback.policy === "Manual" &&
    s.snapshot !== undefined &&
    s.rollback?.done !== true
  );
}

export async function observe(
  deps: Deps,
  plan: GuestUpdatePlan,
  partial?: PartialRequest,
): Promise<{ world: World; obs: Observation }> {
  const { store } = deps;
  const ns = plan.metadata.namespace ?? "";
  const now = deps.clock.now();
  const cluster = await store.get("ProxmoxCluster", ns, plan.spec.clusterRef.name);
  const children = (
    await store.list("GuestUpdate", { namespace: ns, labels: { [LABEL_PLAN]: plan.metadata.name } })
  )
    .filter((c) => c.spec.planRef.name === plan.metadata.name)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const policies = await store.list("GuestUpdatePolicy", { namespace: ns });
  const obs: Observation = {
    now,
    cluster: cluster
      ? { name: cluster.metadata.name, observeIntervalMs: parseDuration(cluster.spec.observeInterval) }
      : undefined,
    children: children.map(childView),
    halt: await haltState(deps.killSwitch, plan, cluster),
    ...(partial ? { partial } : {}),
  };
  if (cluster) {
    const schedule = await planSchedule(store, plan, now);
    obs.gate = scheduleGate({
      windows: schedule.windows,
      blackouts: schedule.blackouts,
      nowMs: now,
      expectedDurationMs: 0,
      force: schedule.force,
    });
    if (!inCycle(plan.status)) {
      const waitingSince = plan.status?.waitingSince ? Date.parse(plan.status.waitingSince) : now;
      obs.after = await observeAfter(deps, plan, schedule.windowOpenedAt ?? waitingSince);
    }
  }
  return { world: { plan, cluster, children, policies }, obs };
}

async function observeAfter(
  deps: Deps,
  plan: GuestUpdatePlan,
  cycleStartedAtMs: number,
): Promise<AfterResult> {
  const plans = [...(await deps.store.list("HostPatchPlan")), ...(await deps.store.list("GuestUpdatePlan"))];
  const others = plans.map((o) => ({
    kind: o.kind,
    name: o.metadata.name,
    ...(o.status?.phase ? { phase: o.status.phase } : {}),
    ...(o.status?.lastCycle?.finishedAt ? { cycleFinishedAt: o.status.lastCycle.finishedAt } : {}),
    stalled: o.status?.conditions?.some((c) => c.type === "Stalled" && c.status === "True") ?? false,
  }));
  return afterGate(
    { kind: "GuestUpdatePlan", name: plan.metadata.name, after: plan.spec.after },
    others,
    cycleStartedAtMs,
  );
}

/** The plan's selection now: its selector, its policies, and the other plans of its cluster. */
export async function observeSelection(
  deps: Deps,
  inventory: Inventory,
  world: World,
): Promise<SelectionView> {
  if (!world.cluster) return { ok: false, message: "no cluster" };
  let guests: GuestView[];
  try {
    guests = await inventory(world.cluster);
  } catch (err) {
    return { ok: false, message: errorMessage(err) };
  }
  const ns = world.plan.metadata.namespace ?? "";
  const plans = await deps.store.list("GuestUpdatePlan", { namespace: ns });
  return { ok: true, selection: planSelection(world.plan, plans, world.policies, guests) };
}

export function observeMutex(deps: Deps, plan: GuestUpdatePlan, nowMs: number): MutexView {
  const got = deps.mutexes.acquire(plan.spec.mutex ?? "", mutexKey(plan), nowMs);
  return got.acquired ? { acquired: true } : { acquired: false, holder: got.holder };
}
