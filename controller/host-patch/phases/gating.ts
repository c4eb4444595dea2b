import { scheduleGate } from "../../../src/schedule/index.js";
import type { PatchContext } from "../observation.js";
import { wait, type Transition } from "../transition.js";

/** A step that changes the node or its guests may not start: halted, or outside its window. */
export function notNow(ctx: PatchContext, what: string, expectedMs: number): Transition | undefined {
  if (ctx.halt) return halted(ctx, what);
  const gate = scheduleGate({
    windows: ctx.schedule.windows,
    blackouts: ctx.schedule.blackouts,
    nowMs: ctx.now,
    expectedDurationMs: expectedMs,
    force: ctx.schedule.force,
  });
  if (gate.allowed) return undefined;
  const ms = Math.max(ctx.timing.pollMs, Math.min(gate.retryAt - ctx.now, ctx.timing.idleMs));
  return wait(gate.reason, `${what} waits: ${gate.message}`, { requeue: { ms } });
}

export function halted(ctx: PatchContext, what: string): Transition | undefined {
  if (!ctx.halt) return undefined;
  return wait(ctx.halt.reason, `${ctx.halt.message}; ${what} not started`);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A request is sent again when the world has not shown it `waitMs` after it was sent (a crash
 * between recording and sending it, a lost reply); never sooner, so a request the cluster is still
 * working through (HA's next round) is not repeated at every poll.
 */
export function resendDue(ctx: PatchContext, sentAt: string | undefined): boolean {
  return sentAt === undefined || ctx.now - Date.parse(sentAt) >= ctx.timing.waitMs;
}
