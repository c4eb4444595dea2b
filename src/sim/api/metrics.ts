import { rootUsage } from "../commands/system.js";
import { isOnline, nodeMemoryUsed, observedGuestStatus } from "../model/cluster.js";
import { haServiceState } from "../model/ha-view.js";
import type { GuestState, HostState } from "../model/state.js";
import type { Sim } from "../world.js";

/** Metrics shared by /cluster/resources, /nodes/<n>/status and the guest lists. */

export function nodeUptime(sim: Sim, host: HostState): number {
  return isOnline(host) ? Math.max(0, Math.floor((sim.now() - host.bootedAt) / 1000)) : 0;
}

export function nodeCpu(sim: Sim, host: HostState): number {
  const running = sim.guestsOn(host.name).filter((g) => g.status === "running").length;
  return Math.round((0.012 + running * 0.011) * 10000) / 10000;
}

export function guestUptime(sim: Sim, g: GuestState): number {
  return g.status === "running" && g.startedAt !== undefined
    ? Math.max(0, Math.floor((sim.now() - g.startedAt) / 1000))
    : 0;
}

export function guestMem(g: GuestState): number {
  return g.status === "running" ? Math.round(g.memoryBytes * 0.42) : 0;
}

export function guestMaxDisk(g: GuestState): number {
  return g.disks[0]?.sizeBytes ?? 0;
}

/** A guest row of /cluster/resources; offline nodes give `status:"unknown"` and no metrics. */
export function guestResource(sim: Sim, g: GuestState): Record<string, unknown> {
  const status = observedGuestStatus(sim, g);
  const base: Record<string, unknown> = {
    id: `${g.type}/${g.vmid}`,
    type: g.type,
    vmid: g.vmid,
    node: g.node,
    status,
  };
  if (g.pool) base.pool = g.pool;
  if (g.tags.length > 0) base.tags = g.tags.join(";");
  if (status === "unknown") return base;
  const running = g.status === "running";
  const row: Record<string, unknown> = {
    ...base,
    name: g.name,
    template: g.template ? 1 : 0,
    tags: g.tags.join(";"),
    cpu: running ? 0.0123 + (g.vmid % 7) / 1000 : 0,
    maxcpu: g.cores,
    mem: guestMem(g),
    maxmem: g.memoryBytes,
    disk: g.type === "lxc" ? Math.round(guestMaxDisk(g) * 0.3) : 0,
    maxdisk: guestMaxDisk(g),
    netin: running ? 123456 * (g.vmid % 13) : 0,
    netout: running ? 98765 * (g.vmid % 11) : 0,
    diskread: running ? 5_555_555 : 0,
    diskwrite: running ? 4_444_444 : 0,
    uptime: guestUptime(sim, g),
  };
  if (g.ha) row.hastate = haServiceState(sim, g);
  if (g.lock) row.lock = g.lock;
  return row;
}

export function nodeResource(sim: Sim, host: HostState): Record<string, unknown> {
  if (!isOnline(host))
    return { id: `node/${host.name}`, type: "node", node: host.name, status: "offline", level: "" };
  const root = rootUsage(sim, host);
  return {
    id: `node/${host.name}`,
    type: "node",
    node: host.name,
    status: "online",
    level: "",
    "cgroup-mode": 2,
    cpu: nodeCpu(sim, host),
    maxcpu: host.cpus,
    mem: nodeMemoryUsed(sim, host.name),
    maxmem: host.memoryBytes,
    disk: root.used,
    maxdisk: root.size,
    uptime: nodeUptime(sim, host),
  };
}
