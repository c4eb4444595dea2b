import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SimHandle } from "../../src/sim/index.js";

/** A desired-state directory whose ProxmoxCluster points at the simulator's nodes. */
export function simDesiredState(sim: SimHandle, extra: string, clusterName = "pve-lab"): string {
  const dir = mkdtempSync(join(tmpdir(), "refit-e2e-desired-"));
  const endpoints = sim.nodes
    .map((n) => `    - { node: ${n.name}, host: "${n.address}", port: ${n.port} }`)
    .join("\n");
  writeFileSync(
    join(dir, "cluster.yaml"),
    `apiVersion: refit.dev/v1alpha1
kind: ProxmoxCluster
metadata:
  name: ${clusterName}
spec:
  endpoints:
${endpoints}
  ssh:
    user: root
    privateKey: { file: "${sim.clientKeyPath ?? ""}" }
    knownHosts: { file: "${sim.knownHostsPath}" }
  observeInterval: 30m
`,
  );
  writeFileSync(join(dir, "plans.yaml"), extra);
  return dir;
}

/** The rolling fleet's HostPatchPlan `pve-nodes` over every pve node, with extra spec lines. */
export function rollingPlan(extraSpec = ""): string {
  return `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata:
  name: pve-nodes
spec:
  clusterRef: { name: pve-lab }
  profile: pve
  targets: { nodes: ["pve*"] }
${extraSpec}`;
}

export const ROLLING_PLAN = rollingPlan();

/** Where every guest of the rolling fleet runs before a cycle, and must run again after it. */
export const ROLLING_HOME: [number, string, string][] = [
  [100, "pve1", "running"],
  [101, "pve1", "running"],
  [102, "pve2", "running"],
  [103, "pve3", "running"],
  [200, "pve1", "running"],
  [201, "pve2", "running"],
];

/** [vmid, node, status] of every guest, sorted: compare with ROLLING_HOME. */
export function placement(snapshot: {
  guests: Record<string, { vmid: number; node: string; status: string }>;
}): [number, string, string][] {
  return Object.values(snapshot.guests)
    .map((g): [number, string, string] => [g.vmid, g.node, g.status])
    .sort((a, b) => a[0] - b[0]);
}
