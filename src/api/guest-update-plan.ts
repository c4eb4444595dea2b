import { z } from "zod";
import { withRules } from "./cel.js";
import { guestSelector } from "./guest-selector.js";
import { cycleId, nodeName, timestamp } from "./guest-update.js";
export * from "./guest-policy.js";
import { baseStatusShape, kindSchema } from "./meta.js";
import { concurrencySpec, schedulingShape } from "./plan-common.js";
import { planOutcome } from "./host-patch-plan.js";
import { duration, objectRef, vmid } from "./primitives.js";
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
    rateLimit: z
      .strictObject({
        starts: z.number().int().min(1).max(10000).describe("Updates started at most per interval"),
        interval: duration.describe("The sliding interval, e.g. 10m"),
      })
      .optional()
      .describe("At most this many containers start their update in any sliding interval"),
    maxRunTime: duration
      .optional()
      .describe(
        "No container starts once this long has passed since the cycle began (updates in flight finish); " +
          "the rest wait for the next cycle",
      ),
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
  skipped: count.describe("Nothing to update"),
  notStarted: count.describe(
    "Cut off: the window closed, maxRunTime passed or the plan stalled before they started",
  ),
  conflicts: count.describe("Selected by another plan or by two policies: not touched"),
});
export type GuestUpdateCounts = z.infer<typeof guestUpdateCounts>;

export const guestUpdatePlanStatus = z.strictObject({
  ...baseStatusShape,
  phase: guestUpdatePlanPhase.default("Idle").describe("Where the plan stands; conditions carry the details"),
  counts: guestUpdateCounts.prefault({}).describe("Containers of the current (or last) cycle by outcome"),
  currentCycle: cycleId.optional().describe("Id of the cycle in progress"),
  outcome: planOutcome.optional(),
  cycleTargets: z
    .array(
      z.strictObject({
        vmid: vmid.describe("The container"),
        node: nodeName.describe("Node hosting it when the cycle was planned"),
        name: z.string().optional().describe("Container name"),
        policy: z.string().min(1).optional().describe("The GuestUpdatePolicy applied to it"),
        notBefore: timestamp.describe("Earliest start: the cycle start plus its seeded jitter"),
        startedAt: timestamp
          .optional()
          .describe("When the plan started it (recorded before its GuestUpdate is made)"),
      }),
    )
    .optional()
    .describe("The containers of the current (or last) cycle, recorded in the write that starts it"),
  cycleVmids: z
    .array(vmid)
    .optional()
    .describe("A partial cycle (refit run --plan --vmid): only these containers were asked for"),
  conflicts: z
    .array(
      z.strictObject({
        vmid: vmid.describe("The container selected twice"),
        with: z.array(z.string().min(1)).min(1).describe("The other objects selecting it (Kind/name)"),
      }),
    )
    .optional()
    .describe("Containers this plan leaves alone because another plan or a second policy selects them too"),
  waitingSince: timestamp.optional().describe("When the plan began waiting for the plans it runs after"),
  lastCycle: z
    .strictObject({
      id: cycleId.optional().describe("Cycle id"),
      startedAt: timestamp.describe("When the cycle started"),
      finishedAt: timestamp.optional().describe("When its last container reached a final phase"),
      reportPath: z.string().min(1).optional().describe("Where the cycle report was written"),
      partial: z.boolean().optional().describe("True for a partial cycle over some containers only"),
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
