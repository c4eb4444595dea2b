/**
 * Which hosts a plan's cycle covers and how its HostPatch children are named and specified. Pure:
 * the reconciler, `refit plan` and the tests share these.
 */
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { GROUP_VERSION, LABEL_PLAN } from "../../src/api/version.js";
import { matchesGlob } from "../glob.js";

/** Node names of the cluster that the plan's targets select, in name order. */
export function selectNodes(plan: HostPatchPlan, cluster: ProxmoxCluster): string[] {
  const nodes = cluster.spec.endpoints.map((e) => e.node);
  const want = plan.spec.targets.nodes ?? [];
  const exclude = plan.spec.targets.excludeNodes ?? [];
  return nodes
    .filter((n) => want.some((g) => matchesGlob(g, n)) && !exclude.some((g) => matchesGlob(g, n)))
    .sort();
}

/** The name of the plan's HostPatch for `host`: one per host per plan, reused across cycles. */
export function childName(plan: HostPatchPlan, host: string): string {
  return `${plan.metadata.name}-${host}`.toLowerCase();
}

/** A cycle id from its start time: `c` + UTC yyyymmddhhmmss. */
export function cycleId(nowMs: number): string {
  return `c${new Date(nowMs).toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
}

/** The spec a HostPatch of `host` has in `cycle`. */
export function childSpec(
  plan: HostPatchPlan,
  clusterName: string,
  host: string,
  cycle: string,
): HostPatch["spec"] {
  return {
    planRef: { name: plan.metadata.name },
    clusterRef: { name: clusterName },
    host,
    profile: plan.spec.profile,
    cycle,
  };
}

/** A new HostPatch of `host` in `cycle`, owned by the plan (`uid`) and labelled with it. */
export function newChild(
  plan: HostPatchPlan,
  uid: string,
  clusterName: string,
  host: string,
  cycle: string,
): HostPatch {
  return {
    apiVersion: GROUP_VERSION,
    kind: "HostPatch",
    metadata: {
      name: childName(plan, host),
      ...(plan.metadata.namespace ? { namespace: plan.metadata.namespace } : {}),
      labels: { [LABEL_PLAN]: plan.metadata.name },
      ownerReferences: [
        {
          apiVersion: GROUP_VERSION,
          kind: "HostPatchPlan",
          name: plan.metadata.name,
          uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: childSpec(plan, clusterName, host, cycle),
  };
}
