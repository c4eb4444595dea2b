import { z } from "zod";
import { backupSpec } from "./backup.js";
import { withRules } from "./cel.js";
import { guestSelector } from "./guest-selector.js";
import { cycleId, timestamp } from "./guest-update.js";
import { healthCheckList } from "./health-check.js";
import { hooksSpec } from "./hooks.js";
import { baseStatusShape, kindSchema } from "./meta.js";
import { concurrencySpec, schedulingShape } from "./plan-common.js";
import { duration, objectRef, percent } from "./primitives.js";
import { runnerList } from "./runners.js";

export const minFreeDisk = withRules(
  z.strictObject({
    gib: z.number().min(0).max(65536).optional().describe("Free GiB required"),
    percent: percent.optional().describe("Free percent of the root filesystem required"),
  }),
  [
    {
      rule: "has(self.gib) != has(self.percent)",
      message: "set exactly one of gib or percent",
      check: (d) => (d.gib === undefined) !== (d.percent === undefined),
    },
  ],
).describe("Free space required on the container's root filesystem");
export type MinFreeDisk = z.infer<typeof minFreeDisk>;

/** Gates evaluated before anything is changed; one that cannot be evaluated counts as closed. */
export const preflightSpec = z
  .strictObject({
    minFreeDisk: minFreeDisk.default({ gib: 1 }),
    requireRunning: z
      .boolean()
      .default(true)
      .describe(
        "When true a stopped container is skipped (Blocked); when false it is started for the update",
      ),
    maxLoad: z
      .number()
      .min(0)
      .max(1000)
      .optional()
      .describe(
        "Highest 1-minute load average of the hosting node, per CPU core, at which an update may start",
      ),
    checks: healthCheckList("preflight check")
      .default([])
      .describe("Checks that must pass before the backup; failing ones block the update"),
    skipIfLocked: z
      .boolean()
      .default(true)
      .describe(
        "When true a container with a Proxmox lock (backup, snapshot, migrate) waits for the next cycle",
      ),
  })
  .describe("Gates checked before anything changes; a gate that cannot be evaluated counts as closed");
export type PreflightSpec = z.infer<typeof preflightSpec>;

export const rollbackPolicy = z.enum(["Auto", "Manual", "Never"]);
export type RollbackPolicy = z.infer<typeof rollbackPolicy>;

export const rollbackTrigger = z.enum([
  "HealthCheckFailed",
  "RunnerFailed",
  "RestartFailed",
  "HookFailed",
  "Timeout",
]);
export type RollbackTrigger = z.infer<typeof rollbackTrigger>;

export const rollbackSpec = z
  .strictObject({
    policy: rollbackPolicy
      .default("Auto")
      .describe(
        "Auto: restore the backup on failure; Manual: keep the failed state and the backup for `refit rollback`; " +
          "Never: keep the failed state",
      ),
    // Not `on`: YAML 1.1 parsers (kubectl's included) read a bare `on` key as the boolean true.
    triggers: z
      .array(rollbackTrigger)
      .min(1)
      .max(5)
      .default(["HealthCheckFailed", "RunnerFailed", "RestartFailed", "HookFailed", "Timeout"])
      .describe("Failures that trigger a rollback"),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(1)
      .describe("Rollback attempts before the guest is left Failed"),
    verify: z.boolean().default(true).describe("Run the health checks again after a rollback"),
  })
  .describe("What happens when an update fails");
export type RollbackSpec = z.infer<typeof rollbackSpec>;

export const restartPolicy = z.enum(["None", "Services", "Container", "IfRequired"]);
export type RestartPolicy = z.infer<typeof restartPolicy>;

export const systemdUnit = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9:_.@\\-]+$/, "must be a systemd unit name");

export const restartSpec = withRules(
  z.strictObject({
    policy: restartPolicy
      .default("IfRequired")
      .describe(
        "None: restart nothing; Services: restart the listed services; Container: reboot the container; " +
          "IfRequired: reboot it if the update requires it (reboot-required), else restart the listed services",
      ),
    services: z.array(systemdUnit).max(64).default([]).describe("systemd units to restart"),
    stopTimeout: duration.default("2m").describe("How long a service or the container may take to stop"),
  }),
  [
    {
      rule: "!has(self.policy) || self.policy != 'Services' || (has(self.services) && size(self.services) > 0)",
      message: "restart policy Services needs at least one service",
      field: "services",
      check: (r) => r.policy !== "Services" || r.services.length > 0,
    },
  ],
).describe("What is restarted after the runners, so that the new versions are running");
export type RestartSpec = z.infer<typeof restartSpec>;

/** Phase timeouts; `overall` bounds one guest's whole update, rollback included. */
export const guestTimeoutsSpec = z
  .strictObject({
    preflight: duration.default("5m").describe("Preflight gates"),
    backup: duration.default("30m").describe("Taking the backup"),
    update: duration.default("2h").describe("All runners together; each runner also has its own timeout"),
    verify: duration.default("15m").describe("Restart and health verification"),
    rollback: duration.default("30m").describe("Restore and verification of the rollback"),
    overall: duration.default("4h").describe("One container's whole update, rollback included"),
  })
  .describe("Time limits per phase; a phase over its limit fails the update (reason Timeout)");
export type GuestTimeoutsSpec = z.infer<typeof guestTimeoutsSpec>;

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
    runners: runnerList,
    backup: backupSpec.prefault({}),
    preflight: preflightSpec.prefault({}),
    healthChecks: healthCheckList("health check")
      .default([])
      .describe(
        "Checks taken before the update (baseline) and after it; a failure triggers the rollback policy",
      ),
    rollback: rollbackSpec.prefault({}),
    restart: restartSpec.prefault({}),
    hooks: hooksSpec.prefault({}).describe("Commands run around each container's update"),
    concurrency: guestConcurrencySpec.prefault({}),
    timeouts: guestTimeoutsSpec.prefault({}),
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
