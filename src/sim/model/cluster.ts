import type { Sim } from "../world.js";
import type { ClusterState, GuestState, HostState } from "./state.js";

/**
 * A node is a cluster member while its corosync runs: from shortly after boot (corosync is still
 * `activating` when SSH already accepts) until it is down.
 */
export function isOnline(host: HostState | undefined): boolean {
  if (host === undefined || (host.power !== "up" && host.power !== "shutting-down")) return false;
  return !(host.kind === "pve" && host.services.corosync?.active === "activating");
}

export interface Quorum {
  expectedVotes: number;
  totalVotes: number;
  quorum: number;
  quorate: boolean;
  members: HostState[];
  /** two_node in effect: configured, and at most two nodes are members. */
  twoNode: boolean;
  /** The QDevice's votes counted now (0 when qnetd is unreachable), undefined without one. */
  qdeviceVotes: number | undefined;
}

/**
 * Votequorum as corosync computes it (exec/votequorum.c, calculate_quorum): expected votes are every
 * configured node's votes plus the QDevice's; total votes are the members' plus the QDevice's while
 * it casts them; quorum is half the expected votes plus one, and 1 under two_node while at most two
 * nodes are members.
 */
export function clusterQuorum(sim: Sim, cluster: ClusterState): Quorum {
  const hosts = cluster.nodes.map((n) => sim.state.hosts[n]!).filter(Boolean);
  const qdevice = cluster.qdevice;
  const expectedVotes = hosts.reduce((s, h) => s + h.votes, 0) + (qdevice?.votes ?? 0);
  const members = hosts.filter(isOnline);
  // wait_for_all is satisfied once every node is visible at the same time.
  if (members.length === hosts.length) for (const h of hosts) delete h.waitingForAll;
  const qdeviceVotes =
    qdevice === undefined ? undefined : qdevice.alive && members.length > 0 ? qdevice.votes : 0;
  const totalVotes = members.reduce((s, h) => s + h.votes, 0) + (qdeviceVotes ?? 0);
  const twoNode = cluster.twoNode && members.length <= 2;
  const quorum = twoNode ? 1 : Math.floor((Math.max(expectedVotes, totalVotes) + 2) / 2);
  const lost = sim.faults.find("quorumLoss", (f) => f.cluster === cluster.name) !== undefined;
  const quorate = cluster.standalone ? true : !lost && members.length > 0 && totalVotes >= quorum;
  return { expectedVotes, totalVotes, quorum, quorate, members, twoNode, qdeviceVotes };
}

/**
 * Whether `host` itself has quorum: the cluster's, and only while the host is a member (a node whose
 * corosync is (re)starting is outside the membership and has none: pmxcfs refuses its writes).
 */
export function isQuorate(sim: Sim, host: HostState): boolean {
  const c = sim.clusterOf(host);
  if (!c) return true;
  if (!c.standalone && !isOnline(host)) return false;
  const q = clusterQuorum(sim, c);
  return q.quorate && !host.waitingForAll;
}

/** Memory in use on a node: the host's own plus every running guest and reserved incoming guests. */
export function nodeMemoryUsed(sim: Sim, node: string): number {
  const host = sim.state.hosts[node];
  if (!host) return 0;
  let used = host.hostMemoryBytes;
  for (const g of Object.values(sim.state.guests)) {
    if (g.node === node && g.status === "running") used += g.memoryBytes;
    if (sim.reservations.get(g.vmid) === node) used += g.memoryBytes;
  }
  return used;
}

export function nodeMemoryFree(sim: Sim, node: string): number {
  const host = sim.state.hosts[node];
  if (!host) return 0;
  return Math.max(0, host.memoryBytes - nodeMemoryUsed(sim, node));
}

/** Holds a guest's memory on a target while it migrates there; returns the release function. */
export function reserveMemory(sim: Sim, guest: GuestState, node: string): () => void {
  sim.reservations.set(guest.vmid, node);
  return () => {
    if (sim.reservations.get(guest.vmid) === node) sim.reservations.delete(guest.vmid);
  };
}

/** The status `/cluster/resources` and the guest lists report: `unknown` while the node is down. */
export function observedGuestStatus(sim: Sim, guest: GuestState): "running" | "stopped" | "unknown" {
  const node = sim.state.hosts[guest.node];
  if (!isOnline(node)) return "unknown";
  return guest.status === "unknown" ? "stopped" : guest.status;
}
