import type { HostPatchPlan } from "../src/api/host-patch-plan.js";
import type { GuestUpdatePlan } from "../src/api/guest-update-plan.js";
import { ANNOTATION_FORCE } from "../src/api/version.js";
import { RetryableError } from "../src/errors.js";
import { parseForce, windowState, type Force, type WindowSpec } from "../src/schedule/index.js";
import type { ObjectStore } from "./runtime/store.js";

type AnyPlan = HostPatchPlan | GuestUpdatePlan;

export interface PlanSchedule {
  windows: WindowSpec[];
  blackouts: WindowSpec[];
  force: Force;
  /** Where the current window opened (for `after`), or undefined when the plan has no windows. */
  windowOpenedAt?: number;
}

async function resolve(
  store: ObjectStore,
  ns: string,
  refs: readonly { name: string }[],
): Promise<WindowSpec[]> {
  const out: WindowSpec[] = [];
  for (const r of refs) {
    const w = await store.get("MaintenanceWindow", ns, r.name);
    // A window that vanished after validation: fail closed, nothing starts until it is back.
    if (!w)
      throw new RetryableError(
        "WindowMissing",
        `MaintenanceWindow/${r.name} does not exist; nothing disruptive starts until it does`,
      );
    out.push({ name: r.name, ...w.spec });
  }
  return out;
}

/** The plan's windows, blackouts and force annotation, resolved from the store. */
export async function planSchedule(store: ObjectStore, plan: AnyPlan, nowMs: number): Promise<PlanSchedule> {
  const ns = plan.metadata.namespace ?? "";
  const windows = await resolve(store, ns, plan.spec.windowRefs);
  const blackouts = await resolve(store, ns, plan.spec.blackoutRefs);
  const force = parseForce(plan.metadata.annotations?.[ANNOTATION_FORCE]);
  const opened = windows
    .map((w) => windowState(w, nowMs))
    .filter((s) => s.open && s.openedAt !== undefined)
    .map((s) => s.openedAt as number);
  return { windows, blackouts, force, ...(opened.length ? { windowOpenedAt: Math.min(...opened) } : {}) };
}
