/**
 * HA node maintenance (evacuation mode HAMaintenance). Entered: the LRM reports maintenance AND no
 * HA-managed guest still runs on the node (the LRM shows maintenance before its services have left).
 * Left: only once `pve-ha-lrm` is active again, and done when the manager reads the node online.
 */
import type { ClusterObservation } from "../../../src/pve/index.js";
import { maintenanceCommand } from "../commands.js";
import type { Observation, PatchContext } from "../observation.js";
import { act, goto, run, wait, type Transition } from "../transition.js";
import { iso, resendDue } from "./gating.js";

export const HA_LRM_UNIT = "pve-ha-lrm";

interface NodeHa {
  readable: boolean;
  inMaintenance: boolean;
  online: boolean;
  lrm: string;
}

export function nodeHa(cluster: ClusterObservation | undefined, host: string): NodeHa {
  const ha = cluster?.haManager;
  if (!ha?.ok) return { readable: false, inMaintenance: false, online: false, lrm: "unreadable" };
  const nodeStatus = ha.value.nodeStatus[host];
  const lrm = ha.value.lrm[host];
  const inMaintenance = nodeStatus === "maintenance" || lrm?.mode === "maintenance";
  return {
    readable: true,
    inMaintenance,
    online: !inMaintenance && (nodeStatus === undefined || nodeStatus === "online"),
    lrm: `${lrm?.mode ?? "?"}/${lrm?.state ?? "?"}`,
  };
}

/** Evacuating: ask for maintenance (once the intent is recorded) and wait until it has taken effect. */
export function decideEnterMaintenance(ctx: PatchContext, obs: Observation): Transition | "entered" {
  const rec = ctx.status.haMaintenance;
  if (!rec || rec.enteredAt) return "entered";
  const ha = nodeHa(obs.cluster, ctx.host);
  if (!ha.readable) return wait("Evacuating", "the HA manager status cannot be read; waiting");
  const haLeft = !obs.cluster?.resources.ok
    ? false
    : !obs.cluster.resources.value.guests.some(
        (g) => g.node === ctx.host && g.status === "running" && rec.guests.includes(g.vmid),
      );
  if (ha.inMaintenance && haLeft) return "entered";
  if (!ha.inMaintenance && resendDue(ctx, rec.requestedAt))
    return act([run(maintenanceCommand(ctx.host, true), "ha-maintenance-enable")], {
      patch: { haMaintenance: { ...rec, requestedAt: iso(ctx.now) } },
      reason: "Evacuating",
      message: `asking HA to put ${ctx.host} into maintenance`,
    });
  return wait(
    "Evacuating",
    ha.inMaintenance
      ? `${ctx.host} is in HA maintenance; waiting for HA to move its services off`
      : `waiting for the HA manager to put ${ctx.host} into maintenance (LRM ${ha.lrm})`,
    { requeue: "poll" },
  );
}

/** Restoring: leave maintenance once the LRM runs again; done when the node reads online. */
export function decideLeaveMaintenance(ctx: PatchContext, obs: Observation): Transition | "left" {
  const rec = ctx.status.haMaintenance;
  if (!rec || rec.leftAt) return "left";
  const ha = nodeHa(obs.cluster, ctx.host);
  if (!ha.readable) return wait("Restoring", "the HA manager status cannot be read; waiting");
  if (rec.disableRequestedAt && ha.online)
    return goto("Restoring", `${ctx.host} left HA maintenance`, {
      patch: { haMaintenance: { ...rec, leftAt: iso(ctx.now) } },
      notes: [{ step: "ha-maintenance", outcome: "done", message: `${ctx.host} left HA maintenance` }],
    });
  const lrm = obs.services?.ok ? obs.services.value[HA_LRM_UNIT] : undefined;
  if (lrm !== "active")
    return wait(
      "Restoring",
      `waiting for ${HA_LRM_UNIT} to be active before leaving HA maintenance (${lrm ?? "unreadable"})`,
      {
        requeue: "poll",
      },
    );
  if (resendDue(ctx, rec.disableRequestedAt))
    return act([run(maintenanceCommand(ctx.host, false), "ha-maintenance-disable")], {
      patch: { haMaintenance: { ...rec, disableRequestedAt: iso(ctx.now) } },
      reason: "Restoring",
      message: `asking HA to take ${ctx.host} out of maintenance`,
    });
  return wait("Restoring", `waiting for ${ctx.host} to read online in the HA manager (LRM ${ha.lrm})`, {
    requeue: "poll",
  });
}

/**
 * Preflight: a node in HA maintenance that this patch did not put there (a crash of another tool,
 * or a person) is reported and not touched; one this plan left in maintenance is finished first.
 */
export function haMaintenanceLeftover(
  ctx: PatchContext,
  cluster: ClusterObservation,
): Transition | "clear" | undefined {
  const ha = nodeHa(cluster, ctx.host);
  const rec = ctx.status.haMaintenance;
  // Someone else took it out of maintenance: the record is history.
  if (!ha.inMaintenance) return rec ? "clear" : undefined;
  if (!rec || rec.leftAt) {
    const message = `${ctx.host} is in HA maintenance, which this plan did not enable (left by a crash, another tool or a person); leave it with \`ha-manager crm-command node-maintenance disable ${ctx.host}\` once that is safe`;
    return goto("Blocked", message, {
      patch: { lastError: { reason: "InHaMaintenance", message, at: iso(ctx.now), retryable: true } },
      notes: [{ step: "preflight", outcome: "blocked", message }],
      requeue: "wait",
    });
  }
  if (!resendDue(ctx, rec.disableRequestedAt))
    return wait("Preflight", `waiting for ${ctx.host} to leave the HA maintenance cycle ${rec.cycle} left`);
  return act([run(maintenanceCommand(ctx.host, false), "ha-maintenance-disable")], {
    patch: { haMaintenance: { ...rec, disableRequestedAt: iso(ctx.now) } },
    reason: "Preflight",
    message: `finishing the HA maintenance that cycle ${rec.cycle} left on ${ctx.host}`,
  });
}
