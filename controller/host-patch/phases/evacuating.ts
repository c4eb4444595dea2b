/**
 * Evacuating: plan where every guest goes before anything moves, record the plan, then drive it —
 * HA maintenance, migrations, shutdowns — until the node runs none of the guests that were to leave.
 */
import { parseDuration } from "../../../src/api/primitives.js";
import { evacuationTargets, planEvacuation, type EvacPlan } from "../evacuation-plan.js";
import type { Needs, Observation, PatchContext } from "../observation.js";
import { maintenanceCommand } from "../commands.js";
import {
  act,
  fail,
  goto,
  poll,
  run,
  wait,
  type Action,
  type HistoryNote,
  type Migration,
  type StatusPatch,
  type Transition,
} from "../transition.js";
import { iso, notNow } from "./gating.js";
import { decideEnterMaintenance } from "./ha-maintenance.js";
import {
  evacuationHold,
  leaveOrder,
  leavingForOthers,
  othersStillLeaving,
  returnOrder,
  withIncoming,
} from "../in-flight.js";
import { driveMigrations, migrationJobs, migrationTaskNeeds } from "./migrations.js";
import { driveShutdowns, shutdownJobs } from "./shutdowns.js";

function planned(ctx: PatchContext): boolean {
  return ctx.status.currentStep?.name === "evacuate" || (ctx.status.migrations?.length ?? 0) > 0;
}

export function evacuatingNeeds(ctx: PatchContext): Needs {
  if (!planned(ctx)) return notNowForEvacuation(ctx) ? {} : { cluster: true, guests: true };
  return {
    cluster: true,
    jobs: [
      ...migrationJobs(ctx, ctx.status.migrations ?? [], false),
      ...shutdownJobs(ctx, ctx.status.shutdowns ?? []),
    ],
    tasks: migrationTaskNeeds(ctx.status.migrations ?? []),
  };
}

function notNowForEvacuation(ctx: PatchContext): Transition | undefined {
  const expected = parseDuration(ctx.spec.evacuation.timeout) + parseDuration(ctx.spec.reboot.returnTimeout);
  return notNow(ctx, "the evacuation and reboot", expected);
}

export function decideEvacuating(ctx: PatchContext, obs: Observation): Transition {
  if (!planned(ctx)) return notNowForEvacuation(ctx) ?? decideEvacuationPlan(ctx, obs);
  return driveEvacuation(ctx, obs);
}

/** The evacuation plan of this node from one observation: what `refit plan` shows, too. */
export function evacuationPlan(ctx: PatchContext, obs: Observation): EvacPlan | { unreadable: string } {
  const cluster = obs.cluster;
  if (!cluster?.resources.ok)
    return { unreadable: cluster?.resources.ok === false ? cluster.resources.message : "not read" };
  const ev = ctx.spec.evacuation;
  const ha = cluster.haManager.ok ? cluster.haManager.value.nodeStatus : {};
  const others = new Set(leavingForOthers(ctx).map((m) => m.vmid));
  return planEvacuation(
    ctx.host,
    (obs.guests ?? []).filter((g) => !others.has(g.vmid)),
    withIncoming(
      ctx,
      evacuationTargets(cluster.resources.value, ha, ctx.patchedNodes),
      cluster.resources.value.guests,
    ),
    {
      mode: ev.mode,
      headroomPercent: ev.memoryHeadroomPercent,
      withLocalDisks: ev.withLocalDisks,
      unmovable: ev.unmovable,
      ejectLocalMedia: ev.ejectLocalMedia,
    },
  );
}

/** The status a plan is recorded as: the intent of every move, shutdown and HA request. */
export function evacuationIntent(ctx: PatchContext, plan: EvacPlan): StatusPatch {
  const migrations: Migration[] = leaveOrder(plan.moves).map((m) => ({
    vmid: m.vmid,
    type: m.type,
    from: ctx.host,
    to: m.to,
    mode: m.mode,
    state: "Planned",
    ...(m.withLocalDisks ? { withLocalDisks: true } : {}),
    ...(m.ejectMedia ? { ejectedMedia: m.ejectMedia } : {}),
    ...(m.restart ? { restart: true } : {}),
  }));
  const ha = ctx.spec.evacuation.mode === "HAMaintenance";
  return {
    migrations,
    shutdowns: plan.shutdowns.map((s) => ({
      vmid: s.vmid,
      type: s.type,
      state: "Planned",
      reason: s.reason,
    })),
    haMaintenance: ha
      ? { requestedAt: iso(ctx.now), cycle: ctx.hp.spec.cycle, guests: plan.viaHa.map((g) => g.vmid) }
      : undefined,
    currentStep: { name: "evacuate", id: `${ctx.hp.spec.cycle}-evacuate`, startedAt: iso(ctx.now) },
  };
}

/**
 * A node outside the cluster's membership cannot be drained: its guests show `unknown` and its own
 * writes (every migration starts with one) fail without quorum. Right after an upgrade of corosync
 * that is a restart still rejoining; the evacuation waits for it.
 */
function notAMember(ctx: PatchContext, obs: Observation): Transition | undefined {
  const q = obs.cluster?.quorum;
  if (!q?.ok || q.value.kind !== "cluster") return undefined;
  const me = q.value.nodes.find((n) => n.name === ctx.host);
  if (me === undefined || me.online) return undefined;
  return wait(
    "NodeRejoining",
    `${ctx.host} is not in the cluster's membership right now (corosync restarting after the upgrade?); waiting for it to rejoin before planning its evacuation`,
  );
}

function decideEvacuationPlan(ctx: PatchContext, obs: Observation): Transition {
  const rejoining = notAMember(ctx, obs);
  if (rejoining) return rejoining;
  const hold = evacuationHold(ctx);
  if (hold) return poll("Evacuating", hold);
  const plan = evacuationPlan(ctx, obs);
  if ("unreadable" in plan) return wait("GateClosed", `cluster resources cannot be read: ${plan.unreadable}`);
  if (plan.blocked) {
    const { reason, message } = plan.blocked;
    return goto("Blocked", message, {
      patch: { lastError: { reason, message, at: iso(ctx.now), retryable: true } },
      notes: [{ step: "evacuate", outcome: "blocked", message }],
      requeue: "wait",
    });
  }
  const parts = [
    `moving ${plan.moves.length} guest(s) off ${ctx.host}`,
    ...(plan.viaHa.length ? [`HA moves ${plan.viaHa.length} (node maintenance)`] : []),
    ...(plan.shutdowns.length ? [`shutting down ${plan.shutdowns.length}`] : []),
  ];
  const message = parts.join(", ");
  // The whole plan is recorded first; migrations and shutdowns are then driven from status alone.
  const ha = ctx.spec.evacuation.mode === "HAMaintenance";
  return act(ha ? [run(maintenanceCommand(ctx.host, true), "ha-maintenance-enable")] : [], {
    phase: "Evacuating",
    message,
    requeue: ha ? "poll" : "now",
    patch: evacuationIntent(ctx, plan),
    notes: [
      {
        step: "evacuate",
        outcome: "started",
        message,
        extra: {
          moves: plan.moves.map((m) => `${m.vmid}->${m.to}`),
          viaHa: plan.viaHa.map((g) => g.vmid),
          shutdowns: plan.shutdowns.map((g) => g.vmid),
          stays: plan.stays.map((x) => x.vmid),
        },
      },
    ],
  });
}

function driveEvacuation(ctx: PatchContext, obs: Observation): Transition {
  if (!obs.cluster) return poll("Evacuating", ctx.status.message ?? "evacuating");
  const ha = decideEnterMaintenance(ctx, obs);
  if (ha !== "entered") return ha;
  const mig = driveMigrations(ctx, ctx.status.migrations ?? [], obs, false);
  if (typeof mig.outcome === "object")
    return fail("MigrationFailed", mig.outcome.failed, {
      patch: { migrations: mig.list },
      notes: [...mig.notes, { step: "evacuate", outcome: "failed", message: mig.outcome.failed }],
    });
  if (mig.outcome === "working")
    return progress(mig.actions, { migrations: mig.list }, mig.notes, mig.changed);
  const down = driveShutdowns(ctx, ctx.status.shutdowns ?? [], obs);
  if (typeof down.outcome === "object")
    return fail("ShutdownFailed", down.outcome.failed, {
      patch: { shutdowns: down.list },
      notes: down.notes,
    });
  if (down.outcome === "working")
    return progress(down.actions, { shutdowns: down.list }, down.notes, down.changed);
  return evacuated(ctx, obs, { migrations: mig.list, shutdowns: down.list }, [...mig.notes, ...down.notes]);
}

function progress(actions: Action[], patch: StatusPatch, notes: HistoryNote[], changed: boolean): Transition {
  if (actions.length > 0) return act(actions, { patch, notes });
  return changed ? poll("Evacuating", "evacuating", { patch, notes }) : poll("Evacuating", "evacuating");
}

/** Everything that was to leave has left: the node may be rebooted. */
function evacuated(
  ctx: PatchContext,
  obs: Observation,
  patch: StatusPatch,
  notes: HistoryNote[],
): Transition {
  const resources = obs.cluster?.resources;
  if (!resources?.ok) return poll("Evacuating", "evacuating");
  const leaving = new Set([
    ...(patch.migrations ?? []).map((m) => m.vmid),
    ...(ctx.status.haMaintenance?.guests ?? []),
  ]);
  const stillHere = resources.value.guests.filter(
    (g) => g.node === ctx.host && g.status === "running" && leaving.has(g.vmid),
  );
  if (stillHere.length > 0)
    return poll("Evacuating", `waiting for ${stillHere.map((g) => g.vmid).join(", ")} to leave ${ctx.host}`, {
      patch,
      notes,
    });
  const others = othersStillLeaving(ctx);
  if (others) return poll("Evacuating", others, { patch, notes });
  const back = ctx.spec.evacuation.migrateBack;
  const rec = ctx.status.haMaintenance;
  return goto("Rebooting", `${ctx.host} is empty; rebooting`, {
    patch: {
      ...patch,
      migrationsToUndo: back ? returnOrder((patch.migrations ?? []).map(reverse), ctx.patchedNodes) : [],
      currentStep: undefined,
      ...(rec ? { haMaintenance: { ...rec, enteredAt: iso(ctx.now) } } : {}),
    },
    notes: [
      ...notes,
      { step: "evacuate", outcome: "done", message: `${leaving.size} guest(s) moved off ${ctx.host}` },
    ],
  });
}

function reverse(m: Migration): Migration {
  const {
    startedAt: _s,
    finishedAt: _f,
    message: _m,
    taskId: _t,
    attempt: _a,
    retryAt: _r,
    awaitingStart: _w,
    ...rest
  } = m;
  return { ...rest, from: m.to, to: m.from, state: "Planned" };
}
