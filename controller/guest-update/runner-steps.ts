/**
 * The ordered jobs of one runner, from its plugin: hold steps, apply steps, then release steps.
 * Each gets a job id from its position, so the list (and so every id) is the same after a crash:
 * pending is recorded in status before the first job starts and the target comes from the config.
 */
import type { PendingPackage } from "../../src/api/guest-update.js";
import type { Runner } from "../../src/api/runners.js";
import type { RunnerPlugin, RunnerStep, RunnerTarget } from "../../src/runners/contract.js";
import { okCodes } from "../../src/runners/index.js";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { runnerStepJobId } from "./commands.js";

export type StepKind = "hold" | "apply" | "release";

export interface PlannedStep {
  kind: StepKind;
  step: RunnerStep;
  jobId: string;
}

/** The name a runner has in status and logs. */
export function runnerLabel(r: Runner): string {
  return r.name ?? r.type;
}

export function plannedSteps(
  gu: Pick<GuestUpdate, "spec">,
  index: number,
  plugin: RunnerPlugin,
  spec: Runner,
  target: RunnerTarget,
  pending: readonly PendingPackage[],
): PlannedStep[] {
  const groups: [StepKind, RunnerStep[]][] = [
    ["hold", plugin.hold(spec, target)],
    ["apply", plugin.apply(spec, target, pending)],
    ["release", plugin.release(spec, target)],
  ];
  const out: PlannedStep[] = [];
  for (const [kind, steps] of groups)
    for (const step of steps) out.push({ kind, step, jobId: runnerStepJobId(gu, index, out.length, step) });
  return out;
}

/** Where a runner's jobs stand, from their states in order (pure; the rules are in one place). */
export type RunnerProgress =
  | { kind: "start"; planned: PlannedStep }
  | { kind: "running"; planned: PlannedStep }
  | {
      kind: "done";
      ok: boolean;
      failed?: { planned: PlannedStep; state: string; exitCode?: number; log: string[] };
    };

export function runnerProgress(
  steps: readonly PlannedStep[],
  jobs: Record<string, { state: string; exitCode?: number; log: string[] } | undefined>,
): RunnerProgress {
  let failed: Extract<RunnerProgress, { kind: "done" }>["failed"];
  for (const planned of steps) {
    // After a failed hold or apply step only the release steps still run: holds never outlive the run.
    if (failed && planned.kind !== "release") continue;
    const job = jobs[planned.jobId];
    if (!job || job.state === "unknown") return { kind: "start", planned };
    if (job.state === "running") return { kind: "running", planned };
    // The job's own exit code against what the step accepts (some tools exit non-zero to say "done").
    const ok =
      job.state !== "timed-out" && job.exitCode !== undefined && okCodes(planned.step).includes(job.exitCode);
    if (!ok && !failed && planned.kind !== "release")
      failed = {
        planned,
        state: job.state,
        log: job.log,
        ...(job.exitCode !== undefined ? { exitCode: job.exitCode } : {}),
      };
  }
  return failed ? { kind: "done", ok: false, failed } : { kind: "done", ok: true };
}
