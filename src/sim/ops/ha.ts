import { clusterQuorum, isOnline, nodeMemoryFree } from "../model/cluster.js";
import { haGuests, haMaster } from "../model/ha-view.js";
import type { ClusterState, GuestState } from "../model/state.js";
import { SimStopped, type Sim } from "../world.js";
import { migrateGuest } from "./migrate.js";
import { startGuest, stopGuest } from "./power.js";

/**
 * The HA CRM, one round every `haRoundSeconds`: node maintenance takes effect (services move to an
 * online, non-maintenance node with enough memory, and back when maintenance ends), requested HA
 * migrations run, stopped services that should be started are started, and services of a node that
 * has been dead for two minutes are recovered elsewhere (fencing). Nothing happens without quorum.
 */

const FENCE_AFTER_SECONDS = 120;
const busy = new WeakSet<GuestState>();
const deadSince = new WeakMap<ClusterState, Record<string, number>>();

function pickTarget(sim: Sim, cluster: ClusterState, g: GuestState, exclude: string): string | undefined {
  const candidates = cluster.nodes.filter(
    (n) =>
      n !== exclude &&
      isOnline(sim.state.hosts[n]) &&
      cluster.haNodeStatus[n] !== "maintenance" &&
      !cluster.maintenanceRequested[n],
  );
  const fits = candidates.filter((n) => g.status !== "running" || nodeMemoryFree(sim, n) >= g.memoryBytes);
  fits.sort((a, b) => nodeMemoryFree(sim, b) - nodeMemoryFree(sim, a));
  return fits[0];
}

function runMigration(sim: Sim, g: GuestState, target: string, after: () => void): void {
  busy.add(g);
  const ha = g.ha!;
  const before = ha.runtime;
  ha.runtime = "migrate";
  sim.spawn(`ha migrate ${g.vmid}`, async () => {
    try {
      await migrateGuest(sim, g, {
        target,
        online: true,
        withLocalDisks: false,
        restart: true,
        via: "ha",
        log: () => undefined,
      });
      ha.runtime = g.status === "running" ? "started" : ha.state === "started" ? "started" : "stopped";
      after();
    } catch (e) {
      if (e instanceof SimStopped) throw e;
      ha.runtime = before === "migrate" ? "started" : before;
    } finally {
      busy.delete(g);
    }
  });
}

export function haRound(sim: Sim, cluster: ClusterState): void {
  if (cluster.standalone || !clusterQuorum(sim, cluster).quorate) return;
  if (!haMaster(sim, cluster)) return;
  const now = sim.now();
  const dead = deadSince.get(cluster) ?? {};
  deadSince.set(cluster, dead);
  for (const n of cluster.nodes) {
    const online = isOnline(sim.state.hosts[n]);
    if (!online) {
      dead[n] ??= now;
      continue;
    }
    delete dead[n];
    if (cluster.maintenanceRequested[n]) cluster.haNodeStatus[n] = "maintenance";
    else if (cluster.haNodeStatus[n] === "maintenance") {
      cluster.haNodeStatus[n] = "online";
      for (const g of haGuests(sim, cluster))
        if (g.ha!.maintenanceOrigin === n && g.node !== n) g.ha!.pendingMigrate = n;
    } else cluster.haNodeStatus[n] = "online";
  }
  for (const g of haGuests(sim, cluster)) {
    const ha = g.ha!;
    if (busy.has(g) || ha.state === "ignored" || ha.state === "disabled") continue;
    const nodeOnline = isOnline(sim.state.hosts[g.node]) && sim.state.hosts[g.node]!.power === "up";
    if (nodeOnline && ha.runtime === "freeze") ha.runtime = g.status === "running" ? "started" : "stopped";
    if (ha.pendingMigrate) {
      const target = ha.pendingMigrate;
      if (target === g.node) {
        ha.pendingMigrate = undefined;
        ha.maintenanceOrigin = undefined;
        continue;
      }
      if (!isOnline(sim.state.hosts[target]) || cluster.haNodeStatus[target] === "maintenance") continue;
      ha.pendingMigrate = undefined;
      runMigration(sim, g, target, () => {
        if (ha.maintenanceOrigin === target) ha.maintenanceOrigin = undefined;
      });
      continue;
    }
    if (nodeOnline && cluster.haNodeStatus[g.node] === "maintenance" && !g.lock) {
      const target = pickTarget(sim, cluster, g, g.node);
      if (!target) continue;
      ha.maintenanceOrigin ??= g.node;
      runMigration(sim, g, target, () => undefined);
      continue;
    }
    if (
      !nodeOnline &&
      ha.runtime !== "freeze" &&
      dead[g.node] !== undefined &&
      now - dead[g.node]! >= FENCE_AFTER_SECONDS * 1000
    ) {
      // Fenced: the service is recovered on another node.
      const target = pickTarget(sim, cluster, { ...g, status: "running" }, g.node);
      if (!target) continue;
      g.node = target;
      g.status = "stopped";
      ha.runtime = "recovery";
    }
    if (
      nodeOnline &&
      ha.state === "started" &&
      g.status !== "running" &&
      !g.lock &&
      cluster.haNodeStatus[g.node] !== "maintenance"
    ) {
      busy.add(g);
      sim.spawn(`ha start ${g.vmid}`, async () => {
        try {
          await startGuest(sim, g, "ha-start");
          ha.runtime = "started";
        } catch (e) {
          if (e instanceof SimStopped) throw e;
          ha.runtime = "error";
        } finally {
          busy.delete(g);
        }
      });
    } else if (nodeOnline && ha.state === "stopped" && g.status === "running" && !g.lock) {
      busy.add(g);
      sim.spawn(`ha stop ${g.vmid}`, async () => {
        try {
          await stopGuest(sim, g, "ha-stop", true);
          ha.runtime = "stopped";
        } finally {
          busy.delete(g);
        }
      });
    }
  }
}

export function startHaLoop(sim: Sim): void {
  sim.spawn("ha crm", async () => {
    for (;;) {
      await sim.sleep(sim.timing.haRoundSeconds);
      for (const c of Object.values(sim.state.clusters)) haRound(sim, c);
    }
  });
}
