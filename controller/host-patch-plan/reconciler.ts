import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { parseDuration } from "../../src/api/primitives.js";
import { ANNOTATION_REQUESTED_AT, GROUP_VERSION, LABEL_PLAN } from "../../src/api/version.js";
import { afterGate, scheduleGate } from "../../src/schedule/index.js";
import { isoAt, type Deps } from "../context.js";
import { DISRUPTIVE_PHASES, TERMINAL_PHASES } from "../../src/api/host-patch.js";
import { planSchedule } from "../plan-scheduling.js";
import { writeCycleReport } from "../reports/cycle-report.js";
import { setReady, setReconciling, setStalled } from "../runtime/conditions.js";
import { haltState } from "../runtime/kill-switch.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";
import { matchesGlob } from "../glob.js";

type Status = NonNullable<HostPatchPlan["status"]>;

/** Node names of the cluster that the plan's targets select. */
export function selectNodes(plan: HostPatchPlan, cluster: ProxmoxCluster): string[] {
  const nodes = cluster.spec.endpoints.map((e) => e.node);
  const want = plan.spec.targets.nodes ?? [];
  const exclude = plan.spec.targets.excludeNodes ?? [];
  return nodes
    .filter((n) => want.some((g) => matchesGlob(g, n)) && !exclude.some((g) => matchesGlob(g, n)))
    .sort();
}

export function childName(plan: HostPatchPlan, host: string): string {
  return `${plan.metadata.name}-${host}`.toLowerCase();
}

function cycleId(nowMs: number): string {
  return `c${new Date(nowMs).toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
}

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

  private async reconcileOnce(_ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const { store, clock } = this.deps;
    const plan = await store.get("HostPatchPlan", key.namespace, key.name);
    if (!plan) {
      this.deps.mutexes.forget(`HostPatchPlan/${key.namespace}/${key.name}`);
      return;
    }
    const s: Status = (plan.status ??= {});
    const gen = plan.metadata.generation ?? 1;
    const now = clock.now();
    const save = async (): Promise<void> => {
      s.observedGeneration = gen;
      await store.updateStatus(plan);
    };
    const idle = { requeueAfter: this.deps.timing.idleMs };

    const cluster = plan.spec.clusterRef
      ? await store.get("ProxmoxCluster", key.namespace, plan.spec.clusterRef.name)
      : undefined;
    if (!cluster) {
      setReady(
        s,
        {
          status: "False",
          reason: "ClusterNotFound",
          message: `ProxmoxCluster/${plan.spec.clusterRef?.name ?? "?"} does not exist`,
        },
        gen,
        now,
      );
      await save();
      return idle;
    }
    if (plan.spec.profile !== "pve") {
      const message = `profile ${plan.spec.profile} (standalone hosts) is not yet handled by this version of Refit; nothing is done for this plan`;
      setReady(s, { status: "False", reason: "ProfileNotSupported", message }, gen, now);
      setStalled(s, { status: "True", reason: "ProfileNotSupported", message }, gen, now);
      await save();
      return idle;
    }
    const hosts = selectNodes(plan, cluster);
    s.targets = hosts.length;
    const children = (
      await store.list("HostPatch", {
        namespace: key.namespace,
        labels: { [LABEL_PLAN]: plan.metadata.name },
      })
    ).filter((c) => c.spec.planRef.name === plan.metadata.name);
    const mutexKey = `HostPatchPlan/${key.namespace}/${key.name}`;

    // A cycle in progress: aggregate, and finish it once every node has ended.
    if (s.cycle && s.phase === "Progressing") {
      if (plan.spec.mutex) this.deps.mutexes.acquire(plan.spec.mutex, mutexKey, now);
      const mine = children.filter((c) => c.spec.cycle === s.cycle);
      this.count(s, mine);
      const failed = mine.filter((c) => c.status?.phase === "Failed");
      const done =
        mine.length > 0 &&
        mine.every((c) => c.status?.phase !== undefined && TERMINAL_PHASES.includes(c.status.phase));
      const blocked = mine.filter((c) => c.status?.phase === "Blocked");
      if (failed.length > 0) {
        const message = `${failed.map((c) => `${c.spec.host}: ${c.status?.message ?? "failed"}`).join("; ")}; no further node is touched until a person acts`;
        if (!s.conditions?.some((c) => c.type === "Stalled")) {
          await this.deps.notifier.notify({
            plan: { kind: "HostPatchPlan", name: plan.metadata.name, namespace: key.namespace },
            event: "PlanStalled",
            severity: "error",
            cluster: cluster.metadata.name,
            hosts: failed.map((c) => c.spec.host),
            summary: `HostPatchPlan/${plan.metadata.name} stalled: ${message}`,
          });
        }
        setStalled(s, { status: "True", reason: "TargetFailed", message }, gen, now);
        setReady(s, { status: "False", reason: "TargetFailed", message }, gen, now);
        setReconciling(s, { status: "False", reason: "Stalled" }, gen, now);
      }
      if (
        done ||
        (failed.length > 0 &&
          mine.every((c) => c.status?.phase === undefined || !DISRUPTIVE_PHASES.includes(c.status.phase)))
      ) {
        return this.finishCycle(plan, cluster, mine, save, failed.length > 0);
      }
      const halt = await haltState(this.deps.killSwitch, plan, cluster);
      if (failed.length === 0 && halt.halted) {
        // Steps in flight finish to a safe point; the plan says why nothing new starts.
        setReady(s, { status: "False", reason: halt.reason, message: halt.message }, gen, now);
        setReconciling(s, { status: "True", reason: halt.reason, message: halt.message }, gen, now);
      } else if (failed.length === 0) {
        const message =
          blocked.length > 0
            ? `blocked: ${blocked.map((c) => `${c.spec.host} (${c.status?.message ?? ""})`).join("; ")}`
            : `patching: ${mine
                .filter((c) => !TERMINAL_PHASES.includes(c.status?.phase ?? "Pending"))
                .map((c) => `${c.spec.host} ${c.status?.phase ?? "Pending"}`)
                .join(", ")}`;
        setReconciling(
          s,
          { status: "True", reason: blocked.length > 0 ? "TargetBlocked" : "Progressing", message },
          gen,
          now,
        );
        setReady(
          s,
          { status: "False", reason: blocked.length > 0 ? "TargetBlocked" : "Progressing", message },
          gen,
          now,
        );
      }
      await save();
      return { requeueAfter: this.deps.timing.waitMs };
    }

    // Between cycles: may a new one start?
    const halt = await haltState(this.deps.killSwitch, plan, cluster);
    if (halt.halted) {
      s.phase = "Suspended";
      setReady(s, { status: "False", reason: halt.reason, message: halt.message }, gen, now);
      setReconciling(s, { status: "False", reason: halt.reason }, gen, now);
      await save();
      return { requeueAfter: this.deps.timing.waitMs };
    }
    const requested = plan.metadata.annotations?.[ANNOTATION_REQUESTED_AT];
    const manual = requested !== undefined && requested !== s.lastHandledRequestAt;
    // A stalled plan touches nothing more until a person acts: a new request (refit.dev/requested-at)
    // or an edited spec.
    if (s.phase === "Stalled" && !manual && s.observedGeneration === gen) return idle;
    const lastFinished = s.lastCycle?.finishedAt ? Date.parse(s.lastCycle.finishedAt) : undefined;
    const interval = parseDuration(cluster.spec.observeInterval);
    if (
      !manual &&
      lastFinished !== undefined &&
      now - lastFinished < interval &&
      s.phase !== "OutsideWindow" &&
      s.phase !== "Waiting" &&
      s.phase !== "Suspended"
    ) {
      return { requeueAfter: interval - (now - lastFinished) };
    }
    const schedule = await planSchedule(store, plan, now);
    const gate = scheduleGate({
      windows: schedule.windows,
      blackouts: schedule.blackouts,
      nowMs: now,
      expectedDurationMs: 0,
      force: schedule.force,
    });
    if (!gate.allowed) {
      const windowReason = gate.reason === "OutsideWindow" || gate.reason === "WindowClosing";
      s.phase = windowReason ? "OutsideWindow" : "Waiting";
      if (windowReason) s.nextWindow = new Date(gate.retryAt).toISOString();
      setReady(s, { status: "False", reason: gate.reason, message: gate.message }, gen, now);
      setReconciling(s, { status: "False", reason: gate.reason }, gen, now);
      await save();
      return { requeueAfter: Math.max(1000, Math.min(gate.retryAt - now, this.deps.timing.idleMs)) };
    }
    const others = [...(await store.list("HostPatchPlan")), ...(await store.list("GuestUpdatePlan"))].map(
      (o) => ({
        kind: o.kind,
        name: o.metadata.name,
        ...(o.status?.phase ? { phase: o.status.phase } : {}),
        ...(o.status?.lastCycle?.finishedAt ? { cycleFinishedAt: o.status.lastCycle.finishedAt } : {}),
        stalled: o.status?.conditions?.some((c) => c.type === "Stalled" && c.status === "True") ?? false,
      }),
    );
    const after = afterGate(
      { kind: "HostPatchPlan", name: plan.metadata.name, after: plan.spec.after },
      others,
      schedule.windowOpenedAt ?? (s.waitingSince ? Date.parse(s.waitingSince) : now),
    );
    if (!after.allowed) {
      s.phase = "Waiting";
      s.waitingSince ??= isoAt(clock);
      setReady(s, { status: "False", reason: after.reason, message: after.message }, gen, now);
      await save();
      return { requeueAfter: this.deps.timing.waitMs };
    }
    if (plan.spec.mutex) {
      const got = this.deps.mutexes.acquire(plan.spec.mutex, mutexKey, now);
      if (!got.acquired) {
        s.phase = "Waiting";
        const message = `mutex ${plan.spec.mutex} is held by ${got.holder ?? "an earlier waiter"}`;
        setReady(s, { status: "False", reason: "MutexHeld", message }, gen, now);
        await save();
        return { requeueAfter: this.deps.timing.waitMs };
      }
    }

    // Start a cycle: intent on the plan first, then one HostPatch per node.
    const cycle = cycleId(now);
    s.cycle = cycle;
    s.phase = "Progressing";
    delete s.waitingSince;
    s.lastCycle = { startedAt: isoAt(clock) };
    if (manual) s.lastHandledRequestAt = requested;
    setReconciling(
      s,
      { status: "True", reason: "CycleStarted", message: `cycle ${cycle} over ${hosts.join(", ")}` },
      gen,
      now,
    );
    setStalled(s, { status: "False", reason: "CycleStarted" }, gen, now);
    setReady(
      s,
      { status: "False", reason: "Progressing", message: `cycle ${cycle} started over ${hosts.join(", ")}` },
      gen,
      now,
    );
    await save();
    const fresh = await store.get("HostPatchPlan", key.namespace, key.name);
    const uid = fresh?.metadata.uid ?? plan.metadata.uid ?? "";
    for (const host of hosts) await this.ensureChild(plan, uid, cluster, host, cycle);
    for (const c of children.filter((x) => !hosts.includes(x.spec.host))) {
      await store.delete("HostPatch", key.namespace, c.metadata.name);
    }
    this.deps.log.info(
      { plan: plan.metadata.name, cluster: cluster.metadata.name, cycle, hosts },
      "cycle started",
    );
    return { requeueAfter: this.deps.timing.waitMs };
  }

  private count(s: Status, mine: HostPatch[]): void {
    s.succeeded = mine.filter((c) => c.status?.phase === "Succeeded").length;
    s.skipped = mine.filter((c) => c.status?.phase === "Skipped").length;
    s.failed = mine.filter((c) => c.status?.phase === "Failed").length;
  }

  private async ensureChild(
    plan: HostPatchPlan,
    uid: string,
    cluster: ProxmoxCluster,
    host: string,
    cycle: string,
  ): Promise<void> {
    const { store } = this.deps;
    const ns = plan.metadata.namespace ?? "";
    const name = childName(plan, host);
    const existing = await store.get("HostPatch", ns, name);
    const spec = {
      planRef: { name: plan.metadata.name },
      clusterRef: { name: cluster.metadata.name },
      host,
      profile: plan.spec.profile,
      cycle,
    };
    if (existing) {
      if (existing.spec.cycle === cycle) return;
      await store.update({ ...existing, spec });
      return;
    }
    await store.create({
      apiVersion: GROUP_VERSION,
      kind: "HostPatch",
      metadata: {
        name,
        ...(plan.metadata.namespace ? { namespace: plan.metadata.namespace } : {}),
        labels: { [LABEL_PLAN]: plan.metadata.name },
        ownerReferences: [
          {
            apiVersion: GROUP_VERSION,
            kind: "HostPatchPlan",
            name: plan.metadata.name,
            uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec,
    });
  }

  private async finishCycle(
    plan: HostPatchPlan,
    cluster: ProxmoxCluster,
    mine: HostPatch[],
    save: () => Promise<void>,
    stalled: boolean,
  ): Promise<ReconcileResult> {
    const s: Status = plan.status ?? {};
    const { clock } = this.deps;
    const gen = plan.metadata.generation ?? 1;
    const now = clock.now();
    this.count(s, mine);
    const finishedAt = isoAt(clock);
    const reportPath = await writeCycleReport(
      this.deps,
      plan,
      cluster,
      mine,
      s.lastCycle?.startedAt ?? finishedAt,
      finishedAt,
    );
    s.lastCycle = { startedAt: s.lastCycle?.startedAt ?? finishedAt, finishedAt, reportPath };
    s.phase = stalled ? "Stalled" : "Succeeded";
    const summary = `${s.succeeded ?? 0} patched, ${s.skipped ?? 0} up to date, ${s.failed ?? 0} failed`;
    if (!stalled) {
      setReady(
        s,
        { status: "True", reason: "CycleSucceeded", message: `cycle ${s.cycle ?? ""}: ${summary}` },
        gen,
        now,
      );
      setReconciling(s, { status: "False", reason: "CycleSucceeded" }, gen, now);
      setStalled(s, { status: "False", reason: "CycleSucceeded" }, gen, now);
    }
    if (plan.spec.mutex)
      this.deps.mutexes.release(
        plan.spec.mutex,
        `HostPatchPlan/${plan.metadata.namespace ?? ""}/${plan.metadata.name}`,
      );
    s.observedGeneration = gen;
    await save();
    if (!stalled) {
      await this.deps.notifier.notify({
        plan: { kind: "HostPatchPlan", name: plan.metadata.name, namespace: plan.metadata.namespace ?? "" },
        event: "PlanSucceeded",
        severity: "info",
        cluster: cluster.metadata.name,
        hosts: mine.map((c) => c.spec.host),
        summary: `HostPatchPlan/${plan.metadata.name}: ${summary}`,
        details: { report: reportPath },
      });
    }
    this.deps.log.info(
      {
        plan: plan.metadata.name,
        cluster: cluster.metadata.name,
        cycle: s.cycle,
        outcome: s.phase,
        report: reportPath,
      },
      `cycle finished: ${summary}`,
    );
    return { requeueAfter: stalled ? this.deps.timing.idleMs : parseDuration(cluster.spec.observeInterval) };
  }
}
