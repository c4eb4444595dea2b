/**
 * A container that was stopped, and that Refit started for the update (preflight.requireRunning
 * false), is shut down again once the update has ended, whatever the outcome: `pct shutdown` as a
 * job (forced after restart.stopTimeout), proven by the container's status. The final phase stays;
 * only status.startedForUpdate is cleared.
 */
import { parseDuration } from "../../../src/api/primitives.js";
import { guestPowerArgv } from "../../../src/pve/index.js";
import { jobId, type RemoteCommand } from "../commands.js";
import { guestFacts, type GuestContext, type Needs, type Observation } from "../observation.js";
import { act, goto, poll, run, wait, type Transition } from "../transition.js";
import { isFinal } from "../flow.js";

export function stopsAgain(ctx: GuestContext): boolean {
  return isFinal(ctx.status.phase) && ctx.status.startedForUpdate === true;
}

function stopCommand(ctx: GuestContext): RemoteCommand {
  const timeoutSec = Math.ceil(parseDuration(ctx.gu.spec.policy.restart.stopTimeout) / 1000);
  return {
    on: ctx.node,
    argv: guestPowerArgv("lxc", "shutdown", ctx.gu.spec.vmid, { timeoutSec, forceStop: true }),
    timeoutMs: (timeoutSec + 120) * 1000,
    job: { id: jobId(ctx.gu, "stop-again") },
  };
}

export function stopAgainNeeds(ctx: GuestContext): Needs {
  return { guest: true, jobs: [jobId(ctx.gu, "stop-again")] };
}

export function decideStopAgain(ctx: GuestContext, obs: Observation): Transition {
  const vmid = ctx.gu.spec.vmid;
  const g = guestFacts(obs);
  if (!g)
    return wait(
      obs.guest?.ok === false ? obs.guest.reason : "GuestUnreadable",
      `cannot read CT ${vmid} to stop it again`,
    );
  const phase = ctx.status.phase;
  if (!g.running)
    return goto(
      phase,
      `${ctx.status.conditions?.find((c) => c.type === "Ready")?.message ?? phase}; CT ${vmid} stopped again, as it was before the update`,
      {
        requeue: "never",
        patch: { startedForUpdate: undefined },
        notes: [{ step: "stop-again", outcome: "done" }],
      },
    );
  const job = obs.jobs[jobId(ctx.gu, "stop-again")];
  if (job?.state === "running") return poll("StoppingAgain", `shutting CT ${vmid} down again`);
  if (job && job.state !== "unknown")
    return wait(
      "StopFailed",
      `CT ${vmid} still runs after Refit's shutdown (${job.state}); it was stopped before the update: stop it by hand`,
      { requeue: "never" },
    );
  return act([run(stopCommand(ctx), `shutdown ${vmid}`)], {
    message: `the update ended; shutting CT ${vmid} down again (it was stopped before)`,
    notes: [{ step: "stop-again", outcome: "started" }],
  });
}
