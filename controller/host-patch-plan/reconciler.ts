/**
 * The HostPatchPlan reconciler: observe (observe.ts), decide (decide.ts, pure), apply (apply.ts).
 * One reconcile does at most one step and asks to be called again.
 */
import type { Deps } from "../context.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";
import { apply } from "./apply.js";
import { decide } from "./decide.js";
import { mutexKey, observe, observeMutex } from "./observe.js";

export class HostPatchPlanReconciler implements Reconciler {
  readonly kind = "HostPatchPlan" as const;
  /** Plans reconciled at least once by this process: only their status speaks for this run. */
  readonly seen = new Set<string>();

  constructor(private readonly deps: Deps) {}

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const result = await this.reconcileOnce(ctx, key);
    this.seen.add(`${key.namespace}/${key.name}`);
    return result;
  }

  private async reconcileOnce(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const plan = await this.deps.store.get("HostPatchPlan", key.namespace, key.name);
    if (!plan) {
      this.deps.mutexes.forget(mutexKey({ metadata: { name: key.name, namespace: key.namespace } }));
      return;
    }
    const { world, obs } = await observe(this.deps, plan);
    const timing = this.deps.timing;
    let t = decide(plan, obs, timing);
    if (t.kind === "askMutex") {
      obs.mutex = observeMutex(this.deps, plan, obs.now);
      t = decide(plan, obs, timing);
    }
    if (t.kind === "askMutex") throw new Error(`HostPatchPlan/${key.name}: the mutex was asked for twice`);
    return apply(this.deps, ctx, world, t);
  }
}
