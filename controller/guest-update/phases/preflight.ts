/**
 * Pending and Preflight. Preflight is back-pressure: a closed gate waits (and only its time limit
 * turns it into Blocked); nothing is changed before every gate is open, and nothing to update
 * ends in Skipped without a backup.
 */
import type { PendingPackage, RunnerResult } from "../../../src/api/guest-update.js";
import { startContainerCommand } from "../commands.js";
import { guestFacts, type GuestContext, type Needs, type Observation } from "../observation.js";
import { runnerLabel } from "../runner-steps.js";
import { act, goto, run, wait, type Transition } from "../transition.js";
import { customCommandsRefused, halted, phaseExpired } from "./gates.js";

const GIB = 1024 ** 3;

export function decidePending(ctx: GuestContext): Transition {
  return goto("Preflight", "checking the preflight gates", {
    patch: { startedAt: new Date(ctx.now).toISOString(), node: ctx.node },
  });
}

export function preflightNeeds(ctx: GuestContext, first?: Observation): Needs {
  if (!first) return { guest: true, load: ctx.gu.spec.policy.preflight.maxLoad !== undefined };
  const g = guestFacts(first);
  if (!g?.running || g.lock) return {};
  return {
    disk: true,
    listing: true,
    ...(ctx.gu.spec.policy.preflight.checks.length > 0 ? { probes: "preflight" as const } : {}),
  };
}

function hookNames(p: GuestContext["gu"]["spec"]["policy"]): string[] {
  const h = p.hooks;
  return [...h.preUpdate, ...h.postUpdate, ...h.onFailure, ...h.onRollback].map((x) => x.name);
}

/** A closed gate: wait, or Blocked once the preflight time limit is over. */
function closed(ctx: GuestContext, reason: string, message: string): Transition {
  if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.preflight))
    return goto(
      "Blocked",
      `${message}; gave up after timeouts.preflight (${ctx.gu.spec.policy.timeouts.preflight})`,
      {
        reason,
        notes: [{ step: "preflight", outcome: "blocked", message }],
      },
    );
  return wait(reason, message);
}

export function decidePreflight(ctx: GuestContext, obs: Observation): Transition {
  const p = ctx.gu.spec.policy;
  const vmid = ctx.gu.spec.vmid;
  const refused = customCommandsRefused(p);
  if (refused)
    return goto("Blocked", refused, {
      reason: "CustomCommandRefused",
      notes: [{ step: "preflight", outcome: "blocked", message: refused }],
    });
  const hooks = hookNames(p);
  if (hooks.length > 0)
    return goto(
      "Blocked",
      `hooks (${hooks.join(", ")}) are not run by this version of the guest update flow, and an update without them could break what they guard; remove them from the policy to update`,
      { reason: "HooksUnsupported" },
    );
  const missing = p.runners.find((r) => !ctx.runners(r.type));
  if (missing)
    return goto(
      "Blocked",
      `runner type ${missing.type} is not available in this build; remove runner ${runnerLabel(missing)} from the policy`,
      { reason: "RunnerUnavailable" },
    );
  if (!obs.guest?.ok)
    return closed(
      ctx,
      obs.guest?.reason ?? "GuestUnreadable",
      `cannot read CT ${vmid} on ${ctx.node}: ${obs.guest?.message ?? "not read"}`,
    );
  const g = obs.guest.value;
  if (g.lock)
    return closed(ctx, "GuestLocked", `CT ${vmid} is locked (${g.lock}); waiting for the ${g.lock} to end`);
  if (!g.running) {
    if (p.preflight.requireRunning)
      return goto(
        "Blocked",
        `CT ${vmid} is stopped and preflight.requireRunning is true; start it or set requireRunning: false`,
        { reason: "ContainerStopped" },
      );
    return (
      halted(ctx, "start") ??
      act([run(startContainerCommand(ctx.gu, ctx.node), `start ${vmid}`)], {
        reason: "Starting",
        message: `starting CT ${vmid} for the update (requireRunning: false); it is shut down again afterwards`,
        // Recorded before the start: whatever happens next, the end of the update stops it again.
        patch: { startedForUpdate: true },
      })
    );
  }
  return gatesOpen(ctx, obs) ?? listed(ctx, obs);
}

function gatesOpen(ctx: GuestContext, obs: Observation): Transition | undefined {
  const p = ctx.gu.spec.policy.preflight;
  if (p.maxLoad !== undefined) {
    if (!obs.load?.ok)
      return closed(
        ctx,
        "GateClosed",
        `cannot read the load of ${ctx.node}: ${obs.load?.message ?? "not read"}`,
      );
    if (obs.load.value.perCore > p.maxLoad)
      return closed(
        ctx,
        "NodeBusy",
        `${ctx.node} has load ${obs.load.value.perCore.toFixed(2)} per core, above preflight.maxLoad ${p.maxLoad}; waiting`,
      );
  }
  if (!obs.disk?.ok)
    return closed(
      ctx,
      "GateClosed",
      `cannot read the free space of CT ${ctx.gu.spec.vmid}: ${obs.disk?.message ?? "not read"}`,
    );
  const d = obs.disk.value;
  const freePct = d.sizeBytes > 0 ? (100 * d.availableBytes) / d.sizeBytes : 0;
  const want = p.minFreeDisk;
  if (
    (want.gib !== undefined && d.availableBytes / GIB < want.gib) ||
    (want.percent !== undefined && freePct < want.percent)
  )
    return closed(
      ctx,
      "DiskFull",
      `CT ${ctx.gu.spec.vmid} has ${(d.availableBytes / GIB).toFixed(1)} GiB (${freePct.toFixed(0)}%) free on /, below preflight.minFreeDisk (${want.gib !== undefined ? `${want.gib} GiB` : `${want.percent}%`}); free space or lower the limit`,
    );
  const sick = (obs.probes ?? []).filter((r) => !r.healthy);
  if (sick.length > 0)
    return closed(
      ctx,
      "PreflightCheckFailed",
      `preflight check ${sick.map((s) => `${s.name} (${s.message ?? "unhealthy"})`).join(", ")} failed`,
    );
  return undefined;
}

/** The runners' listings: a listing that fails means a repository is out of reach, which waits. */
function listed(ctx: GuestContext, obs: Observation): Transition {
  const results: RunnerResult[] = [];
  for (const [i, r] of ctx.gu.spec.policy.runners.entries()) {
    const l = obs.listing?.[i];
    if (!l?.ok)
      return closed(
        ctx,
        l?.reason ?? "RepositoryUnreachable",
        `runner ${runnerLabel(r)} cannot list its updates inside CT ${ctx.gu.spec.vmid}: ${l?.message ?? "not read"}; check the network and repositories from inside the container`,
      );
    const pending: PendingPackage[] = l.value.applies ? l.value.pending : [];
    results.push({
      name: runnerLabel(r),
      type: r.type,
      pending,
      applied: false,
      ...(l.value.applies && pending.length > 0 ? {} : { result: "Skipped" as const }),
    });
  }
  const todo = results.filter((r) => r.result === undefined);
  if (todo.length === 0)
    return goto("Skipped", `nothing to update in CT ${ctx.gu.spec.vmid}; no backup taken`, {
      patch: { runners: results, finishedAt: new Date(ctx.now).toISOString() },
      notes: [{ step: "preflight", outcome: "skipped", message: "nothing to update" }],
    });
  const summary = todo.map((r) => `${r.name}: ${r.pending.length}`).join(", ");
  return goto("BackingUp", `pending updates (${summary}); taking the backup`, {
    patch: { runners: results },
    notes: [
      {
        step: "preflight",
        outcome: "done",
        message: `pending ${summary}`,
        extra: { pending: todo.map((r) => ({ runner: r.name, pending: r.pending })) },
      },
    ],
  });
}
