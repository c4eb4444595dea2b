/** Upgrading: the upgrade job runs on the node; its end is proven by what is still pending. */
import { jobId, upgradeCommand } from "../commands.js";
import type { Needs, Observation, PatchContext } from "../observation.js";
import { rebootDecision } from "../reboot-decision.js";
import { act, fail, goto, poll, run, wait, type Transition } from "../transition.js";
import { halted } from "./gating.js";

function upgradeId(ctx: PatchContext): string {
  return ctx.status.currentStep?.id ?? jobId(ctx.hp, "upgrade");
}

export function upgradingNeeds(ctx: PatchContext, obs?: Observation): Needs {
  const id = upgradeId(ctx);
  const job = obs?.jobs[id];
  // The pending list is read only once the job has ended well: apt's simulation beside a running dpkg is noise.
  if (job?.state === "exited" && job.exitCode === 0) return { node: { pendingUpdates: true } };
  return { jobs: [{ on: ctx.host, id }] };
}

export function decideUpgrading(ctx: PatchContext, obs: Observation): Transition {
  const id = upgradeId(ctx);
  const job = obs.jobs[id];
  if (!job) return poll("Upgrading", ctx.status.message ?? "upgrading");
  if (job.state === "unknown") {
    // Recorded but not yet started (or the controller died between the two): start it. startJob
    // refuses an id that ever ran, so this never runs an upgrade twice.
    return halted(ctx, "upgrade") ?? act([run(upgradeCommand(ctx.hp, ctx.spec), "upgrade")]);
  }
  if (job.state === "running") return poll("Upgrading", ctx.status.message ?? "upgrading");
  if (job.state !== "exited" || job.exitCode !== 0) {
    const tail = job.log.slice(-5).join(" | ");
    const message = `upgrade job ${id} ${job.state}${job.exitCode !== undefined ? ` with exit code ${job.exitCode}` : ""}: ${tail}`;
    return fail(job.state === "timed-out" ? "UpgradeTimedOut" : "UpgradeFailed", message, {
      notes: [{ step: "upgrade", outcome: "failed", message }],
    });
  }
  return upgraded(ctx, obs);
}

function upgraded(ctx: PatchContext, obs: Observation): Transition {
  const node = obs.node?.ok ? obs.node.value : undefined;
  const left = node?.pendingUpdates?.ok ? node.pendingUpdates.value.changes : undefined;
  if (!node || left === undefined)
    return poll("Upgrading", "upgrade finished; reading what is still pending");
  const upgradedPackages = (ctx.status.pendingPackages ?? []).filter(
    (p) => !left.some((l) => l.package === p.name),
  );
  const decision = rebootDecision(ctx.spec.reboot.policy, node.reboot);
  if (!decision.known)
    return wait(
      "GateClosed",
      `cannot tell whether a reboot is needed: ${node.reboot.ok ? "" : node.reboot.message}`,
    );
  const message = decision.required
    ? `upgraded; reboot needed: ${decision.reasons.join("; ")}`
    : "upgraded; no reboot needed";
  return goto(decision.required ? "Evacuating" : "Verifying", message, {
    patch: {
      upgradedPackages,
      rebootDecision: { required: decision.required, reasons: decision.reasons },
      currentStep: undefined,
    },
    notes: [
      {
        step: "upgrade",
        outcome: "done",
        message: `${upgradedPackages.length} package(s) upgraded${left.length ? `, ${left.length} still pending` : ""}`,
        extra: { rebootRequired: decision.required },
      },
    ],
  });
}
