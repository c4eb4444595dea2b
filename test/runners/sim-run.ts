/**
 * Runs a runner's steps in a simulated container the way the guest update flow does: each argv
 * through `pct exec` over the project's SSH client, apply steps as remote jobs (transient units on
 * the node) polled until they end.
 */
import { afterEach } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import type { Runner } from "../../src/api/runners.js";
import { runnerName } from "../../src/api/runners.js";
import { pctExecArgv } from "../../src/pve/guest-exec.js";
import type { Change, RunnerStep, RunnerTarget, StepResult } from "../../src/runners/contract.js";
import { pluginFor } from "../../src/runners/registry.js";
import { stepFailure } from "../../src/runners/steps.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SshPool, jobStatus, startJob, type HostExec } from "../../src/ssh/index.js";
import { simExec } from "../support/sim-ssh.js";

const FLEET = new URL("./fleets/two-containers.yaml", import.meta.url).pathname;
const running: { sim: SimHandle; pool: SshPool }[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.pool.close();
    await r.sim.stop();
  }
});

export interface RunnerLab {
  sim: SimHandle;
  exec: HostExec;
}

export async function startRunnerLab(): Promise<RunnerLab> {
  const sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
  const pool = new SshPool();
  running.push({ sim, pool });
  return { sim, exec: simExec(pool, sim, "pve1") };
}

let jobSeq = 0;

async function runJob(lab: RunnerLab, vmid: number, s: RunnerStep): Promise<StepResult> {
  const id = `rt-${vmid}-${s.id}-${++jobSeq}`.slice(0, 64);
  const argv = pctExecArgv(vmid, s.argv, s.env ? { env: s.env } : {});
  await startJob(lab.exec, id, argv, { timeoutMs: s.timeoutMs });
  const deadline = lab.sim.clock.now() + s.timeoutMs;
  for (;;) {
    const st = await jobStatus(lab.exec, id, { logLines: 500 });
    if (st.state !== "running" && st.state !== "unknown")
      return { id: s.id, exitCode: st.exitCode ?? -1, stdout: st.log.join("\n"), stderr: "" };
    if (lab.sim.clock.now() > deadline) throw new Error(`job ${id} did not end within its timeout`);
    await lab.sim.clock.sleep(2_000);
  }
}

/** Runs steps in order; a step whose exit code its runner does not accept throws its StepFailedError. */
export async function runSteps(
  lab: RunnerLab,
  spec: Runner,
  vmid: number,
  steps: readonly RunnerStep[],
): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const s of steps) {
    let r: StepResult;
    if (s.job) r = await runJob(lab, vmid, s);
    else {
      const res = await lab.exec.exec(pctExecArgv(vmid, s.argv, s.env ? { env: s.env } : {}), {
        timeoutMs: s.timeoutMs,
      });
      r = { id: s.id, exitCode: res.exitCode ?? -1, stdout: res.stdout, stderr: res.stderr };
    }
    const failed = stepFailure(runnerName(spec), s, r);
    if (failed) throw failed;
    out.push(r);
  }
  return out;
}

export interface Cycle {
  applies: boolean;
  pending: Change[];
  changes: Change[];
  after: Change[];
}

/** detect → refresh, list → hold → apply → release → installed → list again, as one update of one container. */
export async function cycle(lab: RunnerLab, spec: Runner, target: RunnerTarget): Promise<Cycle> {
  const p = pluginFor(spec);
  const applies = p.applies(spec, target, await runSteps(lab, spec, target.vmid, p.detect(spec, target)));
  if (!applies) return { applies, pending: [], changes: [], after: [] };
  const refresh = p.refresh?.(spec, target) ?? [];
  const listing = [...refresh, ...p.list(spec, target)];
  const pending = p.pending(spec, target, await runSteps(lab, spec, target.vmid, listing));
  await runSteps(lab, spec, target.vmid, p.hold(spec, target));
  await runSteps(lab, spec, target.vmid, p.apply(spec, target, pending));
  await runSteps(lab, spec, target.vmid, p.release(spec, target));
  const changes = p.changes(
    spec,
    target,
    pending,
    await runSteps(lab, spec, target.vmid, p.installed(spec, target)),
  );
  const after = p.pending(spec, target, await runSteps(lab, spec, target.vmid, listing));
  return { applies, pending, changes, after };
}
