/**
 * How a plan's GuestUpdate children are named and specified. Pure: the reconciler, the CLI and the
 * tests share these.
 */
import type { EffectiveGuestPolicy } from "../../src/api/guest-policy.js";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { GROUP_VERSION, LABEL_PLAN } from "../../src/api/version.js";
import type { CycleTarget } from "./types.js";

/** A cycle id from its start time: `c` + UTC yyyymmddhhmmss. */
export function cycleId(nowMs: number): string {
  return `c${new Date(nowMs).toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
}

/**
 * One GuestUpdate per container per cycle: a new cycle makes a new object (with a fresh status),
 * and the previous cycle's one, once ended, is deleted then.
 */
export function childName(plan: GuestUpdatePlan, vmid: number, cycle: string): string {
  return `${plan.metadata.name}-${vmid}-${cycle}`.toLowerCase();
}

export function newChild(
  plan: GuestUpdatePlan,
  clusterName: string,
  target: CycleTarget,
  cycle: string,
  policy: EffectiveGuestPolicy,
): GuestUpdate {
  return {
    apiVersion: GROUP_VERSION,
    kind: "GuestUpdate",
    metadata: {
      name: childName(plan, target.vmid, cycle),
      ...(plan.metadata.namespace ? { namespace: plan.metadata.namespace } : {}),
      labels: { [LABEL_PLAN]: plan.metadata.name },
      ownerReferences: [
        {
          apiVersion: GROUP_VERSION,
          kind: "GuestUpdatePlan",
          name: plan.metadata.name,
          uid: plan.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      planRef: { name: plan.metadata.name },
      clusterRef: { name: clusterName },
      vmid: target.vmid,
      node: target.node,
      type: "lxc",
      cycle,
      policy,
    },
  };
}
