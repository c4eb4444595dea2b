/** Verifying, Restoring and Blocked: prove the patch, undo the evacuation, or look again. */
import type { Needs, Observation, PatchContext } from "../observation.js";
import {
  act,
  fail,
  goto,
  poll,
  wait,
  type HistoryNote,
  type Migration,
  type Transition,
} from "../transition.js";
import { iso } from "./gating.js";
import { decideLeaveMaintenance, HA_LRM_UNIT } from "./ha-maintenance.js";
import {
  driveMigrations,
  mediaToRestore,
  migrationJobs,
  migrationTaskNeeds,
  startsPending,
} from "./migrations.js";
import { driveStarts } from "./shutdowns.js";
import { isDone, nooutAfterReturn } from "./ceph-noout.js";

/** Ceph too: nothing goes on while it recovers from the node's return; the cluster while HA still has to start a relocated container. */
export function verifyingNeeds(ctx: PatchContext): Needs {
  const starts = (ctx.status.migrations ?? []).some((m) => m.awaitingStart);
  return { node: { pendingUpdates: true }, ceph: true, ...(starts ? { cluster: true } : {}) };
}

/**
 * The containers HA relocated off the node before its reboot run on their targets (migrations.ts
 * startsPending): a transition while one is still owed, else what to carry into Restoring.
 */
function relocatedStarted(
  ctx: PatchContext,
  obs: Observation,
): Transition | { migrations?: Migration[]; notes: HistoryNote[] } {
  if (!(ctx.status.migrations ?? []).some((m) => m.awaitingStart)) return { notes: [] };
  if (!obs.cluster) return poll("Verifying", "reading the cluster to see HA start the relocated containers");
  const s = startsPending(ctx, obs.cluster);
  if (s.overdue) {
    return fail("RelocationFailed", s.overdue, {
      patch: { migrations: s.list },
      notes: [...s.notes, { step: "migrate", outcome: "failed", message: s.overdue }],
    });
  }
  if (s.waiting.length === 0) return { migrations: s.list, notes: s.notes };
  const message = `waiting for HA to start ${s.waiting.map((m) => `${m.vmid} on ${m.to}`).join(", ")}`;
  return s.notes.length > 0
    ? poll("Verifying", message, { patch: { migrations: s.list }, notes: s.notes })
    : poll("Verifying", message);
}

export function decideVerifying(ctx: PatchContext, obs: Observation): Transition {
  if (!obs.node?.ok) return poll("Verifying", `the node cannot be read: ${obs.node?.message ?? "not read"}`);
  // Ceph first: its recovery holds the flow (and every other node) whatever the kernel says.
  const noout = nooutAfterReturn(ctx, obs.ceph, "Verifying");
  if (!isDone(noout)) return noout;
  const o = obs.node.value;
  if (
    ctx.status.rebootDecision?.required &&
    o.reboot.ok &&
    o.reboot.value.needed &&
    o.reboot.value.bootKernel !== o.reboot.value.runningKernel
  ) {
    const message = `${ctx.host} came back on kernel ${o.reboot.value.runningKernel}, not ${o.reboot.value.bootKernel ?? "the newest"}`;
    return fail("OldKernel", message, {
      patch: noout.patch,
      notes: [...noout.notes, { step: "verify", outcome: "failed", message }],
    });
  }
  const started = relocatedStarted(ctx, obs);
  if ("kind" in started) return started;
  const left = o.pendingUpdates?.ok ? o.pendingUpdates.value.changes.length : undefined;
  const message = `verified${left ? ` (${left} package(s) newly pending)` : ""}; returning guests`;
  return goto("Restoring", message, {
    patch: { ...noout.patch, ...(started.migrations ? { migrations: started.migrations } : {}) },
    notes: [
      ...noout.notes,
      ...started.notes,
      {
        step: "verify",
        outcome: "done",
        message,
        extra: o.runningKernel.ok ? { runningKernel: o.runningKernel.value } : {},
      },
    ],
  });
}

export function restoringNeeds(ctx: PatchContext): Needs {
  const rec = ctx.status.haMaintenance;
  return {
    cluster: true,
    jobs: migrationJobs(ctx, ctx.status.migrationsToUndo ?? [], true),
    tasks: migrationTaskNeeds(ctx.status.migrationsToUndo ?? []),
    // Ejected CD images are proven back from the guests' configs.
    ...(mediaToRestore(ctx.status.migrationsToUndo ?? []) ? { guests: true } : {}),
    ...(rec && !rec.leftAt ? { services: [HA_LRM_UNIT] } : {}),
  };
}

/** HA maintenance off first (guests may only come back to a node that takes them), then back, then starts. */
export function decideRestoring(ctx: PatchContext, obs: Observation): Transition {
  if (!obs.cluster) return poll("Restoring", "returning guests");
  const ha = decideLeaveMaintenance(ctx, obs);
  if (ha !== "left") return ha;
  const back = driveMigrations(ctx, ctx.status.migrationsToUndo ?? [], obs, true);
  const backFailed = typeof back.outcome === "object" ? back.outcome.failed : undefined;
  if (back.outcome === "working") {
    if (back.actions.length > 0)
      return act(back.actions, { patch: { migrationsToUndo: back.list }, notes: back.notes });
    return poll(
      "Restoring",
      "returning guests",
      back.changed ? { patch: { migrationsToUndo: back.list }, notes: back.notes } : {},
    );
  }
  const starts = driveStarts(ctx, ctx.status.shutdowns ?? [], obs);
  const patch = { migrationsToUndo: back.list, shutdowns: starts.list };
  if (starts.actions.length > 0)
    return act(starts.actions, { patch, notes: [...back.notes, ...starts.notes] });
  if (starts.outcome === "working")
    return poll("Restoring", "starting the guests that were shut down", { patch, notes: starts.notes });
  return succeeded(ctx, patch, backFailed);
}

function succeeded(ctx: PatchContext, patch: object, backFailed: string | undefined): Transition {
  const started = (ctx.status.shutdowns ?? []).length;
  const kept = ctx.status.keptBackPackages ?? [];
  // Patched, but not up to date while apt keeps packages back: the message says what needs a person.
  const keptNote =
    kept.length > 0 ? `; ${kept.length} package(s) kept back need a person: ${kept.join(", ")}` : "";
  const message = `patched${ctx.status.rebootDecision?.required ? " and rebooted once" : ""}${started ? `; ${started} guest(s) shut down and started again` : ""}${backFailed ? `; ${backFailed}` : ""}${keptNote}`;
  return goto("Succeeded", message, {
    patch: {
      ...patch,
      finishedAt: iso(ctx.now),
      // The node is patched; a guest that cannot go back stays where it is, and says so.
      ...(backFailed
        ? {
            lastError: {
              reason: "MigrateBackFailed",
              message: backFailed,
              at: iso(ctx.now),
              retryable: false,
            },
          }
        : {}),
    },
    notes: [{ step: "patch", outcome: "done", message }],
    requeue: "never",
  });
}

/** Blocked is re-evaluated from the start: nothing moved, so Preflight decides again. */
export function decideBlocked(ctx: PatchContext): Transition {
  if (ctx.halt) return wait(ctx.halt.reason, ctx.status.message ?? "blocked");
  if ((ctx.status.migrations ?? []).some((m) => m.state !== "Planned"))
    return wait("Blocked", ctx.status.message ?? "blocked");
  return goto("Preflight", `re-checking after: ${ctx.status.message ?? "blocked"}`, {
    patch: { migrations: [], shutdowns: [], currentStep: undefined },
  });
}
