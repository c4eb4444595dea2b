/** Baseline: the health checks before the update; a check failing here is pre-existing. */
import type { GuestContext, Needs, Observation } from "../observation.js";
import { goto, poll, type Transition } from "../transition.js";

export function baselineNeeds(ctx: GuestContext): Needs {
  return ctx.gu.spec.policy.healthChecks.length > 0 ? { probes: "baseline" } : {};
}

export function decideBaseline(ctx: GuestContext, obs: Observation): Transition {
  if (ctx.gu.spec.policy.healthChecks.length === 0)
    return goto("Updating", "no health checks; updating", { patch: { healthBaseline: [] } });
  if (!obs.probes) return poll("Baseline", "taking the health baseline");
  const sick = obs.probes.filter((p) => !p.healthy).map((p) => p.name);
  const message =
    sick.length === 0
      ? "baseline healthy; updating"
      : `baseline: ${sick.join(", ")} already failing before the update (pre-existing, will not trigger a rollback); updating`;
  return goto("Updating", message, {
    patch: { healthBaseline: obs.probes },
    notes: [{ step: "baseline", outcome: "done", message, extra: { failing: sick } }],
  });
}
