import { clusterQuorum } from "../model/cluster.js";
import { onPve, registerCommands } from "./registry.js";
import { ctime } from "./time-format.js";
import type { CommandContext } from "./types.js";

const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/** `pvecm status` / `pvecm nodes`, as corosync-quorumtool prints them under the CLI's `---` headings. */
function pvecm(ctx: CommandContext): number {
  if (ctx.place.kind !== "host") return 127;
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
  const q = clusterQuorum(ctx.sim, cluster);
  const localId = cluster.nodes.indexOf(local.name) + 1;
  const members = cluster.nodes
    .map((n, i) => ({ host: ctx.sim.state.hosts[n]!, id: i + 1 }))
    .filter((m) => q.members.includes(m.host));
  const membership = members
    .map(
      (m) =>
        `${hex8(m.id)}${String(m.host.votes).padStart(11)} ${m.host.ip}${m.host.name === local.name ? " (local)" : ""}`,
    )
    .join("\n");
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
  const flags = q.quorate ? "Quorate" : "";
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
    `Quorum:           ${q.quorum}${q.quorate ? "" : " Activity blocked"}`,
    `Flags:            ${flags}`,
    "",
    "Membership information",
    "----------------------",
    "    Nodeid      Votes Name",
    membership,
  ].join("\n");
  ctx.out(`${text}\n`);
  return 0;
}

registerCommands([{ name: "pvecm", path: "/usr/bin/pvecm", available: onPve, handler: pvecm }]);
