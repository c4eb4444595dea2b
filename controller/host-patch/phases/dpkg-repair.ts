/**
 * An interrupted dpkg, found in Preflight: apt refuses to work (root's `apt-get -s` too) until
 * `dpkg --configure -a` finishes what the cut-off run left. The repair is a change to the node, so
 * it waits for the same gates and window as the upgrade; it runs as a job (it configures packages,
 * which can take minutes) recorded in status before it starts, and the node is observed afresh after.
 */
import { parseDuration } from "../../../src/api/primitives.js";
import type { GateResult } from "../gates/index.js";
import type { NodeObservation } from "../../../src/pve/index.js";
import { dpkgRepairCommand, jobId } from "../commands.js";
import type { Needs, Observation, PatchContext } from "../observation.js";
import { act, fail, goto, poll, run, type Transition } from "../transition.js";
import { iso, notNow } from "./gating.js";

export const DPKG_REPAIR_STEP = "dpkg-repair";

export function repairing(ctx: PatchContext): boolean {
  return ctx.status.currentStep?.name === DPKG_REPAIR_STEP;
}

export function repairNeeds(ctx: PatchContext): Needs {
  return { jobs: [{ on: ctx.host, id: ctx.status.currentStep?.id ?? jobId(ctx.hp, DPKG_REPAIR_STEP) }] };
}

/** Start the repair (gates open, in the window), or say why not. */
export function startRepair(
  ctx: PatchContext,
  node: NodeObservation,
  gates: GateResult[],
  why: string,
): Transition {
  const closed = gates.filter((g) => !g.passed);
  if (closed.length > 0) {
    const message = `${why}; the repair waits for the gates: ${closed.map((g) => `${g.name} (${g.message})`).join("; ")}`;
    return goto("Blocked", message, {
      patch: { gates },
      notes: [{ step: "preflight", outcome: "blocked", message }],
      requeue: "wait",
    });
  }
  // One repair job per cycle (its id is per cycle): apt still refusing after it needs a person.
  if (ctx.status.dpkgRepair?.via === "repair-job") {
    const message = `${why}; dpkg --configure -a already ran in this cycle and apt still refuses: repair it by hand (dpkg --audit)`;
    return fail("DpkgRepairFailed", message, {
      notes: [{ step: DPKG_REPAIR_STEP, outcome: "failed", message }],
    });
  }
  const notYet = notNow(ctx, "the dpkg repair", parseDuration(ctx.spec.upgrade.timeout));
  if (notYet) return notYet;
  const audit = node.dpkgAudit?.ok ? node.dpkgAudit.value : { packages: [], problems: [] };
  const command = dpkgRepairCommand(ctx.hp, ctx.spec);
  const named = audit.packages.length > 0 ? ` (${audit.packages.join(", ")})` : "";
  const message = `dpkg was interrupted${named}: repairing with dpkg --configure -a before the upgrade`;
  return act([run(command, DPKG_REPAIR_STEP)], {
    message,
    patch: {
      gates,
      dpkgRepair: {
        packages: [...audit.packages],
        problems: [...audit.problems],
        at: iso(ctx.now),
        via: "repair-job",
      },
      currentStep: {
        name: DPKG_REPAIR_STEP,
        id: command.job!.id,
        startedAt: iso(ctx.now),
        timeout: ctx.spec.upgrade.timeout,
      },
    },
    notes: [{ step: DPKG_REPAIR_STEP, outcome: "started", message, extra: { jobId: command.job!.id } }],
  });
}

/** The repair job recorded in status: wait for it, then observe the node again. */
export function decideRepair(ctx: PatchContext, obs: Observation): Transition {
  const id = ctx.status.currentStep!.id;
  const job = obs.jobs[id];
  if (!job || job.state === "running") return poll("DpkgRepair", ctx.status.message ?? "repairing dpkg");
  if (job.state === "unknown") return act([run(dpkgRepairCommand(ctx.hp, ctx.spec), DPKG_REPAIR_STEP)]);
  if (job.state === "exited" && job.exitCode === 0)
    return goto("Preflight", "dpkg repaired (dpkg --configure -a); observing the node again", {
      patch: { currentStep: undefined },
      notes: [{ step: DPKG_REPAIR_STEP, outcome: "done", message: "dpkg --configure -a finished" }],
    });
  const message = `dpkg --configure -a (job ${id}) ${job.state}${job.exitCode !== undefined ? ` with exit code ${job.exitCode}` : ""}: ${job.log.slice(-5).join(" | ")}; repair the package by hand (dpkg --audit shows what is left)`;
  return fail("DpkgRepairFailed", message, {
    notes: [{ step: DPKG_REPAIR_STEP, outcome: "failed", message }],
  });
}
