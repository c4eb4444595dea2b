import type { HostPatch } from "../../src/api/host-patch.js";
import { isoAt, type Deps } from "../context.js";
import { planSchedule } from "../plan-scheduling.js";
import { haltState } from "../runtime/kill-switch.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";
import { KeyedLock } from "../keyed-lock.js";
import { DISRUPTIVE_PHASES, TERMINAL_PHASES } from "../../src/api/host-patch.js";
import { step, type Flow } from "./flow.js";

/** Rolling order inside a plan: by node name, the controller's own node last. */
export function rollingOrder(hosts: readonly string[], selfNode: string | undefined): string[] {
  return [...hosts].sort((a, b) => (a === selfNode ? 1 : 0) - (b === selfNode ? 1 : 0) || a.localeCompare(b));
}

export class HostPatchReconciler implements Reconciler {
  readonly kind = "HostPatch" as const;
  /** HostPatches of one cluster reconcile one at a time, so two never take the last free slot. */
  private readonly clusterLocks = new KeyedLock();

  constructor(private readonly deps: Deps) {}

  async reconcile(_ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const { store } = this.deps;
    const first = await store.get("HostPatch", key.namespace, key.name);
    if (!first) return;
    const clusterName = first.spec.clusterRef?.name ?? "";
    return this.clusterLocks.run(`${key.namespace}/${clusterName}`, async () => {
      const hp = await store.get("HostPatch", key.namespace, key.name);
      if (!hp) return;
      const plan = await store.get("HostPatchPlan", key.namespace, hp.spec.planRef.name);
      const cluster = hp.spec.clusterRef
        ? await store.get("ProxmoxCluster", key.namespace, hp.spec.clusterRef.name)
        : undefined;
      if (!plan || !cluster) return; // an orphan: its owner's deletion removes it
      const generation = hp.metadata.generation ?? 1;
      const phase = hp.status?.phase;
      // A new cycle (spec.cycle changed) starts over once the last one has ended.
      if (
        (hp.status?.observedGeneration ?? 0) < generation &&
        (phase === undefined || TERMINAL_PHASES.includes(phase) || phase === "Blocked")
      ) {
        hp.status = { ...(hp.status ?? {}), phase: "Pending", phaseSince: isoAt(this.deps.clock) };
      }
      const schedule = await planSchedule(store, plan, this.deps.clock.now());
      const halt = await haltState(this.deps.killSwitch, plan, cluster);
      const siblings = (await store.list("HostPatch", { namespace: key.namespace })).filter(
        (x) => x.spec.clusterRef?.name === cluster.metadata.name,
      );
      const flow: Flow = {
        deps: this.deps,
        hp,
        plan,
        cluster,
        access: this.deps.fleet.for(cluster),
        windows: schedule.windows,
        blackouts: schedule.blackouts,
        force: schedule.force,
        ...(halt.halted ? { halt: { reason: halt.reason, message: halt.message } } : {}),
        mayStartDisruption: () =>
          Promise.resolve(
            this.turn(
              hp,
              siblings,
              cluster.spec.safety.maxUnavailable,
              this.deps.selfNode ?? cluster.spec.controllerNode,
            ),
          ),
        patchedNodes: siblings
          .filter(
            (x) =>
              x.spec.planRef.name === plan.metadata.name &&
              x.spec.cycle === hp.spec.cycle &&
              x.status?.phase === "Succeeded",
          )
          .map((x) => x.spec.host),
      };
      const result = await step(flow);
      return result.requeueAfter !== undefined ? { requeueAfter: result.requeueAfter } : undefined;
    });
  }

  /** Whether `hp` may start disruptive work: its turn in the plan's order, and a free slot in the cluster. */
  private turn(
    hp: HostPatch,
    siblings: HostPatch[],
    maxUnavailable: number,
    selfNode: string | undefined,
  ): { ok: true } | { ok: false; message: string } {
    const busy = siblings.filter(
      (x) =>
        x.metadata.name !== hp.metadata.name &&
        x.status?.phase !== undefined &&
        DISRUPTIVE_PHASES.includes(x.status.phase),
    );
    if (busy.length >= maxUnavailable) {
      return {
        ok: false,
        message: `waiting: ${busy.map((x) => `${x.spec.host} (${x.status?.phase})`).join(", ")} ${busy.length === 1 ? "is" : "are"} out and the cluster allows ${maxUnavailable} at a time`,
      };
    }
    const mine = siblings.filter(
      (x) => x.spec.planRef.name === hp.spec.planRef.name && x.spec.cycle === hp.spec.cycle,
    );
    const failed = mine.find((x) => x.status?.phase === "Failed");
    if (failed)
      return {
        ok: false,
        message: `plan stalled: ${failed.spec.host} failed (${failed.status?.message ?? ""}); no further node is touched`,
      };
    const order = rollingOrder(
      mine.map((x) => x.spec.host),
      selfNode,
    );
    const before = order.slice(0, order.indexOf(hp.spec.host));
    const waitingFor = mine.filter(
      (x) =>
        before.includes(x.spec.host) &&
        !(
          x.status?.phase !== undefined &&
          (TERMINAL_PHASES.includes(x.status.phase) || x.status.phase === "Blocked")
        ),
    );
    if (waitingFor.length > 0 && busy.length + waitingFor.length >= maxUnavailable) {
      return {
        ok: false,
        message: `waiting for ${waitingFor.map((x) => x.spec.host).join(", ")} to finish first (rolling order)`,
      };
    }
    return { ok: true };
  }
}
