import { resolve } from "node:path";
import type { Clock } from "../src/clock.js";
import { MutexTable } from "../src/schedule/index.js";
import { DEFAULT_TIMING, type Deps, type Notifier, type Timing } from "./context.js";
import { Fleet } from "./fleet/cluster-access.js";
import { runProbe } from "../src/health/index.js";
import { RUNNERS } from "../src/runners/index.js";
import type { RunnerLookup } from "./guest-update/observation.js";
import { GuestUpdateReconciler } from "./guest-update/reconciler.js";
import { GuestUpdatePlanReconciler, type GuestPlanOptions } from "./guest-update-plan/reconciler.js";
import { GuestUpdatePolicyReconciler } from "./guest-update-plan/policy-status.js";
import { HostPatchReconciler } from "./host-patch/reconciler.js";
import { HostPatchPlanReconciler } from "./host-patch-plan/reconciler.js";
import { MaintenanceWindowReconciler } from "./maintenance-window/reconciler.js";
import { PlanNotifier } from "./notify/plan-notifier.js";
import { ProxmoxClusterReconciler } from "./proxmox-cluster/reconciler.js";
import { History } from "./reports/history.js";
import { FileStore } from "./runtime/file-store.js";
import { KillSwitch } from "./runtime/kill-switch.js";
import type { Logger } from "../src/log/logger.js";
import { Manager } from "./runtime/manager.js";

export interface ControllerOptions {
  desiredDir: string;
  stateDir: string;
  clock: Clock;
  log: Logger;
  killSwitchPath?: string;
  timing?: Partial<Timing>;
  selfNode?: string;
  /** Reconciles at once; default 4. */
  concurrency?: number;
  notifier?: Notifier;
  /** Watch the desired-state directory for edits; default true. */
  watch?: boolean;
  /** Runner plugins of the guest update flow (default the registry); a type without one Blocks its update. */
  guestRunners?: RunnerLookup;
  /** GuestUpdatePlan options: a partial run (`refit run --plan --vmid`), a test inventory. */
  guestPlans?: GuestPlanOptions;
}

/** Every runner of the registry (src/runners/registry.ts), by type. */
const REGISTRY: RunnerLookup = (type) => RUNNERS[type];

/** The controller in file mode: a FileStore, a manager and one reconciler per kind. */
export class Controller {
  private constructor(
    readonly store: FileStore,
    readonly manager: Manager,
    readonly deps: Deps,
    /** Host patch plans reconciled at least once by this process. */
    readonly plansSeen: ReadonlySet<string>,
    /** Guest update plans reconciled at least once by this process. */
    readonly guestPlansSeen: ReadonlySet<string> = new Set(),
  ) {}

  static async open(opts: ControllerOptions): Promise<Controller> {
    const store = await FileStore.open({
      desiredDir: opts.desiredDir,
      stateDir: opts.stateDir,
      log: opts.log,
      clock: opts.clock,
      watch: opts.watch ?? true,
    });
    const baseDir = resolve(opts.desiredDir);
    const deps: Deps = {
      store,
      clock: opts.clock,
      log: opts.log,
      fleet: new Fleet({ baseDir, logger: opts.log }),
      notifier:
        opts.notifier ??
        new PlanNotifier({ store, clock: opts.clock, log: opts.log, baseDir, stateDir: opts.stateDir }),
      killSwitch: new KillSwitch(opts.killSwitchPath),
      history: new History(opts.stateDir),
      mutexes: new MutexTable(),
      timing: { ...DEFAULT_TIMING, ...opts.timing },
      stateDir: opts.stateDir,
      ...(opts.selfNode ? { selfNode: opts.selfNode } : {}),
    };
    // Rebuild mutex holders from plans that were mid-cycle when the controller stopped.
    const holders = [...(await store.list("HostPatchPlan")), ...(await store.list("GuestUpdatePlan"))]
      .filter((p) => p.spec.mutex && p.status?.phase === "Progressing")
      .map((p) => ({
        name: p.spec.mutex ?? "",
        holderKey: `${p.kind}/${p.metadata.namespace ?? ""}/${p.metadata.name}`,
        sinceMs: Date.parse(p.status?.lastCycle?.startedAt ?? "") || opts.clock.now(),
      }));
    deps.mutexes.restore(holders);
    const manager = new Manager({
      store,
      clock: opts.clock,
      log: opts.log,
      concurrency: opts.concurrency ?? 4,
    });
    const plans = new HostPatchPlanReconciler(deps);
    const guestPlans = new GuestUpdatePlanReconciler(deps, opts.guestPlans);
    manager
      .register(new ProxmoxClusterReconciler(deps))
      .register(new MaintenanceWindowReconciler(deps))
      .register(guestPlans)
      .register(new GuestUpdatePolicyReconciler(deps))
      .register(new GuestUpdateReconciler(deps, { runners: opts.guestRunners ?? REGISTRY, runProbe }));
    // A partial run acts on one guest plan only: host plans are not reconciled at all.
    if (!opts.guestPlans?.partial) manager.register(plans).register(new HostPatchReconciler(deps));
    return new Controller(store, manager, deps, plans.seen, guestPlans.seen);
  }

  async start(): Promise<void> {
    // The outbox's sender first: what an earlier run still owes goes out while the fleet is observed.
    await this.deps.notifier.start?.();
    await this.manager.start();
  }

  async stop(): Promise<void> {
    await this.manager.stop();
    // After the reconcilers (nothing enqueues any more), before the store (channel status writes).
    await this.deps.notifier.stop?.();
    this.deps.fleet.close();
    await this.store.close();
  }
}
