/**
 * Prefetch (spec.upgrade.prefetch): while a node waits for its turn, its packages are downloaded
 * ahead (`apt-get update && apt-get -y --download-only <mode>` as a remote job, recorded in
 * status.prefetch), at most `maxParallel` nodes of a cluster at a time, so the turn's upgrade
 * installs from the node's cache. The download takes no dpkg lock but `apt-get update` takes the
 * lists lock, so a turn that comes while it still runs waits for it. A download that fails or
 * never starts costs nothing but the time: the turn's own upgrade downloads what is missing.
 */
import { prefetchCommand } from "./commands.js";
import type { Needs, Observation, PatchContext } from "./observation.js";
import { act, poll, run, wait, withPatch, type StatusPatch, type Transition } from "./transition.js";
import { iso } from "./phases/gating.js";

type Record = NonNullable<PatchContext["status"]["prefetch"]>;

function running(ctx: PatchContext): Record | undefined {
  const rec = ctx.status.prefetch;
  return rec?.state === "Running" ? rec : undefined;
}

/** The download job's state, while status still says it runs. */
export function prefetchNeeds(ctx: PatchContext): Needs {
  const rec = running(ctx);
  return rec ? { jobs: [{ on: ctx.host, id: rec.jobId }] } : {};
}

/** Whether the job read in `obs` has ended (or never started); undefined while it runs or was not read. */
function ended(ctx: PatchContext, obs: Observation, rec: Record): Record | undefined {
  const job = obs.jobs[rec.jobId];
  if (!job || job.state === "running") return undefined;
  const done = job.state === "exited" && job.exitCode === 0;
  const tail = job.log.slice(-3).join(" | ");
  return {
    ...rec,
    state: done ? "Done" : "Failed",
    finishedAt: iso(ctx.now),
    ...(done
      ? {}
      : {
          message:
            job.state === "unknown"
              ? "the download job did not start; the upgrade downloads the packages itself"
              : `download job ${job.state}${job.exitCode !== undefined ? ` with exit code ${job.exitCode}` : ""}: ${tail}; the upgrade downloads the packages itself`,
        }),
  };
}

/**
 * While the node waits for its turn: record a download that has ended, or start one when the plan
 * wants it, a slot is free and the node is not known to be up to date; otherwise wait.
 */
export function prefetchWhileWaiting(
  ctx: PatchContext,
  obs: Observation,
  reason: string,
  message: string,
): Transition {
  const waiting = wait(reason, message);
  const rec = ctx.status.prefetch;
  if (rec?.state === "Running") {
    const end = ended(ctx, obs, rec);
    // An unknown job is not yet started (or lost): only the turn gives up on it.
    return end && obs.jobs[rec.jobId]?.state !== "unknown" ? withPatch(waiting, { prefetch: end }) : waiting;
  }
  if (rec || !ctx.spec.upgrade.prefetch.enabled || !ctx.prefetchSlot || ctx.halt) return waiting;
  if (ctx.published?.pendingUpdates === 0) return waiting;
  const command = prefetchCommand(ctx.hp, ctx.spec);
  return act([run(command, "prefetch", true)], {
    reason,
    message: `${message}; downloading its packages ahead`,
    patch: { prefetch: { jobId: command.job!.id, startedAt: iso(ctx.now), state: "Running" } },
    notes: [{ step: "prefetch", outcome: "started", extra: { jobId: command.job!.id } }],
    requeue: "wait",
  });
}

/**
 * The node's turn has come: a download still running is waited for (its `apt-get update` holds
 * the lists lock the upgrade needs); one that ended is recorded. Returns the transition to take
 * instead of the preflight, or the status patch to write with it.
 */
export function prefetchAtTurn(ctx: PatchContext, obs: Observation): Transition | StatusPatch {
  const rec = running(ctx);
  if (!rec) return {};
  const end = ended(ctx, obs, rec);
  if (!end) return poll("Preflight", "finishing the package download started ahead before the upgrade");
  return { prefetch: end };
}

/** The package lists were refreshed by this cycle's download: the preflight need not refresh them again. */
export function listsFreshFromPrefetch(ctx: PatchContext, obs?: Observation): boolean {
  if (!ctx.spec.upgrade.refreshIndex) return false;
  const rec = ctx.status.prefetch;
  if (rec?.state === "Done") return true;
  if (rec?.state !== "Running" || !obs) return false;
  const job = obs.jobs[rec.jobId];
  return job?.state === "exited" && job.exitCode === 0;
}
