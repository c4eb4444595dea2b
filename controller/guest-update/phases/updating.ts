/**
 * Updating: the runners in order, each step a job inside the container (`pct exec` under a
 * transient unit). Where a runner stands is proven from its jobs' states every time, so a crash
 * never runs a step twice; after a failed step only its release steps run (holds never outlive the run).
 */
import { LOG_TAIL_MAX, type RunnerResult } from "../../../src/api/guest-update.js";
import type { Runner } from "../../../src/api/runners.js";
import { runnerStepCommand } from "../commands.js";
import { guestFacts, type GuestContext, type Needs, type Observation } from "../observation.js";
import { plannedSteps, runnerLabel, runnerProgress, type PlannedStep } from "../runner-steps.js";
import { act, goto, poll, run, wait, type Transition } from "../transition.js";
import { failure } from "./failure.js";
import { halted, phaseExpired } from "./gates.js";

/** The runner now at work: the first one without a result. */
export function currentRunner(ctx: GuestContext): number | undefined {
  const i = (ctx.status.runners ?? []).findIndex((r) => r.result === undefined);
  return i < 0 ? undefined : i;
}

function stepsOf(ctx: GuestContext, obs: Observation, i: number): PlannedStep[] | undefined {
  const spec = ctx.gu.spec.policy.runners[i];
  const plugin = spec ? ctx.runners(spec.type) : undefined;
  const g = guestFacts(obs);
  const result = ctx.status.runners?.[i];
  if (!spec || !plugin || !g || !result) return undefined;
  return plannedSteps(ctx.gu, i, plugin, spec, g.target, result.pending);
}

export function updatingNeeds(ctx: GuestContext, first?: Observation): Needs {
  const i = currentRunner(ctx);
  if (i === undefined) return {};
  if (!first) return { guest: true };
  const steps = stepsOf(ctx, first, i);
  if (!steps) return {};
  const jobs = steps.map((s) => s.jobId).filter((id) => !first.jobs[id]);
  if (jobs.length > 0) return { jobs };
  return runnerProgress(steps, first.jobs).kind === "done" ? { installed: i } : {};
}

export function decideUpdating(ctx: GuestContext, obs: Observation): Transition {
  const i = currentRunner(ctx);
  if (i === undefined)
    return goto("Restarting", "runners done; restarting per the restart policy", {
      patch: { currentStep: undefined },
    });
  const spec = ctx.gu.spec.policy.runners[i] as Runner;
  const label = runnerLabel(spec);
  if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.update))
    return failure(
      ctx,
      "Timeout",
      `runners of CT ${ctx.gu.spec.vmid} not done after timeouts.update (${ctx.gu.spec.policy.timeouts.update}), at runner ${label}`,
    );
  if (!obs.guest?.ok)
    return wait(
      obs.guest?.reason ?? "GuestUnreadable",
      `cannot read CT ${ctx.gu.spec.vmid}: ${obs.guest?.message ?? "not read"}`,
    );
  const steps = stepsOf(ctx, obs, i);
  if (!steps) return wait("RunnerUnavailable", `runner ${label} has no plugin in this build`);
  const progress = runnerProgress(steps, obs.jobs);
  if (progress.kind === "running")
    return poll("Updating", `runner ${label}: ${progress.planned.step.id} running`);
  if (progress.kind === "start") return startStep(ctx, i, progress.planned);
  return finished(ctx, obs, i, progress);
}

function startStep(ctx: GuestContext, i: number, planned: PlannedStep): Transition {
  const spec = ctx.gu.spec.policy.runners[i] as Runner;
  const label = runnerLabel(spec);
  // A release step is cleanup of what this run did: it goes on under a halt.
  const stop = planned.kind === "release" ? undefined : halted(ctx, `runner ${label}`);
  if (stop) return stop;
  const at = new Date(ctx.now).toISOString();
  const runners = patchRunner(ctx, i, (r) => ({ ...r, jobId: planned.jobId, startedAt: r.startedAt ?? at }));
  const what = `runner ${label} ${planned.step.id}`;
  return act([run(runnerStepCommand(ctx.gu, ctx.node, planned.jobId, planned.step), what)], {
    reason: "Updating",
    message: `runner ${label}: ${planned.kind} step ${planned.step.id} started`,
    patch: {
      runners,
      currentStep: { name: `Runner/${label}/${planned.step.id}`, id: planned.jobId, startedAt: at },
    },
    notes: [
      {
        step: `runner/${label}`,
        outcome: "started",
        message: planned.step.argv.join(" "),
        extra: { job: planned.jobId },
      },
    ],
  });
}

function finished(
  ctx: GuestContext,
  obs: Observation,
  i: number,
  progress: Extract<ReturnType<typeof runnerProgress>, { kind: "done" }>,
): Transition {
  const spec = ctx.gu.spec.policy.runners[i] as Runner;
  const label = runnerLabel(spec);
  if (!obs.installed) return poll("Updating", `runner ${label} done; reading what it changed`);
  const at = new Date(ctx.now).toISOString();
  if (progress.ok) {
    const changes = obs.installed.ok ? obs.installed.value : [];
    const runners = patchRunner(ctx, i, (r) => ({
      ...r,
      applied: true,
      result: "Succeeded",
      exitCode: 0,
      finishedAt: at,
    }));
    const message = `runner ${label}: ${changes.length} change(s) ${changes.map((c) => `${c.package} ${c.from ?? "-"} → ${c.to ?? "-"}`).join(", ")}`;
    return goto("Updating", message, {
      reason: "Updating",
      patch: { runners, currentStep: undefined },
      notes: [{ step: `runner/${label}`, outcome: "done", message, extra: { changes } }],
    });
  }
  const f = progress.failed;
  const tail = (f?.log ?? []).join("\n").slice(-LOG_TAIL_MAX);
  const why = `runner ${label} step ${f?.planned.step.id ?? "?"} ${f?.state ?? "failed"}${f?.exitCode !== undefined ? ` with exit code ${f.exitCode}` : ""}`;
  const runners = patchRunner(ctx, i, (r) => ({
    ...r,
    result: "Failed",
    finishedAt: at,
    ...(f?.exitCode !== undefined ? { exitCode: f.exitCode } : {}),
    ...(tail ? { logTail: tail } : {}),
  }));
  if (spec.continueOnError)
    return goto("Updating", `${why}; continueOnError: going on with the next runner`, {
      patch: { runners, currentStep: undefined },
      notes: [{ step: `runner/${label}`, outcome: "failed", message: why }],
    });
  return failure(ctx, "RunnerFailed", why, { runners });
}

function patchRunner(ctx: GuestContext, i: number, f: (r: RunnerResult) => RunnerResult): RunnerResult[] {
  return (ctx.status.runners ?? []).map((r, k) => (k === i ? f(r) : r));
}
