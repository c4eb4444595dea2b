/** Gates every phase that starts new work consults: halts, custom-command safety, phase time limits. */
import type { EffectiveGuestPolicy } from "../../../src/api/guest-policy.js";
import { parseDuration } from "../../../src/api/primitives.js";
import type { GuestContext } from "../observation.js";
import { wait, type Transition } from "../transition.js";

/** A halt (kill switch, suspend) holds every new step; a job already running goes on. */
export function halted(ctx: GuestContext, step: string): Transition | undefined {
  if (!ctx.halt) return undefined;
  return wait(ctx.halt.reason, `${ctx.halt.message}; ${step} not started`);
}

/** argv[0] of every custom step and hook, which the plan's customCommands must allow. */
function customBinaries(policy: EffectiveGuestPolicy): { where: string; binary: string }[] {
  const out: { where: string; binary: string }[] = [];
  for (const r of policy.runners)
    if (r.type === "custom")
      for (const s of r.steps) {
        out.push({ where: `runner ${r.name ?? r.type} step ${s.name}`, binary: s.apply[0] ?? "" });
        if (s.checkPending)
          out.push({
            where: `runner ${r.name ?? r.type} step ${s.name} checkPending`,
            binary: s.checkPending[0] ?? "",
          });
      }
  const h = policy.hooks;
  for (const [list, hooks] of Object.entries({
    preUpdate: h.preUpdate,
    postUpdate: h.postUpdate,
    onFailure: h.onFailure,
    onRollback: h.onRollback,
  }))
    for (const hook of hooks) out.push({ where: `${list} hook ${hook.name}`, binary: hook.argv[0] ?? "" });
  return out;
}

/** Why the policy's custom commands may not run, or undefined when they may (or there are none). */
export function customCommandsRefused(policy: EffectiveGuestPolicy): string | undefined {
  const used = customBinaries(policy);
  if (used.length === 0) return undefined;
  const cc = policy.customCommands;
  if (!cc.enabled)
    return `${used[0]?.where ?? "a custom command"} needs custom commands, which the plan does not enable; set customCommands.enabled: true and list the binary in customCommands.allowlist`;
  const refused = used.filter((u) => !cc.allowlist.includes(u.binary));
  if (refused.length === 0) return undefined;
  return `${refused.map((r) => `${r.where} runs ${r.binary}`).join("; ")}, not on the plan's customCommands.allowlist (${cc.allowlist.join(", ") || "empty"}); add it there or remove the step`;
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
