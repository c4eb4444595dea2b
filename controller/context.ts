import type { Clock } from "../src/clock.js";
import type { Severity } from "../src/api/plan-common.js";
import type { MutexTable } from "../src/schedule/index.js";
import type { Fleet } from "./fleet/cluster-access.js";
import type { History } from "./reports/history.js";
import type { KillSwitch } from "./runtime/kill-switch.js";
import type { Logger } from "../src/log/logger.js";
import type { ObjectStore } from "./runtime/store.js";

/** What a plan tells its notification channels. */
export interface PlanNotice {
  plan: { kind: "HostPatchPlan" | "GuestUpdatePlan"; name: string; namespace: string };
  event:
    | "PlanStarted"
    | "BeforeReboot"
    | "TargetSucceeded"
    | "TargetFailed"
    | "RolledBack"
    | "PlanSucceeded"
    | "PlanStalled"
    | "Blocked";
  severity: Severity;
  cluster?: string;
  hosts: string[];
  summary: string;
  details?: Record<string, unknown>;
}

/** Delivers plan notices to the plan's channels; never throws for a failed channel. */
export interface Notifier {
  notify(notice: PlanNotice): Promise<void>;
}

/** How often things are polled, in the controller's clock. */
export interface Timing {
  /** Re-check of a running job, migration or rebooting node. */
  pollMs: number;
  /** Re-check of a closed gate or a plan waiting its turn. */
  waitMs: number;
  /** Idle re-observation of a converged plan. */
  idleMs: number;
  /** After this long with an unchanged boot_id a reboot is taken as never issued and issued again. */
  rebootGraceMs: number;
}

export const DEFAULT_TIMING: Timing = {
  pollMs: 5_000,
  waitMs: 30_000,
  idleMs: 300_000,
  rebootGraceMs: 180_000,
};

/** Everything a reconciler needs, injected once. */
export interface Deps {
  store: ObjectStore;
  clock: Clock;
  log: Logger;
  fleet: Fleet;
  notifier: Notifier;
  killSwitch: KillSwitch;
  history: History;
  mutexes: MutexTable;
  timing: Timing;
  /** The state directory (reports, history). */
  stateDir: string;
  /** The node this controller runs on, when it runs on a cluster node (patched last). */
  selfNode?: string;
}

export function isoAt(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
