/**
 * The GuestUpdatePlan reconciler: observe (observe.ts), decide (decide.ts, pure), apply (apply.ts).
 * One reconcile does at most one step and asks to be called again. Operator rollback requests from
 * the CLI are forwarded to the container's GuestUpdate first (rollback-request.ts).
 */
import { errorMessage } from "../../src/errors.js";
import type { Deps } from "../context.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";
import { apply } from "./apply.js";
import { decide } from "./decide.js";
import {
  fleetInventory,
  mutexKey,
  observe,
  observeMutex,
  observeSelection,
  type Inventory,
  type World,
} from "./observe.js";
import { annotated, latestChild, readRollbackRequests, removeRequest } from "./rollback-request.js";
import type { PartialRequest } from "./types.js";

export interface GuestPlanOptions {
  /** How the cluster's containers are listed; default over SSH (`/cluster/resources`). */
  inventory?: Inventory;
  /** A partial run: only this plan acts, on these containers, once. */
  partial?: { plan: string; namespace?: string } & PartialRequest;
}

export class GuestUpdatePlanReconciler implements Reconciler {
  readonly kind = "GuestUpdatePlan" as const;
  /** Plans reconciled at least once by this process: only their status speaks for this run. */
  readonly seen = new Set<string>();
  private readonly inventory: Inventory;

  constructor(
    private readonly deps: Deps,
    private readonly options: GuestPlanOptions = {},
  ) {
    this.inventory = options.inventory ?? fleetInventory(deps);
  }

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const partial = this.options.partial;
    // A partial run touches its one plan; the others are not even looked at (their status stays as it was).
    if (partial && (partial.plan !== key.name || (partial.namespace ?? "") !== key.namespace)) return;
    const result = await this.reconcileOnce(ctx, key, partial);
    this.seen.add(`${key.namespace}/${key.name}`);
    return result;
  }

  private async reconcileOnce(
    ctx: ReconcileContext,
    key: ObjectKey,
    partial: PartialRequest | undefined,
  ): Promise<ReconcileResult> {
    const plan = await this.deps.store.get("GuestUpdatePlan", key.namespace, key.name);
    if (!plan) {
      this.deps.mutexes.forget(mutexKey({ metadata: { name: key.name, namespace: key.namespace } }));
      return;
    }
    const { world, obs } = await observe(this.deps, plan, partial);
    await this.forwardRollbacks(ctx, world);
    const timing = this.deps.timing;
    let t = decide(plan, obs, timing);
    for (let asked = 0; t.kind === "ask"; asked++) {
      if (asked > 2) throw new Error(`GuestUpdatePlan/${key.name}: the decisions kept asking (${t.what})`);
      if (t.what === "selection") obs.selection = await observeSelection(this.deps, this.inventory, world);
      else obs.mutex = observeMutex(this.deps, plan, obs.now);
      t = decide(plan, obs, timing);
    }
    const result = await apply(this.deps, ctx, world, t);
    // Rollback requests from the CLI are files, not watch events: look at least every wait interval.
    return { requeueAfter: Math.min(result?.requeueAfter ?? timing.waitMs, timing.waitMs) };
  }

  /** Each CLI rollback request becomes the annotations on the container's latest GuestUpdate. */
  private async forwardRollbacks(ctx: ReconcileContext, world: World): Promise<void> {
    const { plan } = world;
    const ns = plan.metadata.namespace ?? "";
    for (const pending of await readRollbackRequests(this.deps.stateDir, ns, plan.metadata.name)) {
      const req = pending.request;
      const child = req ? latestChild(world.children, req.vmid) : undefined;
      if (!req || !child) {
        ctx.log.warn(
          { plan: plan.metadata.name, request: pending.path },
          req
            ? `rollback of ${req.vmid} requested, but GuestUpdatePlan/${plan.metadata.name} has no GuestUpdate for it; request dropped`
            : `unreadable rollback request dropped: ${pending.error ?? ""}`,
        );
        await removeRequest(pending.path);
        continue;
      }
      try {
        await this.deps.store.update(annotated(child, req));
        ctx.log.info(
          { plan: plan.metadata.name, vmid: req.vmid, guestUpdate: child.metadata.name, to: req.to },
          `rollback of ${req.vmid} requested by an operator; handed to GuestUpdate/${child.metadata.name}`,
        );
        await removeRequest(pending.path);
      } catch (err) {
        // Kept: the next reconcile tries again.
        ctx.log.warn(
          { plan: plan.metadata.name, vmid: req.vmid },
          `rollback request not handed over yet: ${errorMessage(err)}`,
        );
      }
    }
  }
}
