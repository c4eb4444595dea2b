/**
 * A plan's selection for one cycle: its selector over the cluster's guests, its policies, and the
 * other plans of the same cluster. Pure.
 *
 * A container selected by two plans belongs to neither: both plans record the conflict (naming the
 * other) and leave it alone, since either order of updates could be the wrong one.
 */
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import type { GuestUpdatePolicy } from "../../src/api/guest-update-policy.js";
import { policyFor } from "./policy.js";
import { selectContainers, type GuestView } from "./select.js";

export interface SelectedTarget {
  vmid: number;
  node: string;
  name?: string;
  /** The GuestUpdatePolicy that applies to it, if any. */
  policy?: string;
}

export interface Selection {
  targets: SelectedTarget[];
  /** Left alone by a policy with `exclude: true`. */
  excluded: { vmid: number; policy: string }[];
  /** Left alone because another plan, or a second policy, selects them too. */
  conflicts: { vmid: number; with: string[] }[];
}

function sameCluster(a: GuestUpdatePlan, b: GuestUpdatePlan): boolean {
  return (
    (a.metadata.namespace ?? "") === (b.metadata.namespace ?? "") &&
    a.spec.clusterRef.name === b.spec.clusterRef.name &&
    a.metadata.name !== b.metadata.name
  );
}

/** The containers `plan` claims: selected and not excluded by one of its policies. */
export function claimed(
  plan: GuestUpdatePlan,
  policies: readonly GuestUpdatePolicy[],
  guests: readonly GuestView[],
): GuestView[] {
  return selectContainers(plan.spec.selector, guests).filter(
    (g) => policyFor(plan.metadata.name, policies, g).kind !== "exclude",
  );
}

export function planSelection(
  plan: GuestUpdatePlan,
  plans: readonly GuestUpdatePlan[],
  policies: readonly GuestUpdatePolicy[],
  guests: readonly GuestView[],
): Selection {
  const others = plans
    .filter((o) => sameCluster(plan, o))
    .map((o) => ({ name: o.metadata.name, vmids: new Set(claimed(o, policies, guests).map((g) => g.vmid)) }));
  const out: Selection = { targets: [], excluded: [], conflicts: [] };
  for (const g of selectContainers(plan.spec.selector, guests)) {
    const verdict = policyFor(plan.metadata.name, policies, g);
    if (verdict.kind === "exclude") {
      out.excluded.push({ vmid: g.vmid, policy: verdict.policy.metadata.name });
      continue;
    }
    const withPlans = others.filter((o) => o.vmids.has(g.vmid)).map((o) => `GuestUpdatePlan/${o.name}`);
    const withPolicies =
      verdict.kind === "conflict" ? verdict.policies.map((p) => `GuestUpdatePolicy/${p}`) : [];
    if (withPlans.length + withPolicies.length > 0) {
      out.conflicts.push({ vmid: g.vmid, with: [...withPlans, ...withPolicies] });
      continue;
    }
    out.targets.push({
      vmid: g.vmid,
      node: g.node,
      ...(g.name !== undefined ? { name: g.name } : {}),
      ...(verdict.kind === "apply" ? { policy: verdict.policy.metadata.name } : {}),
    });
  }
  return out;
}

/** "vmid 110 (also GuestUpdatePlan/other)" lines for messages. */
export function conflictMessage(conflicts: readonly { vmid: number; with: readonly string[] }[]): string {
  const parts = conflicts.map((c) => `vmid ${c.vmid} is also selected by ${c.with.join(" and ")}`);
  return `${parts.join("; ")}: these containers are left alone until only one plan and at most one policy select each`;
}
