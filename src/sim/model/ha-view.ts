import type { Sim } from "../world.js";
import { clusterQuorum, isOnline } from "./cluster.js";
import type { ClusterState, GuestState } from "./state.js";

/** How the HA stack looks from outside: CRM master, LRM states and service states. */

export function haSid(guest: GuestState): string {
  return `${guest.type === "qemu" ? "vm" : "ct"}:${guest.vmid}`;
}

export function haGuests(sim: Sim, cluster: ClusterState): GuestState[] {
  return sim.guestsIn(cluster.name).filter((g) => g.ha !== undefined);
}

/** The CRM only works once something is HA-managed or maintenance was requested. */
export function haActive(sim: Sim, cluster: ClusterState): boolean {
  return haGuests(sim, cluster).length > 0 || Object.keys(cluster.maintenanceRequested).length > 0;
}

/** The CRM master: sticky while online and quorate, else the first online node. */
export function haMaster(sim: Sim, cluster: ClusterState): string | undefined {
  if (!clusterQuorum(sim, cluster).quorate) return cluster.haMaster;
  const current = cluster.haMaster ? sim.state.hosts[cluster.haMaster] : undefined;
  if (current && isOnline(current)) return current.name;
  const next = cluster.nodes.find((n) => isOnline(sim.state.hosts[n]));
  cluster.haMaster = next;
  return next;
}

export interface LrmView {
  mode: "active" | "maintenance" | "restart" | "shutdown";
  state: "active" | "wait_for_agent_lock" | "maintenance" | "lost_agent_lock";
  /** The text inside `lrm <node> (…)`. */
  word: string;
  dead: boolean;
}

export function lrmView(sim: Sim, cluster: ClusterState, node: string): LrmView {
  const host = sim.state.hosts[node];
  if (!isOnline(host))
    return { mode: "active", state: "lost_agent_lock", word: "old timestamp - dead?", dead: true };
  if (cluster.haNodeStatus[node] === "maintenance" || cluster.maintenanceRequested[node])
    return { mode: "maintenance", state: "maintenance", word: "maintenance mode", dead: false };
  const busy = haGuests(sim, cluster).some((g) => g.node === node);
  return busy
    ? { mode: "active", state: "active", word: "active", dead: false }
    : { mode: "active", state: "wait_for_agent_lock", word: "idle", dead: false };
}

/** The CRM state of a service (`started`, `stopped`, `migrate`, `freeze`, `fence`, ...). */
export function haServiceState(sim: Sim, guest: GuestState): string {
  const ha = guest.ha;
  if (!ha) return "";
  if (!isOnline(sim.state.hosts[guest.node]) && ha.runtime !== "freeze") return "fence";
  return ha.runtime;
}
