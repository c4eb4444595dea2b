/**
 * Which waiting containers start now: maxParallel, maxParallelPerNode, the seeded jitter (each
 * container's notBefore) and the rate limit (starts per sliding interval). Pure; the time is given.
 */
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { parseDuration } from "../../src/api/primitives.js";
import { jitterMs } from "../../src/schedule/index.js";
import type { Tally } from "./cycle.js";

export interface StartLimits {
  maxParallel: number;
  maxParallelPerNode: number;
  rate?: { starts: number; intervalMs: number };
}

export function limitsOf(plan: GuestUpdatePlan): StartLimits {
  const c = plan.spec.concurrency;
  return {
    maxParallel: c.maxParallel,
    maxParallelPerNode: c.maxParallelPerNode ?? c.maxParallel,
    ...(c.rateLimit
      ? { rate: { starts: c.rateLimit.starts, intervalMs: parseDuration(c.rateLimit.interval) } }
      : {}),
  };
}

/** A container's earliest start in a cycle: the cycle start plus a delay seeded by plan, vmid and cycle. */
export function notBefore(plan: GuestUpdatePlan, vmid: number, cycle: string, cycleStartMs: number): number {
  const max = parseDuration(plan.spec.concurrency.jitter);
  return cycleStartMs + jitterMs(`GuestUpdatePlan/${plan.metadata.name}/${vmid}`, cycle, max);
}

export interface StartPlan {
  /** Containers to start now, in vmid order. */
  start: number[];
  /** When to look again for the next start (a notBefore or the rate window sliding), if any. */
  wakeAt?: number;
  /** Why nothing (more) starts now, for the message. */
  held?: string;
}

function ms(iso: string): number {
  return Date.parse(iso);
}

/**
 * `busy`: containers whose GuestUpdate of another cycle has not ended. They never start: one
 * container is never updated by two GuestUpdates at once.
 */
export function nextStarts(
  t: Tally,
  limits: StartLimits,
  nowMs: number,
  busy: ReadonlySet<number> = new Set(),
): StartPlan {
  const perNode = new Map<string, number>();
  for (const v of t.active) {
    const node = v.child?.node ?? v.target.node;
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  let running = t.active.length;
  const recent = limits.rate
    ? t.targets
        .map((v) => v.target.startedAt)
        .filter((s): s is string => s !== undefined && ms(s) > nowMs - (limits.rate?.intervalMs ?? 0))
        .map(ms)
        .sort((a, b) => a - b)
    : [];
  let rateLeft = limits.rate ? limits.rate.starts - recent.length : Infinity;
  const start: number[] = [];
  const wakes: number[] = [];
  let held: string | undefined;
  for (const v of t.pending) {
    if (busy.has(v.target.vmid)) {
      held ??= `${v.target.vmid} waits for its GuestUpdate of an earlier cycle to end`;
      continue;
    }
    const due = ms(v.target.notBefore);
    if (due > nowMs) {
      wakes.push(due);
      held ??= `start jitter: next at ${v.target.notBefore}`;
      continue;
    }
    if (running >= limits.maxParallel) {
      held = `maxParallel ${limits.maxParallel} reached`;
      break;
    }
    if (rateLeft <= 0) {
      // The oldest start in the window is the first to slide out of it.
      const oldest = recent[0] ?? nowMs;
      wakes.push(oldest + (limits.rate?.intervalMs ?? 0));
      held = `rate limit ${limits.rate?.starts ?? 0} per ${(limits.rate?.intervalMs ?? 0) / 1000}s reached`;
      break;
    }
    const node = v.target.node;
    if ((perNode.get(node) ?? 0) >= limits.maxParallelPerNode) {
      held ??= `maxParallelPerNode ${limits.maxParallelPerNode} reached on ${node}`;
      continue;
    }
    start.push(v.target.vmid);
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
    running++;
    rateLeft--;
  }
  const wakeAt = wakes.length > 0 ? Math.min(...wakes) : undefined;
  return { start, ...(wakeAt !== undefined ? { wakeAt } : {}), ...(held ? { held } : {}) };
}
