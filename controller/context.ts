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

/** How `Notifier.notify` treats one notice. */
export interface NotifyOptions {
  /**
   * The notice's idempotency key (e.g. `HostPatchPlan/<plan>/BeforeReboot/<host>/<cycle>`): a notice
   * whose key is already in the outbox is not sent again. Default: plan, event, hosts and the plan's cycle.
   */
  key?: string;
  /** Ends `notifyAndWait`'s wait early (controller stopping). */
  signal?: AbortSignal;
}

/** How each channel's delivery of a notice stood when `notify` returned. */
export interface NoticeReceipt {
  /** The event's id (its idempotency key in the outbox). */
  id: string;
  /** How long `notify` waited for the delivery, in the controller's clock. */
  waitedMs: number;
  channels: { name: string; state: "Delivered" | "Pending" | "Failed"; attempts: number; message?: string }[];
}

/**
 * Sends plan notices to the plan's channels through a persistent outbox: `notify` resolves once the
 * notice is recorded; delivery goes on in the background. Never throws for a failed channel.
 */
export interface Notifier {
  notify(notice: PlanNotice, options?: NotifyOptions): Promise<void>;
  /**
   * Like `notify`, then waits for the delivery at most the plan's `notifications.maxWait` (before a
   * disruptive step) and reports how each channel stood. Undefined: no channel wants the notice.
   */
  notifyAndWait?(notice: PlanNotice, options?: NotifyOptions): Promise<NoticeReceipt | undefined>;
  /** Starts background delivery (what the outbox owes from before a restart first). */
  start?(): Promise<void>;
  /** Stops background delivery; what is still owed stays in the outbox for the next start. */
  stop?(): Promise<void>;
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
