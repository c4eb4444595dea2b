import { windowState } from "../../src/schedule/index.js";
import type { Deps } from "../context.js";
import { setReady } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";

/** Publishes whether a window is open and when it next opens and closes. */
export class MaintenanceWindowReconciler implements Reconciler {
  readonly kind = "MaintenanceWindow" as const;

  constructor(private readonly deps: Deps) {}

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const w = await this.deps.store.get("MaintenanceWindow", key.namespace, key.name);
    if (!w) return;
    const now = this.deps.clock.now();
    const state = windowState({ name: w.metadata.name, ...w.spec }, now);
    const s = (w.status ??= {});
    const changed = s.open !== state.open;
    s.open = state.open;
    s.nextOpen = new Date(state.nextOpen).toISOString();
    s.nextClose = new Date(state.nextClose).toISOString();
    s.observedGeneration = w.metadata.generation ?? 1;
    setReady(
      s,
      {
        status: "True",
        reason: state.open ? "Open" : "Closed",
        message: state.open ? `open until ${s.nextClose}` : `opens ${s.nextOpen}`,
      },
      s.observedGeneration,
      now,
    );
    await this.deps.store.updateStatus(w);
    // Opening and closing are news; a re-check that changed nothing is detail.
    ctx.log[changed ? "info" : "debug"](
      { window: w.metadata.name, open: state.open, nextOpen: s.nextOpen, nextClose: s.nextClose },
      state.open ? "maintenance window open" : "maintenance window closed",
    );
    const next = Math.min(state.open ? state.nextClose : state.nextOpen) - now;
    return { requeueAfter: Math.max(1000, Math.min(next, 3_600_000)) };
  }
}
