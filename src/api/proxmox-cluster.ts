import { z } from "zod";
import { withRules } from "./cel.js";
import { baseStatusShape, kindSchema } from "./meta.js";
import { duration, objectName } from "./primitives.js";
import { sshAccessSpec } from "./ssh-access.js";

export const clusterEndpoint = z.strictObject({
  node: objectName.describe("Proxmox node name, as in /cluster/status"),
  host: z.string().min(1).describe("Address or DNS name Refit connects to"),
  port: z.number().int().min(1).max(65535).optional().describe("SSH port; default spec.ssh.port"),
});

export const clusterSafetySpec = z.strictObject({
  requireQuorum: z.boolean().default(true).describe("Act only while the cluster is quorate"),
  requireAllNodesOnline: z.boolean().default(true).describe("Act only while every other node is online"),
  maxUnavailable: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe("Nodes of this cluster that may be out at once, across all plans"),
});

export const proxmoxClusterSpec = withRules(
  z.strictObject({
    endpoints: z.array(clusterEndpoint).min(1).describe("The cluster's nodes and how to reach them"),
    ssh: sshAccessSpec,
    safety: clusterSafetySpec.prefault({}),
    observeInterval: duration.default("5m").describe("How often the cluster is observed when idle"),
    controllerNode: objectName
      .optional()
      .describe("The node this controller runs on (file mode on a PVE host); it is patched last"),
    suspend: z.boolean().default(false).describe("Stop every plan on this cluster from starting new steps"),
  }),
  [
    {
      rule: "self.endpoints.all(e, self.endpoints.exists_one(f, f.node == e.node))",
      message: "each node may appear in endpoints only once",
      field: "endpoints",
      check: (s) => new Set(s.endpoints.map((e) => e.node)).size === s.endpoints.length,
    },
    {
      rule: "!has(self.controllerNode) || self.endpoints.exists(e, e.node == self.controllerNode)",
      message: "controllerNode must be one of the endpoints' nodes",
      field: "controllerNode",
      check: (s) => s.controllerNode === undefined || s.endpoints.some((e) => e.node === s.controllerNode),
    },
  ],
);
export type ProxmoxClusterSpec = z.infer<typeof proxmoxClusterSpec>;

export const observedNode = z.strictObject({
  name: z.string(),
  online: z.boolean(),
  version: z.string().optional(),
  runningKernel: z.string().optional(),
  newestKernel: z.string().optional(),
  bootId: z.string().optional(),
  uptimeSeconds: z.number().optional(),
  pendingUpdates: z.number().int().min(0).optional(),
  keptBack: z
    .array(z.string())
    .optional()
    .describe(
      "Upgradable packages apt keeps back (held or unsatisfiable): not counted as pending, they need a person",
    ),
  held: z.array(z.string()).optional().describe("Packages on hold (`apt-mark showhold`)"),
  packageManager: z
    .string()
    .optional()
    .describe(
      "Why the package state could not be read, e.g. package manager busy (pid 1234, unattended-upgr)",
    ),
  rebootRequired: z.boolean().optional(),
  rebootReasons: z.array(z.string()).optional(),
  haState: z
    .string()
    .optional()
    .describe("The HA manager's state of the node: online, maintenance, unknown, fence"),
  observedAt: z.string().optional(),
  error: z.string().optional().describe("Why this node could not be observed"),
});

export const proxmoxClusterStatus = z.strictObject({
  ...baseStatusShape,
  clusterName: z.string().optional(),
  standalone: z.boolean().optional(),
  quorum: z
    .strictObject({
      quorate: z.boolean(),
      totalVotes: z.number().int().optional(),
      expectedVotes: z.number().int().optional(),
      quorum: z.number().int().optional(),
    })
    .optional(),
  ha: z.strictObject({ enabled: z.boolean(), master: z.string().optional() }).optional(),
  nodes: z.array(observedNode).optional(),
  lastObservedAt: z
    .string()
    .optional()
    .describe("When the cluster was last observed (at least one node answered)"),
  lastAttemptAt: z
    .string()
    .optional()
    .describe(
      "When the controller last tried to observe it, answered or not; after each patched node ends, it tries again",
    ),
});

export const proxmoxCluster = kindSchema("ProxmoxCluster", proxmoxClusterSpec, proxmoxClusterStatus);
export type ProxmoxCluster = z.infer<typeof proxmoxCluster>;
