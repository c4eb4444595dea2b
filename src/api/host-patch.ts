import { z } from "zod";
import { baseStatusShape, kindSchema } from "./meta.js";
import { duration, objectName, objectRef, vmid } from "./primitives.js";
import { hostProfile } from "./host-patch-plan.js";
import { noticeRecord } from "./plan-common.js";

/** One host of one plan: made by the controller, never by a user. */
export const hostPatchSpec = z.strictObject({
  planRef: objectRef,
  clusterRef: objectRef.optional(),
  host: objectName.describe("Node name, or the standalone host's name"),
  profile: hostProfile,
  cycle: z.string().min(1).describe("The plan cycle this patch belongs to"),
});

export const hostPatchPhase = z.enum([
  "Pending",
  "Preflight",
  "Blocked",
  "Skipped",
  "Upgrading",
  "Evacuating",
  "Rebooting",
  "AwaitingReturn",
  "Verifying",
  "Restoring",
  "Succeeded",
  "Failed",
]);
export type HostPatchPhase = z.infer<typeof hostPatchPhase>;

export const packageChange = z.strictObject({
  name: z.string(),
  from: z.string().optional(),
  to: z.string(),
});

export const migrationRecord = z.strictObject({
  vmid,
  type: z.enum(["qemu", "lxc"]),
  from: z.string(),
  to: z.string(),
  mode: z.enum(["online", "restart", "ha", "offline"]),
  withLocalDisks: z.boolean().optional().describe("A VM live-migrated with its local disks"),
  ejectedMedia: z
    .array(z.strictObject({ drive: z.string(), volume: z.string() }))
    .optional()
    .describe("CD images ejected before the move (evacuation.ejectLocalMedia); put back after the return"),
  mediaRestored: z
    .boolean()
    .optional()
    .describe(
      "true: the ejected CD images are back in their drives (seen in the config); false: not within 5 min, put them back by hand",
    ),
  restart: z
    .boolean()
    .optional()
    .describe(
      "A container: stopped, moved and started again (HA relocates HA-managed ones), so it is down meanwhile",
    ),
  awaitingStart: z
    .boolean()
    .optional()
    .describe(
      "HA relocated it off the node (task OK, on its target, unlocked) and the reboot went on; HA's start of it " +
        "on the target is proven in Verifying",
    ),
  state: z.enum(["Planned", "Running", "Done", "Failed"]),
  taskId: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
  attempt: z
    .number()
    .int()
    .min(2)
    .optional()
    .describe("Which try this is, after a cluster service that was restarting refused an earlier one"),
  retryAt: z.string().optional().describe("Not started again before this time"),
});

export const gateResult = z.strictObject({
  name: z.string(),
  passed: z.boolean(),
  message: z.string(),
});

/** A step recorded before it is acted on, with what will prove it happened. */
export const stepIntent = z.strictObject({
  name: z.string(),
  id: z.string(),
  startedAt: z.string(),
  timeout: duration.optional(),
});

/** A guest shut down for the reboot: only guests that were running are recorded, and exactly those start again. */
export const shutdownRecord = z.strictObject({
  vmid,
  type: z.enum(["qemu", "lxc"]),
  state: z
    .enum(["Planned", "ShuttingDown", "Stopped", "Starting", "Started", "Failed"])
    .describe("Planned → ShuttingDown → Stopped before the reboot; Starting → Started after the return"),
  reason: z.string().optional().describe("Why it is shut down rather than moved"),
  forced: z.boolean().optional().describe("It ignored the shutdown and was stopped after the timeout"),
  startedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  startedAgainAt: z.string().optional(),
  message: z.string().optional(),
  attempt: z
    .number()
    .int()
    .min(2)
    .optional()
    .describe("Which try of the shutdown this is, after a cluster service that was restarting refused one"),
  retryAt: z.string().optional().describe("Not asked again before this time"),
});

/** HA node maintenance that this patch asked for: recorded before the command, cleared by the world. */
export const haMaintenanceRecord = z.strictObject({
  requestedAt: z.string().describe("When `node-maintenance enable` was recorded (before it was sent)"),
  cycle: z.string().describe("The plan cycle that enabled it"),
  guests: z.array(vmid).describe("HA-managed guests that HA moves off the node"),
  enteredAt: z.string().optional().describe("When the LRM reported maintenance and the HA guests had left"),
  disableRequestedAt: z.string().optional().describe("When `node-maintenance disable` was recorded"),
  leftAt: z.string().optional().describe("When the node read online in the HA manager again"),
});

/** The node's Ceph noout flag this patch set: recorded before each command, proven by ceph health detail. */
export const cephNooutRecord = z.strictObject({
  cycle: z.string().describe("The plan cycle that set it"),
  requestedAt: z
    .string()
    .describe("When `ceph osd set-group noout <node>` was recorded (before it was sent)"),
  setAt: z.string().optional().describe("When ceph health detail showed the node's noout flag"),
  unsetRequestedAt: z.string().optional().describe("When `ceph osd unset-group noout <node>` was recorded"),
  unsetAt: z.string().optional().describe("When the node's noout flag was gone from ceph health detail"),
});

/** The package download started ahead of the node's turn (spec.upgrade.prefetch). */
export const prefetchRecord = z.strictObject({
  jobId: z.string(),
  startedAt: z.string().describe("When the download job was recorded (before it was started)"),
  state: z.enum(["Running", "Done", "Failed"]),
  finishedAt: z.string().optional(),
  message: z.string().optional().describe("Why it failed (the turn's own upgrade downloads what is missing)"),
});

export const hostPatchStatus = z.strictObject({
  ...baseStatusShape,
  phase: hostPatchPhase.optional(),
  phaseSince: z.string().optional(),
  message: z.string().optional(),
  gates: z.array(gateResult).optional(),
  pendingPackages: z.array(packageChange).optional(),
  upgradedPackages: z.array(packageChange).optional(),
  keptBackPackages: z
    .array(z.string())
    .optional()
    .describe(
      "Upgradable packages apt keeps back (held, or a dependency it cannot satisfy): they need a person, Refit never forces them",
    ),
  heldPackages: z
    .array(z.string())
    .optional()
    .describe(
      "Packages Refit put on hold for this run (spec.upgrade.holdPackages), recorded before `apt-mark hold` and cleared once `apt-mark unhold` is proven; a package the admin held before is never listed and stays held",
    ),
  dpkgRepair: z
    .strictObject({
      packages: z.array(z.string()).describe("What `dpkg --audit` named before the upgrade"),
      problems: z.array(z.string()),
      at: z.string(),
      via: z
        .enum(["repair-job", "upgrade-job"])
        .optional()
        .describe(
          "repair-job: apt refused until it ran (its own job, before the observation); upgrade-job: first step of the upgrade",
        ),
    })
    .optional()
    .describe("An interrupted dpkg found before the upgrade and repaired with `dpkg --configure -a` first"),
  rebootDecision: z.strictObject({ required: z.boolean(), reasons: z.array(z.string()) }).optional(),
  migrations: z.array(migrationRecord).optional().describe("Migrations planned and done, in order"),
  migrationsToUndo: z.array(migrationRecord).optional(),
  shutdowns: z
    .array(shutdownRecord)
    .optional()
    .describe("Guests shut down for the reboot and started after it"),
  haMaintenance: haMaintenanceRecord.optional(),
  cephNoout: cephNooutRecord.optional(),
  bootIdBeforeReboot: z.string().optional(),
  bootIdAfterReboot: z.string().optional(),
  rebootIssuedAt: z.string().optional(),
  currentStep: stepIntent.optional(),
  prefetch: prefetchRecord.optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  lastError: z
    .strictObject({ reason: z.string(), message: z.string(), at: z.string(), retryable: z.boolean() })
    .optional(),
  notices: z
    .array(noticeRecord)
    .optional()
    .describe(
      "Notices a step waited for (BeforeReboot) and how each channel's delivery stood when it went on",
    ),
});

export const hostPatch = kindSchema("HostPatch", hostPatchSpec, hostPatchStatus);
export type HostPatch = z.infer<typeof hostPatch>;

/** Phases in which the host is out of normal service (counted against the cluster's maxUnavailable). */
export const DISRUPTIVE_PHASES: readonly HostPatchPhase[] = [
  "Upgrading",
  "Evacuating",
  "Rebooting",
  "AwaitingReturn",
  "Verifying",
  "Restoring",
];

/** Phases a HostPatch does not leave within its cycle. */
export const TERMINAL_PHASES: readonly HostPatchPhase[] = ["Succeeded", "Skipped", "Failed"];

export function isDisruptive(phase: HostPatchPhase | undefined): boolean {
  return phase !== undefined && DISRUPTIVE_PHASES.includes(phase);
}

export function isTerminal(phase: HostPatchPhase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.includes(phase);
}
