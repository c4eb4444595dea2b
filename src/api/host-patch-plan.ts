import { z } from "zod";
import { withRules } from "./cel.js";
import { baseStatusShape, kindSchema } from "./meta.js";
import { concurrencySpec, schedulingShape } from "./plan-common.js";
import { duration, glob, objectName, objectRef, percent, vmid } from "./primitives.js";
import { sshAccessSpec } from "./ssh-access.js";

export const hostProfile = z.enum(["pve", "pbs", "debian"]);
export type HostProfile = z.infer<typeof hostProfile>;

/** A host outside the cluster's node list: a PBS VM or another Debian machine. */
export const standaloneHost = z.strictObject({
  name: objectName.describe("Name used in status, logs and reports"),
  host: z.string().min(1).describe("Address or DNS name Refit connects to"),
  port: z.number().int().min(1).max(65535).optional(),
  rebootedBy: z
    .strictObject({
      vmid: vmid.describe("The guest id of this host on the plan's cluster; rebooted with `qm reboot`"),
    })
    .optional()
    .describe("Reboot this host from the hypervisor instead of from inside"),
});

export const hostTargets = withRules(
  z.strictObject({
    nodes: z.array(glob).optional().describe("Cluster nodes by name or glob, e.g. ['pve*']"),
    excludeNodes: z.array(glob).optional().describe("Cluster nodes never touched by this plan"),
    standalone: z.array(standaloneHost).optional().describe("Hosts that are not cluster nodes"),
  }),
  [
    {
      rule: "(has(self.nodes) && size(self.nodes) > 0) != (has(self.standalone) && size(self.standalone) > 0)",
      message: "set exactly one of nodes or standalone",
      check: (t) => (t.nodes?.length ?? 0) > 0 !== (t.standalone?.length ?? 0) > 0,
    },
  ],
);

export const upgradeSpec = z.strictObject({
  refreshIndex: z.boolean().default(true).describe("Run apt-get update first"),
  mode: z.enum(["dist-upgrade", "upgrade"]).default("dist-upgrade"),
  dpkgOptions: z
    .array(z.string().regex(/^--force-[a-z-]+$/))
    .default(["--force-confdef", "--force-confold"])
    .describe("dpkg options; keep local config files by default"),
  autoremove: z.boolean().default(true),
  autoclean: z.boolean().default(true),
  holdPackages: z.array(z.string().min(1)).optional().describe("Packages never upgraded by this plan"),
  timeout: duration.default("60m").describe("Upper bound of the whole upgrade job"),
  prefetch: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe("While a node waits for its turn, download its packages (apt-get --download-only)"),
      maxParallel: z
        .number()
        .int()
        .min(1)
        .max(64)
        .default(4)
        .describe("Nodes of a cluster downloading ahead at the same time"),
    })
    .prefault({})
    .describe("Downloads ahead of each node's turn, so the turn installs from the node's cache"),
});

export const rebootSpec = z.strictObject({
  policy: z
    .enum(["Always", "IfRequired", "Never"])
    .default("IfRequired")
    .describe("IfRequired: a newer kernel than the running one, or /var/run/reboot-required"),
  returnTimeout: duration.default("15m").describe("How long a rebooting host may take to prove it is back"),
});

export const evacuationSpec = z.strictObject({
  mode: z
    .enum(["Migrate", "HAMaintenance", "Shutdown", "None"])
    .default("Migrate")
    .describe("How guests leave a node before its reboot"),
  migrateBack: z.boolean().default(true).describe("Return moved guests once the node is back"),
  maxParallelMigrations: z.number().int().min(1).max(16).default(2),
  memoryHeadroomPercent: percent.default(10).describe("Memory kept free on each target node"),
  unmovable: z
    .enum(["Block", "Shutdown", "Skip"])
    .default("Block")
    .describe("Guests that cannot move (local devices, no fit): Block stops before anything moves"),
  withLocalDisks: z
    .boolean()
    .default(true)
    .describe("Live-migrate VMs with local disks (--with-local-disks)"),
  ejectLocalMedia: z
    .boolean()
    .default(false)
    .describe(
      "Eject CD images on local storage (qm set --ideN none,media=cdrom) before a VM moves, and put them back after it returns",
    ),
  containerShutdownTimeout: duration.default("180s").describe("pct migrate --restart shutdown timeout"),
  shutdownTimeout: duration
    .default("180s")
    .describe("Guests shut down for the reboot get this long, then are stopped (--forceStop 1)"),
  preferPatchedNodes: z.boolean().default(true),
  timeout: duration.default("30m"),
});

/** Gates; an unset gate takes its profile's default. A gate that cannot be evaluated is closed. */
export const hostGatesSpec = z.strictObject({
  pveVersion: z.boolean().optional().describe("pveversion is present (pve)"),
  zfsHealthy: z.boolean().optional().describe("zpool status -x reports healthy pools"),
  rootFsMaxUsedPercent: percent.optional().describe("Root filesystem use at most this percent (default 90)"),
  rootFsMinFreeGiB: z.number().min(0).optional().describe("At least this many GiB free on / (pbs default 2)"),
  clusterQuorate: z.boolean().optional(),
  allNodesOnline: z.boolean().optional(),
  keepsQuorum: z.boolean().optional().describe("Taking this node down keeps the cluster quorate"),
  noActiveTasks: z.boolean().optional().describe("No running Proxmox tasks on the node"),
  haManagerAlive: z.boolean().optional(),
  cephHealthy: z
    .boolean()
    .optional()
    .describe("Ceph is HEALTH_OK (or HEALTH_WARN with ceph.allowHealthWarn) and not recovering (pve)"),
  backupServer: z.boolean().optional().describe("proxmox-backup-manager is present (pbs)"),
  noRunningBackupTasks: z.boolean().optional().describe("No running PBS tasks (pbs)"),
  packageManagerHealthy: z.boolean().optional().describe("No apt/dpkg process or interrupted dpkg state"),
  packageManagerWait: duration.optional().describe("How long to wait for a running apt/dpkg (default 10m)"),
});

/** Hyper-converged Ceph (detected by /etc/pve/ceph.conf); ignored on a cluster without it. */
export const cephSpec = z.strictObject({
  allowHealthWarn: z
    .boolean()
    .default(false)
    .describe(
      "Start a node while Ceph reports HEALTH_WARN (never HEALTH_ERR, never while OSDs are down or PGs degraded)",
    ),
  noout: z
    .boolean()
    .default(true)
    .describe(
      "Set noout on the node (ceph osd set-group noout <node>) for its reboot; unset once Ceph has recovered",
    ),
});

export const verifySpec = z.strictObject({
  services: z
    .array(z.string().regex(/^[A-Za-z0-9@._:-]+$/, "must be a systemd unit name"))
    .optional()
    .describe("Units that must be active after the reboot; default per profile"),
  requireEnabled: z.boolean().optional().describe("Units must also be enabled (pbs default)"),
  haLrmActive: z
    .boolean()
    .optional()
    .describe("The node's HA LRM must be active again (pve default when HA is used)"),
  timeout: duration.default("10m"),
});

export const hostPatchPlanSpec = withRules(
  z.strictObject({
    clusterRef: objectRef.optional().describe("The ProxmoxCluster the hosts belong to or run on"),
    profile: hostProfile
      .default("pve")
      .describe("Defaults for gates, reboot authority, verification and notices"),
    targets: hostTargets,
    ssh: sshAccessSpec.optional().describe("SSH access for standalone hosts; default the cluster's"),
    upgrade: upgradeSpec.prefault({}),
    reboot: rebootSpec.prefault({}),
    evacuation: evacuationSpec.prefault({}),
    gates: hostGatesSpec.prefault({}),
    ceph: cephSpec.prefault({}),
    verify: verifySpec.prefault({}),
    concurrency: concurrencySpec.prefault({}),
    ...schedulingShape,
  }),
  [
    {
      rule: "!has(self.targets.nodes) || size(self.targets.nodes) == 0 || has(self.clusterRef)",
      message: "clusterRef is required when targets.nodes names cluster nodes",
      field: "clusterRef",
      check: (s) => (s.targets.nodes?.length ?? 0) === 0 || s.clusterRef !== undefined,
    },
    {
      rule: "self.profile != 'pve' || (has(self.targets.nodes) && size(self.targets.nodes) > 0)",
      message: "profile pve patches cluster nodes: set targets.nodes",
      field: "targets",
      check: (s) => s.profile !== "pve" || (s.targets.nodes?.length ?? 0) > 0,
    },
    {
      rule: "!has(self.targets.standalone) || self.targets.standalone.all(h, !has(h.rebootedBy)) || has(self.clusterRef)",
      message: "clusterRef is required when a standalone host is rebootedBy a guest",
      field: "clusterRef",
      check: (s) =>
        (s.targets.standalone ?? []).every((h) => h.rebootedBy === undefined) || s.clusterRef !== undefined,
    },
    {
      rule: "!has(self.targets.standalone) || has(self.ssh) || has(self.clusterRef)",
      message: "standalone hosts need ssh access: set ssh or a clusterRef to borrow it from",
      field: "ssh",
      check: (s) => s.targets.standalone === undefined || s.ssh !== undefined || s.clusterRef !== undefined,
    },
  ],
);
export type HostPatchPlanSpec = z.infer<typeof hostPatchPlanSpec>;

export const planPhase = z.enum([
  "Idle",
  "Waiting",
  "OutsideWindow",
  "Progressing",
  "Succeeded",
  "Stalled",
  "Suspended",
]);

/**
 * How a plan stands for someone waiting on it (`refit run --once`, a CI job, a dashboard): one fact,
 * decided by the plan's reconciler, so nobody has to read condition reasons to know it.
 */
export const planOutcomeState = z
  .enum([
    "Converged",
    "Progressing",
    "Waiting",
    "Failing",
    "Stalled",
    "Blocked",
    "OutsideWindow",
    "Suspended",
    "Halted",
    "NotHandled",
  ])
  .describe(
    "Converged: the last cycle succeeded and the plan is not due again yet. " +
      "Progressing: a cycle is running. " +
      "Waiting: it waits its turn (after, mutex) and goes on by itself. " +
      "Failing: a host failed; the steps in flight finish, then the plan is Stalled. " +
      "Stalled: a host failed; nothing more happens until a person acts (refit.dev/requested-at or a spec edit). " +
      "Blocked: it cannot start until a person acts elsewhere (its cluster is missing, a plan it runs after is stalled or missing). " +
      "OutsideWindow: outside its maintenance windows or inside a blackout; it starts by itself when allowed. " +
      "Suspended: spec.suspend on the plan or its cluster. " +
      "Halted: the kill switch is present. " +
      "NotHandled: this version of Refit does not act on the plan (profile pbs or debian).",
  );
export type PlanOutcomeState = z.infer<typeof planOutcomeState>;

export const planOutcome = z
  .strictObject({
    state: planOutcomeState,
    cycle: z.string().optional().describe("The cycle the state is about, when there is one"),
    generation: z.number().int().min(0).describe("The spec generation the state was decided for"),
    at: z.string().describe("When the plan came to this state (RFC 3339)"),
  })
  .describe("How this plan stands for someone waiting on it; read this instead of condition reasons");

export const hostPatchPlanStatus = z.strictObject({
  ...baseStatusShape,
  phase: planPhase.optional(),
  targets: z.number().int().min(0).optional(),
  succeeded: z.number().int().min(0).optional(),
  failed: z.number().int().min(0).optional(),
  skipped: z.number().int().min(0).optional(),
  cycle: z.string().optional().describe("Id of the current or last cycle"),
  cycleHosts: z
    .array(z.string().min(1))
    .optional()
    .describe(
      "The hosts of the current or last cycle, recorded in the same write that starts it. Each gets a " +
        "HostPatch of that cycle; the cycle succeeds only when every one of them has ended, and ends " +
        "stalled when one failed and no other is in the middle of a step",
    ),
  outcome: planOutcome.optional(),
  lastCycle: z
    .strictObject({
      startedAt: z.string(),
      finishedAt: z.string().optional(),
      reportPath: z.string().optional(),
    })
    .optional(),
  nextWindow: z.string().optional(),
  waitingSince: z.string().optional().describe("When the plan began waiting for the plans it runs after"),
});

export const hostPatchPlan = kindSchema("HostPatchPlan", hostPatchPlanSpec, hostPatchPlanStatus);
export type HostPatchPlan = z.infer<typeof hostPatchPlan>;
