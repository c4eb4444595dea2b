/**
 * Reconciles one HostPatch: build the decision context from the store, read what the phase needs,
 * decide, apply. HostPatches of one cluster reconcile one at a time, so two never take the last
 * free slot of `maxUnavailable`.
 */
import { isTerminal, type HostPatch, type HostPatchPhase } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { parseDuration } from "../../src/api/primitives.js";
import { RefitError } from "../../src/errors.js";
import type { Deps } from "../context.js";
import { KeyedLock } from "../keyed-lock.js";
import { planSchedule } from "../plan-scheduling.js";
import { haltState } from "../runtime/kill-switch.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey, WatchEvent } from "../runtime/store.js";
import { apply, type ApplyTarget } from "./apply.js";
import { PHASES } from "./flow.js";
import { emptyObservation, type Observation, type PatchContext } from "./observation.js";
import { read } from "./read.js";
import { fail, type Transition } from "./transition.js";
import { movesInFlight, patchedInCycle, prefetchSlot, siblingPhasesToWake, turnOf } from "./turn.js";

export class HostPatchReconciler implements Reconciler {
  readonly kind = "HostPatch" as const;
  private readonly clusterLocks = new KeyedLock();
  /** The HostPatches seen so far with their last known phase, by `namespace/cluster`: whom a sibling's change wakes. */
  private readonly byCluster = new Map<string, Map<string, HostPatchPhase | undefined>>();
  /** A sibling's change that can open a turn, free a lane or a prefetch slot is reconciled at once. */
  readonly watches = [{ kind: "HostPatch" as const, keys: (e: WatchEvent) => this.siblingsOf(e) }];

  constructor(private readonly deps: Deps) {}

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const first = await this.deps.store.get("HostPatch", key.namespace, key.name);
    if (!first) return;
    return this.clusterLocks.run(`${key.namespace}/${first.spec.clusterRef?.name ?? ""}`, () =>
      this.reconcileLocked(ctx, key),
    );
  }

  private siblingsOf(event: WatchEvent): ObjectKey[] {
    const hp = event.object as HostPatch;
    const old = event.oldObject as HostPatch | undefined;
    if (event.type === "DELETED") return [];
    this.remember(hp);
    // A modification whose old version is unknown is not news: waking on it could ping-pong.
    if (event.type === "MODIFIED" && !old) return [];
    const wake = siblingPhasesToWake(old, hp);
    if (wake.size === 0) return [];
    const namespace = hp.metadata.namespace ?? "";
    const known =
      this.byCluster.get(`${namespace}/${hp.spec.clusterRef?.name ?? ""}`) ??
      new Map<string, HostPatchPhase | undefined>();
    return [...known]
      .filter(([name, phase]) => name !== hp.metadata.name && (phase === undefined || wake.has(phase)))
      .map(([name]) => ({ kind: "HostPatch" as const, namespace, name }));
  }

  private remember(hp: HostPatch): void {
    const cluster = `${hp.metadata.namespace ?? ""}/${hp.spec.clusterRef?.name ?? ""}`;
    const known = this.byCluster.get(cluster) ?? new Map<string, HostPatchPhase | undefined>();
    known.set(hp.metadata.name, hp.status?.phase);
    this.byCluster.set(cluster, known);
  }

  private async reconcileLocked(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const { store } = this.deps;
    const hp = await store.get("HostPatch", key.namespace, key.name);
    if (!hp) return;
    this.remember(hp);
    const plan = await store.get("HostPatchPlan", key.namespace, hp.spec.planRef.name);
    const cluster = hp.spec.clusterRef
      ? await store.get("ProxmoxCluster", key.namespace, hp.spec.clusterRef.name)
      : undefined;
    if (!plan || !cluster) return; // an orphan: its owner's deletion removes it
    startNewCycle(hp, this.deps.clock.now());
    const pctx = await this.context(hp, plan, cluster);
    const target: ApplyTarget = {
      hp,
      planName: plan.metadata.name,
      namespace: key.namespace,
      clusterName: cluster.metadata.name,
      access: this.deps.fleet.for(cluster),
      log: ctx.log.child({ cluster: cluster.metadata.name, node: hp.spec.host, plan: plan.metadata.name }),
      deps: this.deps,
      signal: ctx.signal,
    };
    const after = await apply(target, await decide(target, pctx));
    return after !== undefined ? { requeueAfter: after } : undefined;
  }

  private async context(hp: HostPatch, plan: HostPatchPlan, cluster: ProxmoxCluster): Promise<PatchContext> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const schedule = await planSchedule(store, plan, now);
    const halt = await haltState(this.deps.killSwitch, plan, cluster);
    const siblings = (await store.list("HostPatch", { namespace: hp.metadata.namespace ?? "" })).filter(
      (x) => x.spec.clusterRef?.name === cluster.metadata.name,
    );
    const selfNode = this.deps.selfNode ?? cluster.spec.controllerNode;
    return {
      hp,
      host: hp.spec.host,
      planName: plan.metadata.name,
      spec: plan.spec,
      cluster,
      status: hp.status ?? {},
      now,
      timing: this.deps.timing,
      ...(halt.halted ? { halt: { reason: halt.reason, message: halt.message } } : {}),
      schedule: { windows: schedule.windows, blackouts: schedule.blackouts, force: schedule.force },
      turn: turnOf(hp, siblings, cluster.spec.safety.maxUnavailable, selfNode),
      patchedNodes: patchedInCycle(hp, siblings),
      movesInFlight: movesInFlight(hp, siblings),
      prefetchSlot: prefetchSlot(hp, siblings, plan.spec.upgrade.prefetch.maxParallel),
      ...published(cluster, hp.spec.host, now),
    };
  }
}

function published(cluster: ProxmoxCluster, host: string, now: number): Pick<PatchContext, "published"> {
  const n = cluster.status?.nodes?.find((x) => x.name === host);
  if (!n?.observedAt || now - Date.parse(n.observedAt) > parseDuration(cluster.spec.observeInterval))
    return {};
  return {
    published: {
      observedAt: n.observedAt,
      ...(n.pendingUpdates !== undefined ? { pendingUpdates: n.pendingUpdates } : {}),
      ...(n.rebootRequired !== undefined ? { rebootRequired: n.rebootRequired } : {}),
    },
  };
}

/** A new cycle (spec.cycle changed) starts over once the last one has ended. */
function startNewCycle(hp: HostPatch, now: number): void {
  const generation = hp.metadata.generation ?? 1;
  const phase = hp.status?.phase;
  if (
    (hp.status?.observedGeneration ?? 0) < generation &&
    (phase === undefined || isTerminal(phase) || phase === "Blocked")
  )
    hp.status = { ...(hp.status ?? {}), phase: "Pending", phaseSince: new Date(now).toISOString() };
}

/** Reads what the phase needs (in at most two steps) and decides. A terminal error fails the host. */
async function decide(target: ApplyTarget, ctx: PatchContext): Promise<Transition> {
  const phase = PHASES[ctx.status.phase ?? "Pending"];
  try {
    let obs: Observation = await read(
      target.access,
      ctx.host,
      phase.needs(ctx),
      emptyObservation(),
      target.signal,
    );
    obs = await read(target.access, ctx.host, phase.needs(ctx, obs), obs, target.signal);
    return phase.decide(ctx, obs);
  } catch (err) {
    if (err instanceof RefitError && !err.retryable)
      return fail(err.reason, err.message, {
        notes: [{ step: ctx.status.phase ?? "Pending", outcome: "failed", message: err.message }],
      });
    throw err;
  }
}
