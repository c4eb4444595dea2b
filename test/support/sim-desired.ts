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

export const ROLLING_PLAN = `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata:
  name: pve-nodes
spec:
  clusterRef: { name: pve-lab }
  profile: pve
  targets: { nodes: ["pve*"] }
`;
