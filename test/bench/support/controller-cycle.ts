import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScaledClock } from "../../../src/clock.js";
import type { SimHandle } from "../../../src/sim/index.js";
import { readState } from "../../../controller/runtime/state-reader.js";
import type { CycleReport } from "../../../controller/reports/cycle-report.js";
import { spawnController } from "../../support/controller-process.js";
import { simDesiredState } from "../../support/sim-desired.js";
import { watchChild, type ProcSample } from "./proc-sample.js";

/** The bench's plan: every node of the simulated cluster, at `parallel` migrations at once. */
function planYaml(parallel: number): string {
  return `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata: { name: pve-nodes }
spec:
  clusterRef: { name: pve-lab }
  targets: { nodes: ["pve*"] }
  evacuation: { maxParallelMigrations: ${parallel} }
`;
}

/**
 * One `refit run --once` cycle over the whole simulated cluster, the controller in a child process
 * (so its CPU and memory are its own), and the cycle report it wrote.
 */
export async function runCycle(
  sim: SimHandle,
  clock: ScaledClock,
  parallel: number,
): Promise<{ report: CycleReport; usage: ProcSample | undefined }> {
  const desired = simDesiredState(sim, planYaml(parallel));
  const state = mkdtempSync(join(tmpdir(), "refit-bench-state-"));
  const child = spawnController(
    desired,
    state,
    clock,
    { pollMs: 1000, waitMs: 3000, idleMs: 60000, rebootGraceMs: 180000 },
    "ignore",
  );
  const { code, usage } = await watchChild(child);
  const plan = (await readState(state)).find((o) => o.kind === "HostPatchPlan");
  const reportPath = (plan?.status?.lastCycle as { reportPath?: string } | undefined)?.reportPath;
  if (code !== 0 || !reportPath)
    throw new Error(`controller exited ${String(code)} at ${clock.factor}x without a report`);
  return { report: JSON.parse(readFileSync(reportPath, "utf8")) as CycleReport, usage };
}
