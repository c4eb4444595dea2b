import { clusterQuorum, isOnline, type Quorum } from "../model/cluster.js";
import type { ClusterState, HostState } from "../model/state.js";
import { onPve, registerCommands } from "./registry.js";
import { ctime } from "./time-format.js";
import type { CommandContext } from "./types.js";
import { pmxcfsDown } from "./pmxcfs.js";

const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;
/** corosync-quorumtool's print_string_padded: right-aligned in 10 columns, then a space. */
const pad = (v: string | number): string => `${String(v).padStart(10)} `;

interface Member {
  host: HostState;
  id: number;
}

/**
 * The Membership information block of `corosync-quorumtool -siH` (what `pvecm status` prints after
 * its Cluster information): the Qdevice column and the nodeid-0 Qdevice line only when a QDevice is
 * registered (tools/corosync-quorumtool.c, display_nodes_data).
 */
function membership(members: Member[], local: string, q: Quorum): string[] {
  const withQdevice = q.qdeviceVotes !== undefined;
  const flags = q.qdeviceVotes ? "A,V,NMW" : "NA,NV,NMW";
  const lines = [`${pad("Nodeid")}${pad("Votes")}${withQdevice ? pad("Qdevice") : ""}Name`];
  for (const m of members)
    lines.push(
      `${hex8(m.id)} ${pad(m.host.votes)}${withQdevice ? pad(flags) : ""}${m.host.ip}${m.host.name === local ? " (local)" : ""}`,
    );
  return lines;
}

function qdeviceLine(cluster: ClusterState, q: Quorum): string[] {
  if (q.qdeviceVotes === undefined || cluster.qdevice === undefined) return [];
  const cast = q.qdeviceVotes > 0;
  return [
    `${hex8(0)} ${pad(cast ? q.qdeviceVotes : 0)}${" ".repeat(11)}Qdevice${cast ? "" : ` (votes ${cluster.qdevice.votes})`}`,
  ];
}

function quorumFlags(q: Quorum, cluster: ClusterState): string {
  const flags = [
    ...(q.twoNode ? ["2Node"] : []),
    ...(q.quorate ? ["Quorate"] : []),
    ...(cluster.twoNode ? ["WaitForAll"] : []),
    ...(q.qdeviceVotes !== undefined ? ["Qdevice"] : []),
  ];
  return flags.map((f) => `${f} `).join("");
}

/**
 * A node whose corosync runs but has not rejoined yet (restarted by an upgrade) is a partition of
 * its own: only itself a member, its own votes, not quorate.
 */
function localView(q: Quorum, local: HostState): Quorum {
  if (local.waitingForAll && isOnline(local)) return { ...q, quorate: false };
  if (isOnline(local) || local.power !== "up") return q;
  return {
    ...q,
    members: [local],
    totalVotes: local.votes,
    quorate: false,
    qdeviceVotes: q.qdeviceVotes === undefined ? undefined : 0,
  };
}

/** `pvecm status` / `pvecm nodes`, as corosync-quorumtool prints them under the CLI's `---` headings. */
function pvecm(ctx: CommandContext): number {
  if (ctx.place.kind !== "host") return 127;
  if (pmxcfsDown(ctx)) return 255;
  const local = ctx.place.host;
  const sub = ctx.argv[1];
  const cluster = ctx.sim.clusterOf(local);
  if (sub !== "status" && sub !== "nodes" && sub !== "expected") {
    ctx.err(`ERROR: unknown command 'pvecm ${sub ?? ""}'\nUSAGE: pvecm <COMMAND> [ARGS] [OPTIONS]\n`);
    return 255;
  }
  if (!cluster || cluster.standalone) {
    ctx.err(
      "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n",
    );
    return 2;
  }
  const q = localView(clusterQuorum(ctx.sim, cluster), local);
  const localId = cluster.nodes.indexOf(local.name) + 1;
  const members = cluster.nodes
    .map((n, i) => ({ host: ctx.sim.state.hosts[n]!, id: i + 1 }))
    .filter((m) => q.members.includes(m.host));
  if (sub === "nodes") {
    ctx.out(
      `\nMembership information\n----------------------\n    Nodeid      Votes Name\n${members.map((m) => `${String(m.id).padStart(10)}${String(m.host.votes).padStart(11)} ${m.host.name}${m.host.name === local.name ? " (local)" : ""}`).join("\n")}\n`,
    );
    return 0;
  }
  if (sub === "expected") {
    ctx.out("");
    return 0;
  }
  const text = [
    "Cluster information",
    "-------------------",
    `Name:             ${cluster.name}`,
    `Config Version:   ${cluster.configVersion}`,
    "Transport:        knet",
    "Secure auth:      on",
    "",
    "Quorum information",
    "------------------",
    `Date:             ${ctime(ctx.sim.now())}`,
    "Quorum provider:  corosync_votequorum",
    `Nodes:            ${members.length}`,
    `Node ID:          ${hex8(localId)}`,
    `Ring ID:          1.${(0x1a8 + ctx.sim.state.history.reboots.length).toString(16)}`,
    `Quorate:          ${q.quorate ? "Yes" : "No"}`,
    "",
    "Votequorum information",
    "----------------------",
    `Expected votes:   ${q.expectedVotes}`,
    `Highest expected: ${q.expectedVotes}`,
    `Total votes:      ${q.totalVotes}`,
    // corosync prints "%d %s" with " " or "Activity blocked".
    `Quorum:           ${q.quorum} ${q.quorate ? " " : "Activity blocked"}`,
    `Flags:            ${quorumFlags(q, cluster)}`,
    "",
    "Membership information",
    "----------------------",
    ...membership(members, local.name, q),
    ...qdeviceLine(cluster, q),
  ].join("\n");
  ctx.out(`${text}\n`);
  return 0;
}

registerCommands([{ name: "pvecm", path: "/usr/bin/pvecm", available: onPve, handler: pvecm }]);
