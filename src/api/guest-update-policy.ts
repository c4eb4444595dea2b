/**
 * GuestUpdatePolicy: the per-container part of a GuestUpdatePlan, overridden for the containers it
 * selects. "One global file plus one small file per container" in a git repository: the plan holds
 * the defaults, each policy file names its container(s) and the sections that differ.
 *
 * A section a policy sets REPLACES the plan's section whole (fields left out inside it take their
 * schema defaults, not the plan's): what applies to a container is then readable from two files
 * without merging rules. Custom commands (enabled, allowlist) are not overridable: the plan decides
 * whether desired state may run its own binaries.
 */
import { z } from "zod";
import { backupSpec } from "./backup.js";
import { withRules } from "./cel.js";
import { healthCheckList } from "./health-check.js";
import { hooksSpec } from "./hooks.js";
import { guestTimeoutsSpec, preflightSpec, restartSpec, rollbackSpec } from "./guest-policy.js";
import { proxmoxTag } from "./guest-selector.js";
import { baseStatusShape, kindSchema } from "./meta.js";
import { glob, objectRef, vmid, vmidOrRange } from "./primitives.js";
import { runnerList } from "./runners.js";

const LIST_MAX = 256;

const POLICY_CRITERIA = ["vmids", "names", "tags"] as const;

export const policySelector = withRules(
  z.strictObject({
    vmids: z
      .array(vmidOrRange)
      .max(LIST_MAX)
      .default([])
      .describe('Container ids or inclusive ranges written as strings (`110`, `"300-309"`)'),
    names: z.array(glob).max(LIST_MAX).default([]).describe("Globs over container names"),
    tags: z
      .array(proxmoxTag)
      .max(LIST_MAX)
      .default([])
      .describe("Proxmox tags; a container carrying any one of them matches"),
  }),
  [
    {
      rule: POLICY_CRITERIA.map((f) => `(has(self.${f}) && size(self.${f}) > 0)`).join(" || "),
      message: "selector selects nothing: set at least one of vmids, names or tags",
      check: (s) => POLICY_CRITERIA.some((f) => s[f].length > 0),
    },
  ],
).describe(
  "Which containers the policy applies to: non-empty fields must all match, values in one field are alternatives",
);
export type PolicySelector = z.infer<typeof policySelector>;

/** The plan sections a policy may replace (all of guestPolicyShape except customCommands). */
export const POLICY_OVERRIDES = [
  "runners",
  "backup",
  "preflight",
  "healthChecks",
  "rollback",
  "restart",
  "hooks",
  "timeouts",
] as const;
export type PolicyOverride = (typeof POLICY_OVERRIDES)[number];

export const guestUpdatePolicySpec = withRules(
  z.strictObject({
    planRef: objectRef
      .optional()
      .describe("The GuestUpdatePlan this policy belongs to; absent: every plan that selects the containers"),
    selector: policySelector,
    exclude: z
      .boolean()
      .default(false)
      .describe("When true the plan leaves the selected containers alone (no update, no backup)"),
    runners: runnerList.optional().describe("Replaces the plan's runners for these containers"),
    backup: backupSpec.optional().describe("Replaces the plan's backup section"),
    preflight: preflightSpec.optional().describe("Replaces the plan's preflight section"),
    healthChecks: healthCheckList("health check").optional().describe("Replaces the plan's health checks"),
    rollback: rollbackSpec.optional().describe("Replaces the plan's rollback section"),
    restart: restartSpec.optional().describe("Replaces the plan's restart section"),
    hooks: hooksSpec.optional().describe("Replaces the plan's hooks"),
    timeouts: guestTimeoutsSpec.optional().describe("Replaces the plan's timeouts"),
  }),
  [
    {
      rule:
        "!(has(self.backup) && has(self.backup.mode) && self.backup.mode == 'none') || " +
        "(has(self.rollback) && has(self.rollback.policy) && self.rollback.policy == 'Never')",
      message: "backup mode none leaves nothing to roll back to: set rollback.policy to Never here too",
      field: "rollback",
      check: (s) => s.backup?.mode !== "none" || s.rollback?.policy === "Never",
    },
  ],
);
export type GuestUpdatePolicySpec = z.infer<typeof guestUpdatePolicySpec>;

export const policyConflict = z.strictObject({
  vmid: vmid.describe("The container selected twice"),
  plan: z.string().min(1).describe("The GuestUpdatePlan that selects it"),
  with: z.array(z.string().min(1)).min(1).describe("The other objects that select it (Kind/name)"),
});

export const guestUpdatePolicyStatus = z.strictObject({
  ...baseStatusShape,
  applied: z
    .array(z.strictObject({ plan: z.string().min(1), vmid }))
    .default([])
    .describe("Containers this policy applies to, with their plan, as of the plans' last selection"),
  conflicts: z
    .array(policyConflict)
    .default([])
    .describe("Containers this policy shares with another policy: neither applies and the plan skips them"),
});
export type GuestUpdatePolicyStatus = z.infer<typeof guestUpdatePolicyStatus>;

export const guestUpdatePolicy = kindSchema(
  "GuestUpdatePolicy",
  guestUpdatePolicySpec,
  guestUpdatePolicyStatus,
);
export type GuestUpdatePolicy = z.infer<typeof guestUpdatePolicy>;
