/** Upgrading: the upgrade job runs on the node; its end is proven by what is still pending. */
import { jobId, prepOf, unholdCommand, upgradeCommand } from "../commands.js";
import { nodeObs, type Needs, type Observation, type PatchContext } from "../observation.js";
import { rebootDecision } from "../reboot-decision.js";
import { act, fail, goto, poll, run, wait, withPatch, type Transition } from "../transition.js";
import { halted } from "./gating.js";

function upgradeId(ctx: PatchContext): string {
  return ctx.status.currentStep?.id ?? jobId(ctx.hp, "upgrade");
}

export function upgradingNeeds(ctx: PatchContext, obs?: Observation): Needs {
  const id = upgradeId(ctx);
  const job = obs?.jobs[id];
  // The pending list is read only once the job has ended well: apt's simulation beside a running dpkg is noise.
  if (job?.state === "exited" && job.exitCode === 0) return { node: { pendingUpdates: true } };
  // Whatever the outcome, holds Refit put on are released first, proven by `apt-mark showhold`.
  if (job && ended(job.state) && held(ctx).length > 0) return { node: { pendingUpdates: true } };
  return { jobs: [{ on: ctx.host, id }] };
}

export function decideUpgrading(ctx: PatchContext, obs: Observation): Transition {
  const id = upgradeId(ctx);
  const job = obs.jobs[id];
  if (!job) return poll("Upgrading", ctx.status.message ?? "upgrading");
  if (job.state === "unknown") {
    // Recorded but not yet started (or the controller died between the two): start it. startJob
    // refuses an id that ever ran, so this never runs an upgrade twice.
    return (
      halted(ctx, "upgrade") ??
      act([run(upgradeCommand(ctx.hp, ctx.spec, prepOf(ctx.status, ctx.now)), "upgrade")])
    );
  }
  if (job.state === "running") return poll("Upgrading", ctx.status.message ?? "upgrading");
  const release = releaseHolds(ctx, obs);
  if (release) return release;
  const cleared = held(ctx).length > 0 ? { heldPackages: undefined } : {};
  if (job.state !== "exited" || job.exitCode !== 0) {
    const tail = job.log.slice(-5).join(" | ");
    const message = `upgrade job ${id} ${job.state}${job.exitCode !== undefined ? ` with exit code ${job.exitCode}` : ""}: ${tail}`;
    return fail(job.state === "timed-out" ? "UpgradeTimedOut" : "UpgradeFailed", message, {
      patch: cleared,
      notes: [{ step: "upgrade", outcome: "failed", message }],
    });
  }
  return withPatch(upgraded(ctx, obs), cleared);
}

function ended(state: string): boolean {
  return state !== "running" && state !== "unknown";
}

function held(ctx: PatchContext): readonly string[] {
  return ctx.status.heldPackages ?? [];
}

/**
 * The holds Refit put on for the run (and only those: the admin's stay) are released once the job
 * has ended, before anything else; `apt-mark showhold` proves it, so a crash between the command
 * and its record only repeats the command. Undefined when nothing of Refit's is held any more.
 */
function releaseHolds(ctx: PatchContext, obs: Observation): Transition | undefined {
  const mine = held(ctx);
  if (mine.length === 0) return undefined;
  const node = nodeObs(obs);
  if (!node) return poll("Upgrading", "upgrade ended; reading the package holds to release");
  if (!node.holds?.ok)
    return wait(
      "GateClosed",
      `cannot tell whether the holds Refit put on (${mine.join(", ")}) are released: ${node.holds?.message ?? "not read"}`,
    );
  const still = mine.filter((p) => node.holds?.ok && node.holds.value.includes(p));
  if (still.length === 0) return undefined;
  const message = `upgrade ended; releasing the holds Refit put on for the run: ${still.join(", ")}`;
  return act([run(unholdCommand(ctx.host, still), "unhold", true)], {
    message,
    notes: [{ step: "upgrade", outcome: "done", message }],
  });
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
        message: upgradeNote(upgradedPackages.length, left, held(ctx)),
        extra: { rebootRequired: decision.required },
      },
    ],
  });
}

/** "2 package(s) upgraded, 1 held for the run (holdPackages), 1 still pending". */
function upgradeNote(
  upgraded: number,
  left: readonly { package: string }[],
  heldForRun: readonly string[],
): string {
  const heldLeft = left.filter((l) => heldForRun.includes(l.package)).length;
  const other = left.length - heldLeft;
  return `${upgraded} package(s) upgraded${heldLeft ? `, ${heldLeft} held for the run (holdPackages)` : ""}${other ? `, ${other} still pending` : ""}`;
}
