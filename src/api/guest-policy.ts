/**
 * What applies to one container's update: the plan's defaults, overridden per container by the
 * policies that select it. A GuestUpdate carries the effective policy in its spec, so an update
 * in flight keeps the rules it started with when the plan or a policy is edited.
 */
import { z } from "zod";
import { backupSpec } from "./backup.js";
import { withRules } from "./cel.js";
import { healthCheckList } from "./health-check.js";
import { hooksSpec } from "./hooks.js";
import { duration, percent } from "./primitives.js";
import { absolutePath, runnerList } from "./runners.js";

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

/** `custom` runner steps and hooks run only when enabled, and only binaries on the allowlist. */
export const customCommandsSpec = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe("Allow custom runner steps and hooks; refused (the update Blocked) while false"),
    allowlist: z
      .array(absolutePath)
      .max(64)
      .default([])
      .describe("Absolute paths of the binaries custom steps and hooks may run (argv[0])"),
  })
  .describe("Whether custom commands from desired state may run, and which binaries");
export type CustomCommandsSpec = z.infer<typeof customCommandsSpec>;

/** The per-container part of a plan, which policies override. */
export const guestPolicyShape = {
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
  timeouts: guestTimeoutsSpec.prefault({}),
  customCommands: customCommandsSpec.prefault({}),
};

/** The policy one GuestUpdate runs under (plan defaults with its container's overrides applied). */
export const effectiveGuestPolicy = z
  .strictObject(guestPolicyShape)
  .describe("The effective policy for this container, fixed when the update was created");
export type EffectiveGuestPolicy = z.infer<typeof effectiveGuestPolicy>;
