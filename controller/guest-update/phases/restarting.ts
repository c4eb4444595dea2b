/**
 * Restarting, per the restart policy: the listed services, the container (`pct reboot`), the
 * container only when /var/run/reboot-required says so (IfRequired), or nothing. The choice and
 * its job id are recorded before the job starts; the job's state proves it.
 */
import { rebootContainerCommand, restartJobId, restartServicesCommand } from "../commands.js";
import type { GuestContext, Needs, Observation } from "../observation.js";
import { act, goto, poll, run, wait, type Transition } from "../transition.js";
import { failure } from "./failure.js";
import { halted, phaseExpired } from "./gates.js";

const STEP_SERVICES = "Restart/services";
const STEP_CONTAINER = "Restart/container";

function recorded(ctx: GuestContext): string | undefined {
  const s = ctx.status.currentStep?.name;
  return s === STEP_SERVICES || s === STEP_CONTAINER ? s : undefined;
}

export function restartingNeeds(ctx: GuestContext): Needs {
  if (recorded(ctx)) return { jobs: [restartJobId(ctx.gu)] };
  return ctx.gu.spec.policy.restart.policy === "IfRequired" ? { rebootRequired: true } : {};
}

export function decideRestarting(ctx: GuestContext, obs: Observation): Transition {
  const r = ctx.gu.spec.policy.restart;
  const vmid = ctx.gu.spec.vmid;
  const step = recorded(ctx);
  if (step) return restartRunning(ctx, obs, step);
  let choice: "none" | "services" | "container";
  if (r.policy === "None") choice = "none";
  else if (r.policy === "Container") choice = "container";
  else if (r.policy === "Services") choice = "services";
  else {
    if (!obs.rebootRequired?.ok)
      return wait(
        "GateClosed",
        `cannot tell whether CT ${vmid} needs a reboot: ${obs.rebootRequired?.message ?? "not read"}`,
      );
    choice = obs.rebootRequired.value ? "container" : r.services.length > 0 ? "services" : "none";
  }
  if (choice === "none")
    return goto("Verifying", `nothing to restart (restart policy ${r.policy}); verifying health`);
  const stop = halted(ctx, "restart");
  if (stop) return stop;
  const command =
    choice === "container"
      ? rebootContainerCommand(ctx.gu, ctx.node)
      : restartServicesCommand(ctx.gu, ctx.node, r.services);
  const what =
    choice === "container" ? `pct reboot ${vmid}` : `restart ${r.services.join(", ")} in CT ${vmid}`;
  return act([run(command, what)], {
    reason: "Restarting",
    message: what,
    patch: {
      currentStep: {
        name: choice === "container" ? STEP_CONTAINER : STEP_SERVICES,
        id: restartJobId(ctx.gu),
        startedAt: new Date(ctx.now).toISOString(),
      },
    },
    notes: [{ step: "restart", outcome: "started", message: what }],
  });
}

function restartRunning(ctx: GuestContext, obs: Observation, step: string): Transition {
  const id = restartJobId(ctx.gu);
  const job = obs.jobs[id];
  if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.verify))
    return failure(
      ctx,
      "Timeout",
      `${step} of CT ${ctx.gu.spec.vmid} not done after timeouts.verify (${ctx.gu.spec.policy.timeouts.verify})`,
    );
  if (!job || job.state === "unknown") {
    // Recorded but not started (a crash between the record and the start): start it now.
    const command =
      step === STEP_CONTAINER
        ? rebootContainerCommand(ctx.gu, ctx.node)
        : restartServicesCommand(ctx.gu, ctx.node, ctx.gu.spec.policy.restart.services);
    return (
      halted(ctx, "restart") ??
      act([run(command, step)], { reason: "Restarting", message: `${step} started` })
    );
  }
  if (job.state === "running") return poll("Restarting", `${step} running`);
  if (job.state === "exited" && job.exitCode === 0)
    return goto("Verifying", `${step} done; verifying health`, {
      patch: { currentStep: undefined },
      notes: [{ step: "restart", outcome: "done" }],
    });
  const why = `${step} of CT ${ctx.gu.spec.vmid} ${job.state}${job.exitCode !== undefined ? ` with exit code ${job.exitCode}` : ""}: ${job.log.slice(-3).join(" | ")}`;
  return failure(ctx, "RestartFailed", why);
}
