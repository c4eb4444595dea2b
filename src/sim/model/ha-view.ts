import type { Sim } from "../world.js";
import { clusterQuorum, isOnline } from "./cluster.js";
import type { ClusterState, GuestState, HostState, LrmMode, LrmStateName } from "./state.js";

/**
 * How the HA stack looks from outside: CRM master, LRM states and service states, computed the way
 * pve-ha-manager's status API does (src/PVE/API2/HA/Status.pm).
 */

export function haSid(guest: GuestState): string {
  return `${guest.type === "qemu" ? "vm" : "ct"}:${guest.vmid}`;
}

export function haGuests(sim: Sim, cluster: ClusterState): GuestState[] {
  return sim.guestsIn(cluster.name).filter((g) => g.ha !== undefined);
}

/** Services in manager_status: ignored ones are dropped by the CRM. */
export function haServices(sim: Sim, cluster: ClusterState): GuestState[] {
  return haGuests(sim, cluster).filter((g) => g.ha!.state !== "ignored");
}

/** The CRM only works once something is HA-managed or maintenance was requested. */
export function haActive(sim: Sim, cluster: ClusterState): boolean {
  return (
    haGuests(sim, cluster).length > 0 ||
    Object.keys(cluster.maintenanceRequested).length > 0 ||
    cluster.crmCommands.length > 0
  );
}

/** pve-ha-crm runs on the node (it starts some seconds after boot). */
export function crmRunning(host: HostState | undefined): boolean {
  return isOnline(host) && host!.services["pve-ha-crm"]?.active === "active";
}

/** pve-ha-lrm runs on the node (while it shuts down it is `deactivating` and still works). */
export function lrmRunning(host: HostState | undefined): boolean {
  if (!host || (host.power !== "up" && host.power !== "shutting-down")) return false;
  const a = host.services["pve-ha-lrm"]?.active;
  return a === "active" || a === "deactivating";
}

/** The CRM master: sticky while its CRM runs, else the first node whose CRM runs. */
export function haMaster(sim: Sim, cluster: ClusterState): string | undefined {
  if (!clusterQuorum(sim, cluster).quorate) return cluster.haMaster;
  const current = cluster.haMaster ? sim.state.hosts[cluster.haMaster] : undefined;
  if (current && crmRunning(current)) return current.name;
  const next = cluster.nodes.find((n) => crmRunning(sim.state.hosts[n]));
  if (next) cluster.haMaster = next;
  return next ?? cluster.haMaster;
}

/** The node manager_status names for a service: the source while a migration is not yet processed. */
export function haServiceNode(guest: GuestState): string {
  const ha = guest.ha;
  if (ha && (ha.runtime === "migrate" || ha.runtime === "relocate") && ha.source) return ha.source;
  return guest.node;
}

/**
 * PVE::HA::Tools::count_active_services: services on the node or migrating to it, except stopped,
 * frozen, erroneous and request_start ones.
 */
export function activeServiceCount(sim: Sim, cluster: ClusterState, node: string): number {
  return haServices(sim, cluster).filter((g) => {
    const ha = g.ha!;
    if (haServiceNode(g) !== node && ha.target !== node) return false;
    return !["stopped", "freeze", "error", "request_start"].includes(ha.runtime);
  }).length;
}

export interface LrmView {
  mode: LrmMode;
  state: LrmStateName;
  /** When the status was written (ms). */
  timestamp: number;
  /** The text inside `lrm <node> (…)`. */
  word: string;
  running: boolean;
}

/** Last write of each running LRM (runtime only: it moves with time, so it is not in SimState). */
const lastWrite = new WeakMap<HostState, number>();

export function noteLrmWrite(host: HostState, at: number): void {
  lastWrite.set(host, at);
}

export function lrmView(sim: Sim, cluster: ClusterState, node: string): LrmView {
  const host = sim.state.hosts[node];
  const file = cluster.lrm[node] ?? { mode: "active", state: "wait_for_agent_lock" };
  const running = lrmRunning(host);
  const now = sim.now();
  const timestamp = (host ? lastWrite.get(host) : undefined) ?? file.lastWriteAt ?? now;
  // Status.pm: older than 30 s is "old timestamp - dead?"; a maintenance mode shows regardless.
  let word: string;
  if (now - timestamp > 30_000)
    word = file.mode === "maintenance" ? "maintenance mode" : "old timestamp - dead?";
  else if (file.mode !== "active") word = `${file.mode} mode`;
  else if (file.state === "wait_for_agent_lock" && activeServiceCount(sim, cluster, node) === 0)
    word = "idle";
  else word = file.state;
  return { mode: file.mode, state: file.state, timestamp, word, running };
}

/** The CRM state of a service (`started`, `stopped`, `migrate`, `freeze`, `fence`, ...). */
export function haServiceState(sim: Sim, guest: GuestState): string {
  const ha = guest.ha;
  if (!ha) return "";
  if (ha.state === "ignored") return "ignored";
  if (!isOnline(sim.state.hosts[haServiceNode(guest)]) && ha.runtime === "started") return "fence";
  return ha.runtime;
}
