/** Pending and Preflight: reset for the cycle, then decide whether and how this node is patched. */
import { parseDuration } from "../../../src/api/primitives.js";
import { PveReason, unavailable, type NodeObservation } from "../../../src/pve/index.js";
import { prefetchFresh, upgradeCommand } from "../commands.js";
import { busyOr, packagePlan, skipMessage, upgradeMessage } from "./packages.js";
import { decideRepair, repairing, repairNeeds, startRepair } from "./dpkg-repair.js";
import { evaluateGates } from "../gates/index.js";
import type { Needs, Observation, PatchContext } from "../observation.js";
import { rebootDecision, upToDate } from "../reboot-decision.js";
import { act, goto, run, wait, withPatch, type StatusPatch, type Transition } from "../transition.js";
import { halted, iso, notNow } from "./gating.js";
import { haMaintenanceLeftover } from "./ha-maintenance.js";
import { isDone, nooutAfterReturn } from "./ceph-noout.js";
import { listsFreshFromPrefetch, prefetchAtTurn, prefetchNeeds, prefetchWhileWaiting } from "../prefetch.js";

export function decidePending(ctx: PatchContext): Transition {
  return goto("Preflight", "observing the node", {
    patch: {
      startedAt: iso(ctx.now),
      gates: [],
      pendingPackages: [],
      upgradedPackages: [],
      keptBackPackages: [],
      dpkgRepair: undefined,
      migrations: [],
      migrationsToUndo: [],
      shutdowns: [],
      bootIdBeforeReboot: undefined,
      bootIdAfterReboot: undefined,
      rebootIssuedAt: undefined,
      rebootDecision: undefined,
      currentStep: undefined,
      prefetch: undefined,
      finishedAt: undefined,
      lastError: undefined,
    },
  });
}

/**
 * While the node waits only its prefetch download is read (its turn and the kill switch are known
 * without SSH); at its turn, a download still running first, then the node.
 */
export function preflightNeeds(ctx: PatchContext, first?: Observation): Needs {
  if (repairing(ctx)) return repairNeeds(ctx);
  if (ctx.halt || !ctx.turn.ok) return prefetchNeeds(ctx);
  const download = prefetchNeeds(ctx);
  if (download.jobs && (!first || first.jobs[download.jobs[0]!.id]?.state === "running")) return download;
  return {
    refreshIndex: !listsFreshFromPrefetch(ctx, first),
    node: { pendingUpdates: true },
    cluster: true,
    ceph: true,
    ...download,
  };
}

export function decidePreflight(ctx: PatchContext, obs: Observation): Transition {
  // A repair recorded in status is seen through first (also after a crash), halt or not: it runs.
  if (repairing(ctx)) return decideRepair(ctx, obs);
  const stop = halted(ctx, "preflight");
  if (stop) return stop;
  if (!ctx.turn.ok)
    return prefetchWhileWaiting(ctx, obs, "WaitingForTurn", `${ctx.turn.message}${publishedNote(ctx)}`);
  const download = prefetchAtTurn(ctx, obs);
  if ("kind" in download) return download;
  if (obs.index && !obs.index.ok) return wait(busyOr(obs.index.reason), obs.index.message);
  if (!obs.node?.ok || !obs.cluster)
    return wait(
      "GateClosed",
      `the node cannot be observed: ${obs.node?.ok === false ? obs.node.message : "not read"}`,
    );
  return withPatch(decideFromObservation(ctx, obs.node.value, obs), download);
}

/** While it waits, what the cluster's last observation said of this node: read there, not again here. */
function publishedNote(ctx: PatchContext): string {
  const p = ctx.published;
  if (p?.pendingUpdates === undefined) return "";
  return `; ${p.pendingUpdates} update(s) pending${p.rebootRequired ? ", reboot needed" : ""} as of ${p.observedAt}`;
}

function decideFromObservation(ctx: PatchContext, node: NodeObservation, obs: Observation): Transition {
  const cluster = obs.cluster!;
  const gates = evaluateGates("pve", {
    host: ctx.host,
    spec: ctx.spec,
    safety: ctx.cluster.spec.safety,
    observed: { node, cluster, ceph: { state: obs.ceph ?? unavailable("NotObserved", "Ceph was not read") } },
  });
  const pendingObs = node.pendingUpdates;
  if (pendingObs && !pendingObs.ok && pendingObs.reason === PveReason.DpkgInterrupted)
    return startRepair(ctx, node, gates, pendingObs.message);
  if (!pendingObs?.ok)
    return wait(
      pendingObs?.reason === PveReason.LockHeld ? "PackageManagerBusy" : "GateClosed",
      `pending updates cannot be read: ${pendingObs?.message ?? "not observed"}`,
      { patch: { gates } },
    );
  const pkgs = packagePlan(ctx, node, pendingObs.value);
  const changes = pkgs.changes;
  const pendingPackages = changes.map((c) => ({
    name: c.package,
    ...(c.oldVersion ? { from: c.oldVersion } : {}),
    to: c.newVersion,
  }));
  const patch: StatusPatch = { gates, pendingPackages, keptBackPackages: [...pkgs.keptBack] };
  // A noout an earlier cycle left (it failed, or the controller was replaced) goes first.
  const noout = nooutAfterReturn(ctx, obs.ceph, "Preflight");
  if (!isDone(noout)) return withPatch(noout, patch);
  Object.assign(patch, noout.patch);
  const policy = ctx.spec.reboot.policy;
  const reboot = rebootDecision(policy, node.reboot);
  if (upToDate(policy, changes, reboot)) {
    const message = skipMessage(pkgs);
    return goto("Skipped", message, {
      patch: { ...patch, finishedAt: iso(ctx.now) },
      notes: [{ step: "preflight", outcome: "skipped", message }],
      requeue: "never",
    });
  }
  const leftover = haMaintenanceLeftover(ctx, cluster);
  if (leftover === "clear") Object.assign(patch, { haMaintenance: undefined });
  else if (leftover) return withPatch(leftover, patch);
  const closed = gates.filter((g) => !g.passed);
  if (closed.length > 0) {
    const message = `gates closed: ${closed.map((g) => `${g.name} (${g.message})`).join("; ")}`;
    return goto("Blocked", message, {
      patch,
      notes: [{ step: "preflight", outcome: "blocked", message }],
      requeue: "wait",
    });
  }
  const notYet = notNow(ctx, "the upgrade", parseDuration(ctx.spec.upgrade.timeout));
  if (notYet) return withPatch(notYet, patch);
  if (changes.length === 0) {
    // Nothing to install, but the node runs an older kernel than it would boot: reboot only.
    return goto("Evacuating", "no packages to install; a reboot is needed", {
      patch: { ...patch, rebootDecision: { required: true, reasons: reboot.reasons } },
    });
  }
  const prep = {
    repairDpkg: pkgs.repair !== undefined,
    hold: [...pkgs.hold],
    ...(prefetchFresh(ctx.status, ctx.now) ? { indexFresh: true } : {}),
  };
  const command = upgradeCommand(ctx.hp, ctx.spec, prep);
  const message = upgradeMessage(changes.length, pkgs);
  return act([run(command, "upgrade")], {
    phase: "Upgrading",
    message,
    patch: {
      ...patch,
      heldPackages: prep.hold.length > 0 ? prep.hold : undefined,
      ...(pkgs.repair
        ? { dpkgRepair: { ...pkgs.repair, at: iso(ctx.now), via: "upgrade-job" as const } }
        : {}),
      currentStep: {
        name: "upgrade",
        id: command.job!.id,
        startedAt: iso(ctx.now),
        timeout: ctx.spec.upgrade.timeout,
      },
    },
    notes: [{ step: "upgrade", outcome: "started", message, extra: { jobId: command.job!.id } }],
  });
}
