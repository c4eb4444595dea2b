import { z } from "zod";
import { withRules } from "./cel.js";
import { guestSelector } from "./guest-selector.js";
import { cycleId, timestamp } from "./guest-update.js";
export * from "./guest-policy.js";
import { baseStatusShape, kindSchema } from "./meta.js";
import { concurrencySpec, schedulingShape } from "./plan-common.js";
import { objectRef } from "./primitives.js";
import { guestPolicyShape } from "./guest-policy.js";

export const guestConcurrencySpec = withRules(
  z.strictObject({
    ...concurrencySpec.shape,
    maxParallelPerNode: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Containers updated at once on one node; default maxParallel"),
  }),
  [
    {
      rule: "!has(self.maxParallelPerNode) || self.maxParallelPerNode <= (has(self.maxParallel) ? self.maxParallel : 1)",
      message: "maxParallelPerNode cannot exceed maxParallel",
      field: "maxParallelPerNode",
      check: (c) => c.maxParallelPerNode === undefined || c.maxParallelPerNode <= c.maxParallel,
    },
  ],
).describe("How many containers are updated at once, with random start jitter");
export type GuestConcurrencySpec = z.infer<typeof guestConcurrencySpec>;

export const guestUpdatePlanSpec = withRules(
  z.strictObject({
    clusterRef: objectRef.describe("The ProxmoxCluster whose containers this plan updates"),
    selector: guestSelector,
    ...guestPolicyShape,
    concurrency: guestConcurrencySpec.prefault({}),
    ...schedulingShape,
  }),
  [
    {
      rule:
        "!(has(self.backup) && has(self.backup.mode) && self.backup.mode == 'none') || " +
        "(has(self.rollback) && has(self.rollback.policy) && self.rollback.policy == 'Never')",
      message: "backup mode none leaves nothing to roll back to: set rollback.policy to Never",
      field: "rollback.policy",
      check: (s) => s.backup.mode !== "none" || s.rollback.policy === "Never",
    },
  ],
);
export type GuestUpdatePlanSpec = z.infer<typeof guestUpdatePlanSpec>;

export const guestUpdatePlanPhase = z.enum([
  "Idle",
  "Waiting",
  "OutsideWindow",
  "Suspended",
  "Progressing",
  "Succeeded",
  "Stalled",
]);
export type GuestUpdatePlanPhase = z.infer<typeof guestUpdatePlanPhase>;

const count = z.number().int().min(0).default(0);

export const guestUpdateCounts = z.strictObject({
  targets: count.describe("Containers selected this cycle"),
  pending: count.describe("Not started yet"),
  inProgress: count.describe("Between Preflight and Verifying"),
  succeeded: count.describe("Updated and verified"),
  failed: count.describe("Failed, rollback failed or not attempted"),
  rolledBack: count.describe("Failed and restored from the backup"),
  blocked: count.describe("Held by a gate (stopped, locked, preflight failed)"),
});
export type GuestUpdateCounts = z.infer<typeof guestUpdateCounts>;

export const guestUpdatePlanStatus = z.strictObject({
  ...baseStatusShape,
  phase: guestUpdatePlanPhase.default("Idle").describe("Where the plan stands; conditions carry the details"),
  counts: guestUpdateCounts.prefault({}).describe("Containers of the current (or last) cycle by outcome"),
  currentCycle: cycleId.optional().describe("Id of the cycle in progress"),
  lastCycle: z
    .strictObject({
      id: cycleId.optional().describe("Cycle id"),
      startedAt: timestamp.describe("When the cycle started"),
      finishedAt: timestamp.optional().describe("When its last container reached a final phase"),
      reportPath: z.string().min(1).optional().describe("Where the cycle report was written"),
    })
    .optional()
    .describe("The last cycle that started"),
  nextWindow: z
    .strictObject({
      opensAt: timestamp.describe("When the next allowed window opens"),
      closesAt: timestamp.optional().describe("When it closes"),
    })
    .optional()
    .describe("The next time the plan may act"),
});
export type GuestUpdatePlanStatus = z.infer<typeof guestUpdatePlanStatus>;

export const guestUpdatePlan = kindSchema("GuestUpdatePlan", guestUpdatePlanSpec, guestUpdatePlanStatus);
export type GuestUpdatePlan = z.infer<typeof guestUpdatePlan>;
