/**
 * Per-container policy: which GuestUpdatePolicies apply to a container of a plan, and the effective
 * policy its GuestUpdate carries. Pure.
 *
 * A container matched by two policies gets neither: both policies and the plan say Conflict, and the
 * plan leaves the container alone until a person removes the overlap. Guessing which one wins would
 * update a container under rules nobody chose.
 */
import type { EffectiveGuestPolicy } from "../../src/api/guest-policy.js";
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { POLICY_OVERRIDES, type GuestUpdatePolicy } from "../../src/api/guest-update-policy.js";
import { matchesAll, type GuestView } from "./select.js";

/** Whether `policy` speaks for `guest` as a container of `planName`. */
export function policyMatches(policy: GuestUpdatePolicy, planName: string, guest: GuestView): boolean {
  const ref = policy.spec.planRef?.name;
  if (ref !== undefined && ref !== planName) return false;
  return matchesAll(policy.spec.selector, guest);
}

/** What the policies say about one container. */
export type PolicyVerdict =
  | { kind: "none" }
  | { kind: "apply"; policy: GuestUpdatePolicy }
  | { kind: "exclude"; policy: GuestUpdatePolicy }
  | { kind: "conflict"; policies: string[] };

export function policyFor(
  planName: string,
  policies: readonly GuestUpdatePolicy[],
  guest: GuestView,
): PolicyVerdict {
  const matching = policies
    .filter((p) => policyMatches(p, planName, guest))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const [only, ...rest] = matching;
  if (!only) return { kind: "none" };
  if (rest.length > 0) return { kind: "conflict", policies: matching.map((p) => p.metadata.name) };
  return only.spec.exclude ? { kind: "exclude", policy: only } : { kind: "apply", policy: only };
}

/** The plan's per-container sections. */
export function planDefaults(plan: GuestUpdatePlan): EffectiveGuestPolicy {
  const s = plan.spec;
  return {
    runners: s.runners,
    backup: s.backup,
    preflight: s.preflight,
    healthChecks: s.healthChecks,
    rollback: s.rollback,
    restart: s.restart,
    hooks: s.hooks,
    timeouts: s.timeouts,
    customCommands: s.customCommands,
  };
}

/**
 * The policy a container's GuestUpdate runs under: the plan's sections, each replaced whole by the
 * policy's when the policy sets it. customCommands always comes from the plan.
 */
export function effectivePolicy(
  plan: GuestUpdatePlan,
  policy: GuestUpdatePolicy | undefined,
): EffectiveGuestPolicy {
  const out = structuredClone(planDefaults(plan));
  if (!policy) return out;
  const target = out as Record<string, unknown>;
  for (const field of POLICY_OVERRIDES) {
    const v = policy.spec[field];
    if (v !== undefined) target[field] = structuredClone(v);
  }
  return out;
}

/**
 * The effective policy of the container `vmid` among `guests`, or why there is none (not a target,
 * excluded, or a conflict). The brief's `effectivePolicy(plan, policies, vmid)`.
 */
export function effectivePolicyOf(
  plan: GuestUpdatePlan,
  policies: readonly GuestUpdatePolicy[],
  guest: GuestView,
): { policy: EffectiveGuestPolicy; from?: string } | { refused: "excluded" | "conflict"; by: string[] } {
  const v = policyFor(plan.metadata.name, policies, guest);
  switch (v.kind) {
    case "none":
      return { policy: effectivePolicy(plan, undefined) };
    case "apply":
      return { policy: effectivePolicy(plan, v.policy), from: v.policy.metadata.name };
    case "exclude":
      return { refused: "excluded", by: [v.policy.metadata.name] };
    case "conflict":
      return { refused: "conflict", by: v.policies };
  }
}
