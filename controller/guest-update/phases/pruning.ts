/**
 * Retention after a verified update (still in Verifying): Refit's own snapshots of this plan beyond
 * backup.retention are deleted one at a time (the pure rules are in ../backup), each delete a job
 * whose id is recorded first, so a crash never leaves the container locked and never deletes
 * anything Refit did not create. Pruning never fails an update: a lock that stays is left for the
 * next run.
 */
import { backupsToPrune, decidePrune, ownSnapshots, type BackupStep } from "../backup/index.js";
import { jobId, type RemoteCommand } from "../commands.js";
import { guestFacts, type GuestContext, type Needs, type Observation } from "../observation.js";
import { act, goto, poll, run, wait, type StatusPatch, type Transition } from "../transition.js";

export const PRUNE_STEP = "Prune";
/** Deletes of one snapshot tried before it is left for the next run. */
const PRUNE_ATTEMPTS = 3;

export function pruning(ctx: GuestContext): boolean {
  return ctx.status.currentStep?.name === PRUNE_STEP;
}

function intentJob(ctx: GuestContext): string | undefined {
  return ctx.status.currentStep?.proof?.job;
}

export function pruneNeeds(ctx: GuestContext): Needs {
  const job = intentJob(ctx);
  return { guest: true, snapshots: true, ...(job ? { jobs: [job] } : {}) };
}

function command(ctx: GuestContext, s: BackupStep, id: string): RemoteCommand {
  return { on: ctx.node, argv: s.argv, timeoutMs: s.timeoutMs, job: { id } };
}

/** `done` is where the update goes once nothing is left to prune (Succeeded, with its patch). */
export function decidePruning(ctx: GuestContext, obs: Observation, done: Transition): Transition {
  const retention = ctx.gu.spec.policy.backup.retention;
  const g = guestFacts(obs);
  if (!obs.snapshots?.ok || !g) return poll("Pruning", "reading the container's snapshots to prune old ones");
  const current = ctx.status.snapshot?.name;
  const owned = ownSnapshots(obs.snapshots.value, ctx.gu.spec.planRef.name);
  const pending = backupsToPrune(owned, retention, ctx.now, current ? [current] : []).prune;
  const job = intentJob(ctx);
  const ref = ctx.status.currentStep?.proof?.ref;
  const decision = decidePrune({
    vmid: ctx.gu.spec.vmid,
    lock: g.lock,
    pending,
    intent: ref ? { ref } : undefined,
    deleteTaskRunning: job !== undefined && obs.jobs[job]?.state === "running",
    lockedSince: g.lock ? Date.parse(ctx.status.currentStep?.startedAt ?? "") || ctx.now : undefined,
    now: ctx.now,
  });
  if (decision.kind === "done" || decision.kind === "giveUp") {
    const left = decision.kind === "giveUp" ? `; ${decision.message}` : "";
    return done.kind === "goto" ? { ...done, message: `${done.message}${left}` } : done;
  }
  if (decision.kind === "wait")
    return wait("Pruning", decision.message, { requeue: { ms: decision.requeueAfterMs } });
  const target = decision.target.ref;
  const attempt = ref === target ? Number(ctx.status.currentStep?.proof?.attempt ?? "1") + 1 : 1;
  if (attempt > PRUNE_ATTEMPTS) {
    const message = `${done.kind === "goto" ? done.message : ""}; deleting old snapshot ${target} failed ${PRUNE_ATTEMPTS} times, left for the next run`;
    return done.kind === "goto" ? { ...done, message } : done;
  }
  // An unlock is short and must end before the delete starts; the delete is a job, provable after a crash.
  const last = jobId(ctx.gu, `prune-${target}-a${attempt}`);
  const actions = decision.steps.map((s) =>
    run(
      s.id === "unlock" ? { on: ctx.node, argv: s.argv, timeoutMs: s.timeoutMs } : command(ctx, s, last),
      decision.why,
      true,
    ),
  );
  const patch: StatusPatch = {
    currentStep: {
      name: PRUNE_STEP,
      id: target,
      startedAt: new Date(ctx.now).toISOString(),
      proof: { ref: target, job: last, attempt: String(attempt) },
    },
  };
  return act(actions, {
    reason: "Pruning",
    message: decision.why,
    patch,
    notes: [{ step: "retention", outcome: "started", message: decision.why }],
  });
}

/** Pruning is entered from a healthy Verifying: the step is recorded, then each reconcile prunes. */
export function startPruning(ctx: GuestContext, patch: StatusPatch): Transition {
  return goto("Verifying", "verified healthy; pruning old Refit snapshots beyond backup.retention", {
    reason: "Pruning",
    patch: {
      ...patch,
      currentStep: { name: PRUNE_STEP, id: "retention", startedAt: new Date(ctx.now).toISOString() },
    },
  });
}
