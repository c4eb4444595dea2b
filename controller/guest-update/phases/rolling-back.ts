/**
 * RollingBack: `pct rollback <vmid> <snapshot> --start 1` as a job, one id per attempt, the attempt
 * recorded before it starts. The job's end and the container running again prove it; a failed
 * attempt is retried up to rollback.maxAttempts, then the update is Failed (the snapshot is kept).
 */
import { rollbackCommand, rollbackJobId } from "../commands.js";
import { guestFacts, type GuestContext, type Needs, type Observation } from "../observation.js";
import { act, fail, goto, notify, poll, run, type Transition } from "../transition.js";
import { halted, phaseExpired } from "./gates.js";

const STEP = "Rollback";

function attempt(ctx: GuestContext): number | undefined {
  return ctx.status.currentStep?.name === STEP ? (ctx.status.rollback?.attempts ?? 1) : undefined;
}

export function rollingBackNeeds(ctx: GuestContext): Needs {
  const a = attempt(ctx);
  return a === undefined ? {} : { jobs: [rollbackJobId(ctx.gu, a)], guest: true };
}

export function decideRollingBack(ctx: GuestContext, obs: Observation): Transition {
  const vmid = ctx.gu.spec.vmid;
  const snap = ctx.status.snapshot;
  const rb = ctx.status.rollback ?? { done: false, attempts: 0 };
  if (!snap)
    return fail("RollbackFailed", `CT ${vmid} has no recorded backup to roll back to; look at it by hand`);
  const a = attempt(ctx);
  if (a === undefined) return start(ctx, rb.attempts + 1);
  if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.rollback))
    return failed(
      ctx,
      `rollback of CT ${vmid} to ${snap.name} not done after timeouts.rollback (${ctx.gu.spec.policy.timeouts.rollback})`,
    );
  const job = obs.jobs[rollbackJobId(ctx.gu, a)];
  if (!job || job.state === "unknown") return start(ctx, a);
  if (job.state === "running") return poll("RollingBack", `rolling CT ${vmid} back to ${snap.name}`);
  if (job.state === "exited" && job.exitCode === 0) {
    const g = guestFacts(obs);
    if (!g?.running) return poll("RollingBack", `CT ${vmid} restored to ${snap.name}; waiting for it to run`);
    return goto(
      "VerifyingRollback",
      `CT ${vmid} restored to ${snap.name} and running; verifying its health`,
      {
        patch: {
          currentStep: undefined,
          rollback: { ...rb, done: true, at: new Date(ctx.now).toISOString() },
        },
        notes: [{ step: "rollback", outcome: "done", message: `pct rollback ${vmid} ${snap.name}` }],
      },
    );
  }
  const why = `rollback attempt ${a} of CT ${vmid} to ${snap.name} ${job.state}: ${job.log.slice(-3).join(" | ")}`;
  if (a < ctx.gu.spec.policy.rollback.maxAttempts) return start(ctx, a + 1, why);
  return failed(ctx, why);
}

function start(ctx: GuestContext, n: number, after?: string): Transition {
  const snap = ctx.status.snapshot;
  const vmid = ctx.gu.spec.vmid;
  if (!snap) return fail("RollbackFailed", `CT ${vmid} has no recorded backup`);
  const rb = ctx.status.rollback ?? { done: false, attempts: 0 };
  return (
    halted(ctx, "rollback") ??
    act([run(rollbackCommand(ctx.gu, ctx.node, snap.name, n), `rollback ${vmid}`)], {
      reason: "RollingBack",
      message: `${after ? `${after}; ` : ""}rolling CT ${vmid} back to ${snap.name} (attempt ${n})`,
      patch: {
        currentStep: { name: STEP, id: rollbackJobId(ctx.gu, n), startedAt: new Date(ctx.now).toISOString() },
        rollback: { ...rb, attempts: n },
      },
      notes: [
        {
          step: "rollback",
          outcome: "started",
          message: `pct rollback ${vmid} ${snap.name} --start 1 (attempt ${n})`,
        },
      ],
    })
  );
}

function failed(ctx: GuestContext, why: string): Transition {
  const rb = ctx.status.rollback ?? { done: false, attempts: 0 };
  const message = `${why}; the snapshot ${ctx.status.snapshot?.name ?? ""} is kept: restore it by hand (pct rollback) or with \`refit rollback\``;
  return fail("RollbackFailed", message, {
    patch: { currentStep: undefined, rollback: { ...rb, result: "Failed" } },
    notes: [{ step: "rollback", outcome: "failed", message }],
    notices: [
      notify({
        event: "TargetFailed",
        severity: "critical",
        summary: message,
        details: { vmid: ctx.gu.spec.vmid },
      }),
    ],
  });
}
