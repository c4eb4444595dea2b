import { z } from "zod";
import { baseStatusShape, kindSchema } from "./meta.js";
import { objectRef, vmid } from "./primitives.js";
import { runnerType } from "./runners.js";
import { healthCheckType } from "./health-check.js";
import { effectiveGuestPolicy } from "./guest-policy.js";

/** An RFC 3339 UTC timestamp as written by `Date.prototype.toISOString`. */
export const timestamp = z.iso.datetime().describe("RFC 3339 timestamp in UTC");

/** A cycle id: one run of a plan over its targets, shared by every child made in that run. */
export const cycleId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/, "must be letters, digits, '.', '_' and '-'");

/** A Proxmox node name (a host name label). */
export const nodeName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/, "must be a Proxmox node name");

export const guestType = z.enum(["lxc", "qemu"]);
export type GuestType = z.infer<typeof guestType>;

export const guestUpdateSpec = z.strictObject({
  planRef: objectRef.describe("The GuestUpdatePlan this update belongs to"),
  clusterRef: objectRef.describe("The ProxmoxCluster hosting the guest"),
  vmid: vmid.describe("Id of the guest"),
  node: nodeName.describe("Node hosting the guest when this update was created; status follows migrations"),
  type: guestType.describe("Guest kind"),
  cycle: cycleId.describe("Id of the plan cycle that created this update"),
  policy: effectiveGuestPolicy,
});
export type GuestUpdateSpec = z.infer<typeof guestUpdateSpec>;

/** Phases of one guest update, in the order of DESIGN.md's guest update flow. */
export const guestUpdatePhase = z.enum([
  "Pending",
  "Preflight",
  "BackingUp",
  "Baseline",
  "Updating",
  "Restarting",
  "Verifying",
  "Succeeded",
  "RollingBack",
  "VerifyingRollback",
  "RolledBack",
  "Failed",
  "Blocked",
  "Skipped",
]);
export type GuestUpdatePhase = z.infer<typeof guestUpdatePhase>;

/**
 * Proxmox snapshot names (`pve-configid`) are a letter then letters, digits, `_` and `-`, at most 40
 * characters. Refit names its own `refit-<plan>-<yyyyMMddHHmmss>` (plan name with `.` turned into `-`,
 * shortened to fit) and prunes only names of this shape.
 */
export const SNAPSHOT_NAME_PATTERN = "^refit-[A-Za-z0-9_-]+-[0-9]{14}$";
export const SNAPSHOT_NAME_MAX = 40;
export const snapshotName = z
  .string()
  .max(SNAPSHOT_NAME_MAX)
  .regex(new RegExp(SNAPSHOT_NAME_PATTERN), "must be refit-<plan>-<yyyyMMddHHmmss>");

export const snapshotStatus = z.strictObject({
  name: snapshotName.describe("Snapshot name (also the vzdump archive's notes)"),
  mode: z.enum(["snapshot", "vzdump"]).describe("How the backup was taken"),
  storage: z.string().min(1).optional().describe("Storage of a vzdump archive"),
  volid: z
    .string()
    .min(1)
    .optional()
    .describe("Volume id of a vzdump archive, e.g. local:backup/vzdump-lxc-…"),
  createdAt: timestamp.describe("When the backup was proven to exist"),
});
export type SnapshotStatus = z.infer<typeof snapshotStatus>;

export const pendingPackage = z.strictObject({
  package: z.string().min(1).describe("Package, module, image or release"),
  from: z.string().optional().describe("Installed version; absent for a new package"),
  to: z.string().optional().describe("Version it moves to; absent for a removal or when unknown"),
});
export type PendingPackage = z.infer<typeof pendingPackage>;

/** Bytes of runner output kept in status; the full log is in the target's history. */
export const LOG_TAIL_MAX = 8192;

export const runnerResult = z.strictObject({
  name: z.string().min(1).describe("The runner's name (its type when unnamed)"),
  type: runnerType.describe("The runner's type"),
  pending: z.array(pendingPackage).default([]).describe("Updates found before applying"),
  applied: z.boolean().default(false).describe("True once the runner's changes are proven applied"),
  result: z
    .enum(["Succeeded", "Failed", "Skipped"])
    .optional()
    .describe("Outcome; absent while the runner has not finished"),
  exitCode: z.number().int().optional().describe("Exit code of the last command"),
  jobId: z.string().min(1).optional().describe("Transient systemd unit running the runner (refit-<id>)"),
  startedAt: timestamp.optional(),
  finishedAt: timestamp.optional(),
  logTail: z.string().max(LOG_TAIL_MAX).optional().describe("Last lines of the runner's output"),
});
export type RunnerResult = z.infer<typeof runnerResult>;

export const healthResult = z.strictObject({
  name: z.string().min(1).describe("The check's name"),
  type: healthCheckType.describe("The check's type"),
  healthy: z.boolean().describe("Whether the check passed"),
  latencyMs: z.number().min(0).optional().describe("Latency of the decisive attempt, or p95 with latencySLO"),
  attempts: z.number().int().min(0).optional().describe("Attempts made"),
  message: z.string().optional().describe("Why the check is unhealthy, for humans"),
  at: timestamp.describe("When the result was decided"),
});
export type HealthResult = z.infer<typeof healthResult>;

export const rollbackStatus = z.strictObject({
  done: z.boolean().default(false).describe("True once the backup is proven restored"),
  at: timestamp.optional(),
  reason: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]*$/, "must be one CamelCase word")
    .optional()
    .describe("What triggered the rollback, e.g. HealthCheckFailed"),
  attempts: z.number().int().min(0).default(0).describe("Rollback attempts started"),
  result: z.enum(["Succeeded", "Failed"]).optional().describe("Outcome once verified"),
});
export type RollbackStatus = z.infer<typeof rollbackStatus>;

/**
 * The step in flight, written BEFORE it is acted on. After a crash the controller reads it, proves
 * from the world whether the step happened (with `proof`), and never repeats one that did.
 */
export const currentStep = z.strictObject({
  name: z.string().min(1).describe("Step, e.g. Snapshot, Runner/os, Restart, Rollback"),
  id: z.string().min(1).describe("Idempotency id of the step (e.g. the transient unit or snapshot name)"),
  startedAt: timestamp,
  proof: z
    .record(z.string(), z.string())
    .optional()
    .describe("What proves the step happened, captured before it started (e.g. the container's boot id)"),
});
export type CurrentStep = z.infer<typeof currentStep>;

export const lastError = z.strictObject({
  reason: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]*$/, "must be one CamelCase word")
    .describe("One CamelCase word, e.g. SnapshotFailed"),
  message: z.string().describe("What happened, to what, and what to do"),
  at: timestamp,
  retryable: z.boolean().describe("Whether the controller will retry on its own"),
});
export type LastError = z.infer<typeof lastError>;

export const guestUpdateStatus = z.strictObject({
  ...baseStatusShape,
  phase: guestUpdatePhase.default("Pending").describe("Where the update stands in the guest update flow"),
  node: nodeName.optional().describe("Node the guest was last seen on"),
  snapshot: snapshotStatus.optional().describe("The backup taken before the update"),
  runners: z.array(runnerResult).default([]).describe("One entry per runner, in plan order"),
  healthBaseline: z.array(healthResult).default([]).describe("Health checks before the update"),
  healthResults: z.array(healthResult).default([]).describe("Health checks after the update (or rollback)"),
  rollback: rollbackStatus.optional().describe("The rollback, once one started"),
  currentStep: currentStep.optional().describe("The step in flight, recorded before it is acted on"),
  startedAt: timestamp.optional().describe("When the update left Pending"),
  phaseSince: timestamp.optional().describe("When the current phase began"),
  finishedAt: timestamp.optional().describe("When the update reached a final phase"),
  startedForUpdate: z
    .boolean()
    .optional()
    .describe("The container was stopped and Refit started it for the update (preflight.requireRunning false); it is shut down again at the end"),
  lastError: lastError.optional().describe("The most recent error; cleared when the update succeeds"),
});
export type GuestUpdateStatus = z.infer<typeof guestUpdateStatus>;

export const guestUpdate = kindSchema("GuestUpdate", guestUpdateSpec, guestUpdateStatus);
export type GuestUpdate = z.infer<typeof guestUpdate>;
