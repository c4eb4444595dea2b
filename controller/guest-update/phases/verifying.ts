/**
 * Verifying (after the update) and VerifyingRollback (after a restore): the health checks after
 * their warm-up; the probe itself retries with backoff. A check that already failed in the
 * baseline (and compares with it) is pre-existing and does not fail the update.
 */
import type { HealthResult } from "../../../src/api/guest-update.js";
import { parseDuration } from "../../../src/api/primitives.js";
import { compareWithBaseline } from "../../../src/health/index.js";
import type { GuestContext, Needs, Observation } from "../observation.js";
import { fail, goto, notify, poll, wait, type Transition } from "../transition.js";
import { failure } from "./failure.js";
import { inPhaseMs, phaseExpired } from "./gates.js";
import { decidePruning, pruneNeeds, pruning, startPruning } from "./pruning.js";

function warmUpLeftMs(ctx: GuestContext): number {
  const warm = Math.max(0, ...ctx.gu.spec.policy.healthChecks.map((c) => parseDuration(c.warmUp)));
  return Math.max(0, warm - inPhaseMs(ctx));
}

export function verifyingNeeds(ctx: GuestContext): Needs {
  if (ctx.status.phase === "Verifying" && pruning(ctx)) return pruneNeeds(ctx);
  if (ctx.gu.spec.policy.healthChecks.length === 0 || warmUpLeftMs(ctx) > 0) return {};
  return { probes: "health" };
}

/** The checks that fail the update: unhealthy now, and not already failing in the baseline. */
export function newlyFailing(ctx: GuestContext, results: readonly HealthResult[]): HealthResult[] {
  const verdict = compareWithBaseline(ctx.status.healthBaseline, results, ctx.gu.spec.policy.healthChecks);
  return results.filter((r) => verdict.failed.includes(r.name));
}

function describe(results: readonly HealthResult[]): string {
  return results.map((r) => `${r.name} (${r.message ?? "unhealthy"})`).join(", ");
}

export function decideVerifying(ctx: GuestContext, obs: Observation): Transition {
  const vmid = ctx.gu.spec.vmid;
  const checks = ctx.gu.spec.policy.healthChecks;
  if (pruning(ctx)) return decidePruning(ctx, obs, succeeded(ctx, ctx.status.healthResults));
  if (checks.length > 0) {
    if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.verify))
      return failure(
        ctx,
        "Timeout",
        `health of CT ${vmid} not verified within timeouts.verify (${ctx.gu.spec.policy.timeouts.verify})`,
      );
    const left = warmUpLeftMs(ctx);
    if (left > 0)
      return wait("WarmingUp", `waiting ${Math.ceil(left / 1000)}s of warm-up before the health checks`, {
        requeue: { ms: left },
      });
    if (!obs.probes) return poll("Verifying", "running the health checks");
    const failing = newlyFailing(ctx, obs.probes);
    if (failing.length > 0)
      return failure(
        ctx,
        "HealthCheckFailed",
        `health check ${describe(failing)} failed after the update of CT ${vmid}`,
        { healthResults: obs.probes },
      );
  }
  const healthResults = obs.probes ?? [];
  if (ctx.status.snapshot?.mode === "snapshot") return startPruning(ctx, { healthResults });
  return succeeded(ctx, healthResults);
}

function succeeded(ctx: GuestContext, healthResults: HealthResult[]): Transition {
  const updated = (ctx.status.runners ?? []).filter((r) => r.result === "Succeeded").map((r) => r.name);
  const message = `CT ${ctx.gu.spec.vmid} updated (${updated.join(", ") || "no runner"}) and healthy`;
  return goto("Succeeded", message, {
    reason: "Updated",
    patch: {
      healthResults,
      currentStep: undefined,
      finishedAt: new Date(ctx.now).toISOString(),
      lastError: undefined,
    },
    notes: [{ step: "verify", outcome: "done", message }],
  });
}

export function decideVerifyingRollback(ctx: GuestContext, obs: Observation): Transition {
  const vmid = ctx.gu.spec.vmid;
  const snap = ctx.status.snapshot?.name ?? "the backup";
  const rollback = ctx.status.rollback ?? { done: true, attempts: 1 };
  const checks = ctx.gu.spec.policy.healthChecks;
  if (checks.length > 0 && ctx.gu.spec.policy.rollback.verify) {
    if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.rollback))
      return fail(
        "Timeout",
        `CT ${vmid} not verified healthy within timeouts.rollback after restoring ${snap}; look at it by hand`,
      );
    const left = warmUpLeftMs(ctx);
    if (left > 0)
      return wait("WarmingUp", `waiting ${Math.ceil(left / 1000)}s of warm-up after the rollback`, {
        requeue: { ms: left },
      });
    if (!obs.probes) return poll("VerifyingRollback", "running the health checks after the rollback");
    const failing = newlyFailing(ctx, obs.probes);
    if (failing.length > 0) {
      const message = `CT ${vmid} was restored to ${snap} but health check ${describe(failing)} still fails; look at the container by hand (the snapshot is kept)`;
      return fail("RollbackUnhealthy", message, {
        patch: { healthResults: obs.probes, rollback: { ...rollback, result: "Failed" } },
        notices: [
          notify({
            event: "TargetFailed",
            severity: "critical",
            summary: message,
            details: { vmid, backup: snap },
          }),
        ],
      });
    }
  }
  const why =
    rollback.reason === "OperatorRequested"
      ? "an operator's request (refit rollback)"
      : (ctx.status.lastError?.message ?? "the update failed");
  const message = `CT ${vmid} rolled back to ${snap} after: ${why}; it runs the old versions and is healthy. Next: fix the cause, then run the plan again`;
  return goto("RolledBack", message, {
    reason: "RolledBack",
    patch: {
      healthResults: obs.probes ?? [],
      rollback: { ...rollback, result: "Succeeded" },
      finishedAt: new Date(ctx.now).toISOString(),
    },
    notes: [{ step: "rollback", outcome: "done", message }],
    notices: [
      notify({
        event: "RolledBack",
        severity: "error",
        summary: message,
        details: { vmid, restored: snap, reason: rollback.reason },
      }),
    ],
  });
}
