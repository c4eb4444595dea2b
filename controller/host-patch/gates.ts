import type { HostPatchPlanSpec } from "../../src/api/host-patch-plan.js";
import type { ClusterObservation, NodeObservation, Observed } from "../../src/pve/index.js";
import { quorumWithout } from "../../src/pve/index.js";

export interface GateResult {
  name: string;
  passed: boolean;
  message: string;
}

/** Profile pve defaults: every gate on; root fs at most 90% used. */
const PVE_DEFAULTS = {
  pveVersion: true,
  zfsHealthy: true,
  rootFsMaxUsedPercent: 90,
  clusterQuorate: true,
  allNodesOnline: true,
  keepsQuorum: true,
  noActiveTasks: true,
  haManagerAlive: true,
};

function gate<T>(
  name: string,
  part: Observed<T>,
  check: (v: T) => { passed: boolean; message: string },
): GateResult {
  // Fail closed: a gate whose input could not be read is closed, and says why.
  if (!part.ok)
    return { name, passed: false, message: `cannot be evaluated: ${part.message} (${part.reason})` };
  return { name, ...check(part.value) };
}

/** Evaluates the pve gates of one node, from one node observation and one cluster observation. */
export function pveGates(
  node: string,
  spec: HostPatchPlanSpec,
  obs: NodeObservation,
  cluster: ClusterObservation,
  opts: { requireQuorum: boolean; requireAllNodesOnline: boolean },
): GateResult[] {
  const g = spec.gates;
  const on = (v: boolean | undefined, d: boolean): boolean => v ?? d;
  const out: GateResult[] = [];
  if (on(g.pveVersion, PVE_DEFAULTS.pveVersion)) {
    out.push(
      gate("pveVersion", obs.pveVersion, (v) => ({ passed: true, message: `pve-manager ${v.version}` })),
    );
  }
  if (on(g.zfsHealthy, PVE_DEFAULTS.zfsHealthy)) {
    out.push(
      gate("zfsHealthy", obs.zfs, (z) =>
        z.state === "unhealthy"
          ? { passed: false, message: `ZFS is not healthy: ${z.detail.split("\n")[0] ?? ""}` }
          : { passed: true, message: z.state === "healthy" ? "all pools are healthy" : "no ZFS pools" },
      ),
    );
  }
  const maxUsed = g.rootFsMaxUsedPercent ?? PVE_DEFAULTS.rootFsMaxUsedPercent;
  out.push(
    gate("rootFsUsage", obs.rootDisk, (d) => ({
      passed:
        d.usedPercent <= maxUsed && (g.rootFsMinFreeGiB === undefined || d.freeGiB >= g.rootFsMinFreeGiB),
      message: `/ is ${d.usedPercent}% used, ${d.freeGiB.toFixed(1)} GiB free (limit ${maxUsed}%${g.rootFsMinFreeGiB !== undefined ? `, at least ${g.rootFsMinFreeGiB} GiB free` : ""})`,
    })),
  );
  if (on(g.clusterQuorate, PVE_DEFAULTS.clusterQuorate) && opts.requireQuorum) {
    out.push(
      gate("clusterQuorate", cluster.quorum, (q) =>
        q.kind === "standalone"
          ? { passed: true, message: "standalone node" }
          : {
              passed: q.quorate,
              message: q.quorate ? `cluster ${q.name} is quorate` : `cluster ${q.name} has no quorum`,
            },
      ),
    );
  }
  if (on(g.allNodesOnline, PVE_DEFAULTS.allNodesOnline) && opts.requireAllNodesOnline) {
    out.push(
      gate("allNodesOnline", cluster.quorum, (q) => {
        const offline = q.nodes.filter((n) => !n.online && n.name !== node).map((n) => n.name);
        return offline.length === 0
          ? { passed: true, message: "every other node is online" }
          : { passed: false, message: `offline: ${offline.join(", ")}; not taking another node down` };
      }),
    );
  }
  if (on(g.keepsQuorum, PVE_DEFAULTS.keepsQuorum)) {
    out.push(
      gate("keepsQuorum", cluster.quorum, (q) => {
        const margin = quorumWithout(q, node);
        if (!margin)
          return {
            passed: false,
            message: "cannot be evaluated: the cluster's votes are unknown (pvecm status failed)",
          };
        return {
          passed: margin.keepsQuorum,
          message: margin.keepsQuorum
            ? `${margin.totalVotes - margin.votesLost} of ${margin.totalVotes} votes remain with ${node} down (quorum ${margin.quorum})`
            : `rebooting ${node} would lose quorum: ${margin.totalVotes - margin.votesLost} votes remain, quorum needs ${margin.quorum}`,
        };
      }),
    );
  }
  if (on(g.noActiveTasks, PVE_DEFAULTS.noActiveTasks)) {
    out.push(
      gate("noActiveTasks", obs.activeTasks, (tasks) =>
        tasks.length === 0
          ? { passed: true, message: "no active tasks" }
          : {
              passed: false,
              message: `active tasks: ${tasks.map((t) => `${t.type ?? "task"}${t.id ? `:${t.id}` : ""}`).join(", ")}`,
            },
      ),
    );
  }
  if (on(g.haManagerAlive, PVE_DEFAULTS.haManagerAlive)) {
    out.push(
      gate("haManagerAlive", cluster.haManager, (ha) => {
        if (!ha.configured) return { passed: true, message: "HA is not configured" };
        return ha.masterNode
          ? { passed: true, message: `HA manager master is ${ha.masterNode}` }
          : { passed: false, message: "HA is configured but has no active master" };
      }),
    );
  }
  return out;
}
