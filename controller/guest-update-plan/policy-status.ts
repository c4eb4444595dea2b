/**
 * The status of GuestUpdatePolicies, derived from what the plans recorded when their cycles started
 * (which container got which policy, which are in conflict). Pure derivation plus one small
 * reconciler that writes it; policies themselves never touch a container.
 */
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import {
  guestUpdatePolicyStatus,
  type GuestUpdatePolicy,
  type GuestUpdatePolicyStatus,
} from "../../src/api/guest-update-policy.js";
import type { Deps } from "../context.js";
import { applyConditions, type ConditionSummary } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey, WatchEvent } from "../runtime/store.js";

type PlanSelection = Pick<NonNullable<GuestUpdatePlan["status"]>, "cycleTargets" | "conflicts">;

/** The policies a plan's recorded selection names (applied to a container, or in a conflict). */
function policiesNamed(status: PlanSelection | undefined): string[] {
  const prefix = "GuestUpdatePolicy/";
  const applied = (status?.cycleTargets ?? []).flatMap((x) => (x.policy ? [x.policy] : []));
  const conflicting = (status?.conflicts ?? []).flatMap((c) =>
    c.with.filter((w) => w.startsWith(prefix)).map((w) => w.slice(prefix.length)),
  );
  return [...applied, ...conflicting];
}

function selectionOf(o: WatchEvent["object"] | undefined): PlanSelection | undefined {
  if (o?.kind !== "GuestUpdatePlan") return undefined;
  const s = o.status;
  return { cycleTargets: s?.cycleTargets ?? [], conflicts: s?.conflicts ?? [] };
}

/**
 * The policies to look at again after a plan changed: only when the selection it recorded changed
 * (a cycle started), those named before and after. A plan's other status writes (counts, phases)
 * wake none, so 200 one-container policies are not re-derived at every child's step.
 */
export function policiesToWake(event: WatchEvent): ObjectKey[] {
  const now = selectionOf(event.object);
  const before = selectionOf(event.oldObject);
  if (event.type === "MODIFIED" && JSON.stringify(now) === JSON.stringify(before)) return [];
  const names = new Set([...policiesNamed(now), ...policiesNamed(before)]);
  const namespace = event.object.metadata.namespace ?? "";
  return [...names].map((name) => ({ kind: "GuestUpdatePolicy", namespace, name }));
}

export interface PolicyState {
  applied: GuestUpdatePolicyStatus["applied"];
  conflicts: GuestUpdatePolicyStatus["conflicts"];
  ready: ConditionSummary["ready"];
}

export function policyState(policy: GuestUpdatePolicy, plans: readonly GuestUpdatePlan[]): PolicyState {
  const me = `GuestUpdatePolicy/${policy.metadata.name}`;
  const applied: PolicyState["applied"] = [];
  const conflicts: PolicyState["conflicts"] = [];
  for (const p of [...plans].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    for (const x of p.status?.cycleTargets ?? [])
      if (x.policy === policy.metadata.name) applied.push({ plan: p.metadata.name, vmid: x.vmid });
    for (const c of p.status?.conflicts ?? []) {
      if (!c.with.includes(me)) continue;
      const others = c.with.filter((w) => w !== me);
      conflicts.push({
        vmid: c.vmid,
        plan: p.metadata.name,
        with: others.length > 0 ? others : [`GuestUpdatePlan/${p.metadata.name}`],
      });
    }
  }
  return { applied, conflicts, ready: readyOf(policy, applied, conflicts) };
}

function readyOf(
  policy: GuestUpdatePolicy,
  applied: PolicyState["applied"],
  conflicts: PolicyState["conflicts"],
): ConditionSummary["ready"] {
  if (conflicts.length > 0) {
    const list = conflicts.map(
      (c) => `vmid ${c.vmid} (GuestUpdatePlan/${c.plan}) is also selected by ${c.with.join(" and ")}`,
    );
    return {
      status: "False",
      reason: "Conflict",
      message: `${list.join("; ")}: neither policy applies and the plan leaves the container alone; narrow one selector`,
    };
  }
  if (policy.spec.exclude)
    return {
      status: "True",
      reason: "Excluding",
      message: "the selected containers are left alone by their plan",
    };
  if (applied.length === 0)
    return {
      status: "True",
      reason: "NoMatch",
      message:
        "no plan's last cycle had a container this policy selects; `refit plan` shows what it would select",
    };
  const list = applied.map((a) => `${a.vmid} (${a.plan})`).join(", ");
  return { status: "True", reason: "Applied", message: `applies to ${list}` };
}

export class GuestUpdatePolicyReconciler implements Reconciler {
  readonly kind = "GuestUpdatePolicy" as const;
  readonly watches = [{ kind: "GuestUpdatePlan" as const, keys: policiesToWake }];

  constructor(private readonly deps: Deps) {}

  async reconcile(_ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const policy = await this.deps.store.get("GuestUpdatePolicy", key.namespace, key.name);
    if (!policy) return;
    const plans = await this.deps.store.list("GuestUpdatePlan", { namespace: key.namespace });
    const state = policyState(policy, plans);
    const before = JSON.stringify(policy.status ?? {});
    const s = (policy.status ??= guestUpdatePolicyStatus.parse({}));
    s.applied = state.applied;
    s.conflicts = state.conflicts;
    const generation = policy.metadata.generation ?? 1;
    applyConditions(s, { ready: state.ready }, generation, this.deps.clock.now());
    s.observedGeneration = generation;
    if (JSON.stringify(s) !== before) await this.deps.store.updateStatus(policy);
    // A plan recording a new selection wakes the policies it names (policiesToWake); the idle look
    // catches what no event says (a policy no plan names any more after an edit of the policy).
    return { requeueAfter: this.deps.timing.idleMs };
  }
}
