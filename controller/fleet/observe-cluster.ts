import { RetryableError, errorMessage } from "../../src/errors.js";
import { observeCluster, type ClusterObservation } from "../../src/pve/index.js";
import type { ClusterAccess } from "./cluster-access.js";

/**
 * The cluster as seen from the first node that answers, preferring nodes other than `avoid` (the one
 * being patched may be rebooting). Throws a RetryableError when no node answers.
 */
export async function observeClusterVia(
  access: ClusterAccess,
  avoid?: string,
): Promise<{ via: string; obs: ClusterObservation }> {
  const order = [...access.nodes.filter((n) => n !== avoid), ...access.nodes.filter((n) => n === avoid)];
  const failures: string[] = [];
  for (const node of order) {
    try {
      const obs = await observeCluster(access.node(node));
      if (obs.status.ok) return { via: node, obs };
      failures.push(`${node}: ${obs.status.message}`);
    } catch (err) {
      failures.push(`${node}: ${errorMessage(err)}`);
    }
  }
  throw new RetryableError(
    "ClusterUnreachable",
    `no node of ProxmoxCluster/${access.cluster.metadata.name} answered: ${failures.join("; ")}`,
  );
}
