/** Gates every phase that starts new work consults: halts, custom-command safety, phase time limits. */
import type { EffectiveGuestPolicy } from "../../../src/api/guest-policy.js";
import { parseDuration } from "../../../src/api/primitives.js";
import { customRefusal, type CustomCommand } from "../../../src/runners/index.js";
import type { GuestContext } from "../observation.js";
import { wait, type Transition } from "../transition.js";

/** A halt (kill switch, suspend) holds every new step; a job already running goes on. */
export function halted(ctx: GuestContext, step: string): Transition | undefined {
  if (!ctx.halt) return undefined;
  return wait(ctx.halt.reason, `${ctx.halt.message}; ${step} not started`);
}

/** Why the policy's custom commands (custom runner steps, hooks) may not run, or undefined when they may. */
export function customCommandsRefused(policy: EffectiveGuestPolicy): string | undefined {
  const h = policy.hooks;
  const commands: CustomCommand[] = [
    ...policy.runners.flatMap((r) => (r.type === "custom" ? r.steps : [])),
    ...[...h.preUpdate, ...h.postUpdate, ...h.onFailure, ...h.onRollback],
  ];
  for (const c of commands) {
    const why = customRefusal(c, policy.customCommands);
    if (why) return why;
  }
  return undefined;
}

/** Milliseconds the current phase has lasted. */
export function inPhaseMs(ctx: GuestContext): number {
  const since = Date.parse(ctx.status.phaseSince ?? "");
  return Number.isFinite(since) ? ctx.now - since : 0;
}

/** Whether the whole update (rollback included) has gone beyond timeouts.overall. */
export function overallExpired(ctx: GuestContext): boolean {
  const started = Date.parse(ctx.status.startedAt ?? "");
  return Number.isFinite(started) && ctx.now - started > parseDuration(ctx.gu.spec.policy.timeouts.overall);
}

export function phaseExpired(ctx: GuestContext, limit: string): boolean {
  return inPhaseMs(ctx) > parseDuration(limit);
}
