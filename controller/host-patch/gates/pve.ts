import type { HostPatchPlanSpec } from "../../../src/api/host-patch-plan.js";
import {
  quorumWithout,
  type ClusterObservation,
  type DiskUsage,
  type HaManagerStatus,
  type NodeObservation,
  type PveTask,
  type QuorumMargin,
  type QuorumView,
  type ZfsHealth,
} from "../../../src/pve/index.js";
import { cephHealthy, type CephObservation } from "./ceph.js";
import { closed, gateFor, open, type Gate, type GateVerdict } from "./contract.js";

/** What the pve gates read: the node itself, and the cluster as one node sees it. */
export interface PveObserved {
  readonly node: NodeObservation;
  readonly cluster: ClusterObservation;
  /** Ceph as this node sees it (`none` on a cluster without Ceph). */
  readonly ceph: CephObservation;
}

/** Profile pve defaults: every gate on; root fs at most 90% used. */
export const PVE_DEFAULTS = {
  pveVersion: true,
  zfsHealthy: true,
  rootFsMaxUsedPercent: 90,
  clusterQuorate: true,
  allNodesOnline: true,
  keepsQuorum: true,
  noActiveTasks: true,
  haManagerAlive: true,
  cephHealthy: true,
} as const;

type Toggle = Exclude<keyof typeof PVE_DEFAULTS, "rootFsMaxUsedPercent">;

/** A gate the plan switches with `spec.gates.<id>`, on unless the plan says otherwise. */
const switchedBy =
  (id: Toggle) =>
  (spec: HostPatchPlanSpec): boolean =>
    spec.gates[id] ?? PVE_DEFAULTS[id];

const pveGate = gateFor<PveObserved>();

const pveVersion = pveGate({
  id: "pveVersion",
  reads: ["node.pveVersion"],
  enabled: switchedBy("pveVersion"),
  check: (p) => open(`pve-manager ${p["node.pveVersion"].version}`),
});

function zfsVerdict(z: ZfsHealth): GateVerdict {
  if (z.state === "unhealthy")
    return closed("ZfsUnhealthy", `ZFS is not healthy: ${z.detail.split("\n")[0] ?? ""}`);
  return open(z.state === "healthy" ? "all pools are healthy" : "no ZFS pools");
}

const zfsHealthy = pveGate({
  id: "zfsHealthy",
  reads: ["node.zfs"],
  enabled: switchedBy("zfsHealthy"),
  check: (p) => zfsVerdict(p["node.zfs"]),
});

function rootFsVerdict(d: DiskUsage, spec: HostPatchPlanSpec): GateVerdict {
  const maxUsed = spec.gates.rootFsMaxUsedPercent ?? PVE_DEFAULTS.rootFsMaxUsedPercent;
  const minFree = spec.gates.rootFsMinFreeGiB;
  const limit = `limit ${maxUsed}%${minFree !== undefined ? `, at least ${minFree} GiB free` : ""}`;
  const message = `/ is ${d.usedPercent}% used, ${d.freeGiB.toFixed(1)} GiB free (${limit})`;
  const fits = d.usedPercent <= maxUsed && (minFree === undefined || d.freeGiB >= minFree);
  return fits ? open(message) : closed("RootFsFull", message);
}

/** Always evaluated: only its limits are configurable. */
const rootFsUsage = pveGate({
  id: "rootFsUsage",
  reads: ["node.rootDisk"],
  enabled: () => true,
  check: (p, ctx) => rootFsVerdict(p["node.rootDisk"], ctx.spec),
});

function quorateVerdict(q: QuorumView): GateVerdict {
  if (q.kind === "standalone") return open("standalone node");
  return q.quorate
    ? open(`cluster ${q.name} is quorate`)
    : closed("NoQuorum", `cluster ${q.name} has no quorum`);
}

const clusterQuorate = pveGate({
  id: "clusterQuorate",
  reads: ["cluster.quorum"],
  enabled: (spec, safety) => switchedBy("clusterQuorate")(spec) && safety.requireQuorum,
  check: (p) => quorateVerdict(p["cluster.quorum"]),
});

function othersOnlineVerdict(q: QuorumView, host: string): GateVerdict {
  const offline = q.nodes.filter((n) => !n.online && n.name !== host).map((n) => n.name);
  if (offline.length === 0) return open("every other node is online");
  return closed("NodesOffline", `offline: ${offline.join(", ")}; not taking another node down`);
}

const allNodesOnline = pveGate({
  id: "allNodesOnline",
  reads: ["cluster.quorum"],
  enabled: (spec, safety) => switchedBy("allNodesOnline")(spec) && safety.requireAllNodesOnline,
  check: (p, ctx) => othersOnlineVerdict(p["cluster.quorum"], ctx.host),
});

/** What the vote count rests on, when it is more than one vote per node. */
function votesBasis(m: QuorumMargin, host: string): string {
  const parts = [
    ...(m.votesLost > 1 ? [`${host} holds ${m.votesLost} votes`] : []),
    ...(m.qdeviceVotes > 0 ? [`${m.qdeviceVotes} from the QDevice`] : []),
    ...(m.twoNode ? ["two_node: quorum stays 1"] : []),
  ];
  return parts.length > 0 ? `; ${parts.join(", ")}` : "";
}

function quorumMarginVerdict(q: QuorumView, host: string): GateVerdict {
  const margin = quorumWithout(q, host);
  if (!margin)
    return closed(
      "VotesUnknown",
      `cannot be evaluated: the votes of the cluster or of ${host} are unknown (pvecm status failed or does not list ${host})`,
    );
  const remain = margin.totalVotes - margin.votesLost;
  const basis = votesBasis(margin, host);
  if (margin.keepsQuorum)
    return open(
      `${remain} of ${margin.totalVotes} votes remain with ${host} down (quorum ${margin.quorum}${basis})`,
    );
  const noQdevice = q.kind === "cluster" && q.votes?.qdevice !== undefined && margin.qdeviceVotes === 0;
  return closed(
    "WouldLoseQuorum",
    `rebooting ${host} would lose quorum: ${remain} votes remain, quorum needs ${margin.quorum}${basis}${noQdevice ? "; the QDevice casts no vote (check corosync-qdevice and the qnetd host, port 5403)" : ""}`,
  );
}

const keepsQuorum = pveGate({
  id: "keepsQuorum",
  reads: ["cluster.quorum"],
  enabled: switchedBy("keepsQuorum"),
  check: (p, ctx) => quorumMarginVerdict(p["cluster.quorum"], ctx.host),
});

function tasksVerdict(tasks: readonly PveTask[]): GateVerdict {
  if (tasks.length === 0) return open("no active tasks");
  const names = tasks.map((t) => `${t.type ?? "task"}${t.id ? `:${t.id}` : ""}`);
  return closed("TasksActive", `active tasks: ${names.join(", ")}`);
}

const noActiveTasks = pveGate({
  id: "noActiveTasks",
  reads: ["node.activeTasks"],
  enabled: switchedBy("noActiveTasks"),
  check: (p) => tasksVerdict(p["node.activeTasks"]),
});

function haVerdict(ha: HaManagerStatus): GateVerdict {
  if (!ha.configured) return open("HA is not configured");
  if (ha.masterNode) return open(`HA manager master is ${ha.masterNode}`);
  return closed("NoHaMaster", "HA is configured but has no active master");
}

const haManagerAlive = pveGate({
  id: "haManagerAlive",
  reads: ["cluster.haManager"],
  enabled: switchedBy("haManagerAlive"),
  check: (p) => haVerdict(p["cluster.haManager"]),
});

/** The pve gates, in the order they are evaluated and reported. */
export const PVE_GATES: readonly Gate<PveObserved>[] = [
  pveVersion,
  zfsHealthy,
  rootFsUsage,
  clusterQuorate,
  allNodesOnline,
  keepsQuorum,
  noActiveTasks,
  haManagerAlive,
  cephHealthy,
];
