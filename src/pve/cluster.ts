import { z } from "zod";
import { unparseable, type ParseContext } from "./errors.js";
import { optBool, optNumber, optString, parseJsonWith, perlBool } from "./json.js";

export const CLUSTER_STATUS_ARGV = ["pvesh", "get", "/cluster/status", "--output-format", "json"] as const;
export const PVECM_STATUS_ARGV = ["pvecm", "status"] as const;

export interface ClusterInfo {
  readonly name: string;
  /** Configured node count, offline nodes included. */
  readonly nodes: number | undefined;
  readonly quorate: boolean;
  /** Corosync config version. */
  readonly version: number | undefined;
}

export interface ClusterNode {
  readonly name: string;
  readonly nodeid: number | undefined;
  readonly ip: string | undefined;
  /** The node pvesh ran on. */
  readonly local: boolean;
  readonly online: boolean;
  readonly level: string | undefined;
}

export interface ClusterStatus {
  /** Absent on a standalone node: /cluster/status then returns node rows only. */
  readonly cluster: ClusterInfo | undefined;
  readonly nodes: readonly ClusterNode[];
}

const clusterRow = z.object({
  type: z.literal("cluster"),
  name: optString,
  nodes: optNumber,
  quorate: perlBool,
  version: optNumber,
});

const nodeRow = z.object({
  type: z.literal("node"),
  id: optString,
  name: optString,
  nodeid: optNumber,
  ip: optString,
  local: optBool,
  online: optBool,
  level: optString,
});

const statusRows = z.array(z.looseObject({ type: z.string() }));

const STATUS_CMD = CLUSTER_STATUS_ARGV.join(" ");

/** Parses `pvesh get /cluster/status --output-format json`; unknown row types are ignored. */
export function parseClusterStatus(text: string, ctx?: ParseContext): ClusterStatus {
  const rows = parseJsonWith(statusRows, text, STATUS_CMD, ctx);
  let cluster: ClusterInfo | undefined;
  const nodes: ClusterNode[] = [];
  for (const row of rows) {
    if (row.type === "cluster") {
      const r = clusterRow.safeParse(row);
      if (!r.success) unparseable(ctx, STATUS_CMD, text, `the cluster row lacks a readable quorate flag`);
      cluster = {
        name: r.data.name ?? "",
        nodes: r.data.nodes,
        quorate: r.data.quorate,
        version: r.data.version,
      };
    } else if (row.type === "node") {
      const r = nodeRow.safeParse(row);
      const name = r.success ? (r.data.name ?? r.data.id?.replace(/^node\//, "")) : undefined;
      // A node row we cannot read could hide an offline node; refuse rather than under-count.
      if (!r.success || name === undefined || name === "") {
        unparseable(ctx, STATUS_CMD, text, `a node row has no readable name or online flag`);
      }
      nodes.push({
        name,
        nodeid: r.data.nodeid,
        ip: r.data.ip,
        local: r.data.local ?? false,
        // A row without `online` is a node the cluster cannot vouch for.
        online: r.data.online ?? false,
        level: r.data.level,
      });
    }
  }
  return { cluster, nodes };
}

/** A member's QDevice column: `A`/`NA` alive, `V`/`NV` casts its vote, `MW`/`NMW` master wins. */
export interface QdeviceFlags {
  readonly registered: boolean;
  readonly alive: boolean;
  readonly castsVote: boolean;
  readonly masterWins: boolean;
}

export interface PvecmMember {
  readonly nodeid: number;
  readonly votes: number;
  readonly name: string;
  readonly local: boolean;
  /** Present when the cluster has a QDevice (the `Qdevice` column). */
  readonly qdevice?: QdeviceFlags;
}

/** The `0x00000000 … Qdevice` line: the quorum device as this node sees it. */
export interface QdeviceVote {
  readonly name: string;
  /** Votes it adds now: 0 when it casts no vote for this node. */
  readonly votes: number;
  /** Votes it is configured to give (`(votes N)` when it casts none). */
  readonly configuredVotes: number;
}

export interface PvecmStatus {
  readonly clusterName: string | undefined;
  readonly configVersion: number | undefined;
  readonly transport: string | undefined;
  readonly quorate: boolean;
  readonly nodes: number | undefined;
  readonly expectedVotes: number;
  readonly highestExpected: number | undefined;
  readonly totalVotes: number;
  /** Votes needed for quorum. */
  readonly quorum: number;
  readonly flags: readonly string[];
  /** `2Node`: votequorum's two_node, quorum is 1 while at most two nodes are members. */
  readonly twoNode: boolean;
  /** `WaitForAll`: a node that starts is quorate only once it has seen every node at once. */
  readonly waitForAll: boolean;
  readonly members: readonly PvecmMember[];
  /** Undefined when no QDevice is registered. */
  readonly qdevice: QdeviceVote | undefined;
}

const PVECM_CMD = PVECM_STATUS_ARGV.join(" ");

/** corosync's QDEVICE nodeid (VOTEQUORUM_QDEVICE_NODEID). */
const QDEVICE_NODEID = 0;

/**
 * A Membership information line as corosync-quorumtool prints it (tools/corosync-quorumtool.c,
 * display_nodes_data): nodeid, votes, the Qdevice column when a QDevice is registered (`A,V,NMW`,
 * `NA,NV,NMW`, `NR`), the name (an IP with `-i`), an optional `[extra info]`, ` (local)`.
 */
const MEMBER_LINE =
  /^\s*(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s+(?:(N?A,N?V,N?MW|NR)\s+)?(\S+)(?:\s+\[[^\]]*\])?(\s+\(local\))?\s*$/;
/** The QDevice line: `0x00000000 <votes>            <name>[ (votes N)]`. */
const QDEVICE_LINE = /^\s*(?:0x0+|0)\s+(\d+)\s+(\S+)(?:\s+\(votes (\d+)\))?\s*$/;

function qdeviceFlags(column: string | undefined): QdeviceFlags | undefined {
  if (column === undefined) return undefined;
  if (column === "NR") return { registered: false, alive: false, castsVote: false, masterWins: false };
  const [a, v, mw] = column.split(",");
  return { registered: true, alive: a === "A", castsVote: v === "V", masterWins: mw === "MW" };
}

function membershipLine(line: string, members: PvecmMember[]): QdeviceVote | undefined {
  const q = QDEVICE_LINE.exec(line);
  if (q) {
    const votes = Number(q[1]);
    return { name: q[2] ?? "", votes, configuredVotes: q[3] !== undefined ? Number(q[3]) : votes };
  }
  const m = MEMBER_LINE.exec(line);
  if (m && Number(m[1]) !== QDEVICE_NODEID) {
    const qdevice = qdeviceFlags(m[3]);
    members.push({
      nodeid: Number(m[1]),
      votes: Number(m[2]),
      name: m[4] ?? "",
      local: m[5] !== undefined,
      ...(qdevice ? { qdevice } : {}),
    });
  }
  return undefined;
}

/**
 * Parses `pvecm status`. Headings are underlined with `-` by the real CLI and with `~` in the docs;
 * both are accepted. Fields are read by key, so section order does not matter.
 */
export function parsePvecmStatus(text: string, ctx?: ParseContext): PvecmStatus {
  const lines = text.split(/\r?\n/);
  const fields = new Map<string, string>();
  const members: PvecmMember[] = [];
  let qdevice: QdeviceVote | undefined;
  let section = "";
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] ?? "";
    const next = lines[k + 1] ?? "";
    if (line.trim() !== "" && /^\s*(?:-{3,}|~{3,})\s*$/.test(next)) {
      section = line.trim().toLowerCase();
      k++;
      continue;
    }
    if (section.startsWith("membership")) {
      qdevice = membershipLine(line, members) ?? qdevice;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z ]*?):\s*(.*?)\s*$/.exec(line);
    if (kv?.[1] !== undefined && kv[2] !== undefined) {
      const key = section.startsWith("cluster") && kv[1] === "Name" ? "Cluster name" : kv[1];
      fields.set(key, kv[2]);
    }
  }
  const int = (key: string): number | undefined => {
    const m = /^(\d+)/.exec(fields.get(key) ?? "");
    return m ? Number(m[1]) : undefined;
  };
  const expectedVotes = int("Expected votes");
  const totalVotes = int("Total votes");
  const quorum = int("Quorum");
  if (expectedVotes === undefined || totalVotes === undefined || quorum === undefined) {
    unparseable(ctx, PVECM_CMD, text, "no Expected votes / Total votes / Quorum lines");
  }
  const flags = (fields.get("Flags") ?? "").split(/\s+/).filter((f) => f.length > 0);
  const quorateField = fields.get("Quorate");
  const quorate = quorateField !== undefined ? /^yes$/i.test(quorateField) : flags.includes("Quorate");
  if (flags.includes("Qdevice") && qdevice === undefined)
    unparseable(ctx, PVECM_CMD, text, "Flags name a Qdevice but the membership list has no Qdevice line");
  return {
    clusterName: fields.get("Cluster name"),
    configVersion: int("Config Version"),
    transport: fields.get("Transport"),
    quorate,
    nodes: int("Nodes"),
    expectedVotes,
    highestExpected: int("Highest expected"),
    totalVotes,
    quorum,
    flags,
    twoNode: flags.includes("2Node"),
    waitForAll: flags.includes("WaitForAll"),
    members,
    qdevice,
  };
}

/** What the cluster looks like from one node, votes included when pvecm could tell. */
export type QuorumView =
  | { readonly kind: "standalone"; readonly nodes: readonly ClusterNode[] }
  | {
      readonly kind: "cluster";
      readonly name: string;
      readonly quorate: boolean;
      readonly nodes: readonly ClusterNode[];
      /** Undefined when `pvecm status` failed although /cluster/status shows a cluster. */
      readonly votes: PvecmStatus | undefined;
    };

/**
 * Combines /cluster/status and `pvecm status`. A node without a cluster row whose pvecm fails is
 * standalone; a cluster row with a failed pvecm is a cluster whose votes are unknown (gates that need
 * votes stay closed). pvecm's quorate flag wins when both are present: it comes from corosync itself.
 */
export function quorumView(status: ClusterStatus, pvecm: PvecmStatus | undefined): QuorumView {
  if (status.cluster === undefined && pvecm === undefined) return { kind: "standalone", nodes: status.nodes };
  return {
    kind: "cluster",
    name: status.cluster?.name ?? pvecm?.clusterName ?? "",
    quorate:
      pvecm !== undefined
        ? pvecm.quorate && (status.cluster?.quorate ?? true)
        : (status.cluster?.quorate ?? false),
    nodes: status.nodes,
    votes: pvecm,
  };
}

/** The votes a node holds, looked up by its nodeid in pvecm's membership list. */
export function votesOf(view: QuorumView, node: string): number | undefined {
  if (view.kind === "standalone" || view.votes === undefined) return undefined;
  const id = view.nodes.find((n) => n.name === node)?.nodeid;
  if (id === undefined) return undefined;
  return view.votes.members.find((m) => m.nodeid === id)?.votes;
}

export interface QuorumMargin {
  /** Whether the cluster still has quorum with this node down. */
  readonly keepsQuorum: boolean;
  readonly totalVotes: number;
  readonly votesLost: number;
  /** Votes needed once the node is down. */
  readonly quorum: number;
  /** Votes the QDevice adds to the total now (0 without one, or when it casts none). */
  readonly qdeviceVotes: number;
  /** Whether two_node keeps the threshold at 1. */
  readonly twoNode: boolean;
}

/**
 * The threshold corosync applies once one member has left (exec/votequorum.c, calculate_quorum):
 * it never decreases on its own, is at least half the highest expected votes plus one, and is 1
 * under two_node while at most two nodes are members.
 */
function thresholdAfter(votes: PvecmStatus, membersAfter: number): number {
  if (votes.twoNode && membersAfter <= 2) return 1;
  const expected = Math.max(votes.expectedVotes, votes.highestExpected ?? 0);
  return Math.max(votes.quorum, Math.floor((expected + 2) / 2));
}

/**
 * Whether taking `node` down keeps quorum: the total votes (the QDevice's included while it casts
 * them) minus the node's own votes must still reach the threshold. Undefined when the votes are
 * unknown (pvecm failed, or its membership does not list the node): gates fail closed on that. A
 * standalone node has no quorum to lose.
 */
export function quorumWithout(view: QuorumView, node: string): QuorumMargin | undefined {
  if (view.kind === "standalone")
    return { keepsQuorum: true, totalVotes: 1, votesLost: 1, quorum: 1, qdeviceVotes: 0, twoNode: false };
  const votes = view.votes;
  if (votes === undefined) return undefined;
  const entry = view.nodes.find((n) => n.name === node);
  if (entry === undefined) return undefined;
  // An offline node's votes are already missing from the total.
  const own = entry.online ? votesOf(view, node) : 0;
  if (own === undefined) return undefined;
  const membersAfter = votes.members.length - (entry.online ? 1 : 0);
  const quorum = thresholdAfter(votes, membersAfter);
  return {
    keepsQuorum: votes.totalVotes - own >= quorum,
    totalVotes: votes.totalVotes,
    votesLost: own,
    quorum,
    qdeviceVotes: votes.qdevice?.votes ?? 0,
    twoNode: votes.twoNode && membersAfter <= 2,
  };
}
