/**
 * The GuestUpdatePlan decisions: one pure function per phase of (plan, observation) to a transition.
 * No I/O, no clock: the time is in the observation. The applier (apply.ts) carries it out.
 *
 * | phase                                   | decision                                                        |
 * |-----------------------------------------|-----------------------------------------------------------------|
 * | any                                     | cluster missing: Blocked                                        |
 * | Progressing (a cycle is recorded)       | decideCycle: children, failures, the end, halt, cut-off, starts |
 * | Stalled                                 | waits for a person (requested-at, spec edit), then the gates    |
 * | Succeeded                               | Converged until due again (a partial cycle is due at once)      |
 * | Idle, Waiting, OutsideWindow, Suspended | decideGates: halt, windows, after, selection, mutex, start      |
 *
 * A partial run (`refit run --plan P --vmid …`) is a one-off request: it skips `after` (the operator
 * asked for these containers now) but honours the kill switch, suspend, windows, blackouts and mutex.
 */
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { parseDuration } from "../../src/api/primitives.js";
import { ANNOTATION_REQUESTED_AT } from "../../src/api/version.js";
import {
  busyElsewhere,
  failedMessage,
  inCycle,
  progressMessage,
  summaryOf,
  tally,
  type Tally,
} from "./cycle.js";
import { limitsOf, nextStarts, notBefore } from "./starts.js";
import { cycleId } from "./targets.js";
import type {
  CycleTarget,
  DecideTiming,
  Observation,
  PlanPhase,
  PlanStatus,
  StatusChange,
  Transition,
  Verdict,
} from "./types.js";

type Decision = (plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming) => Transition;
type CycleStatus = PlanStatus & { currentCycle: string };

const iso = (ms: number): string => new Date(ms).toISOString();
/** Never spin: the shortest wait between two looks. */
const MIN_WAIT_MS = 250;

export function decide(plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming): Transition {
  if (!obs.cluster) {
    const message = `ProxmoxCluster/${plan.spec.clusterRef.name} does not exist; no container is touched`;
    return wait({ outcome: "Blocked", reason: "ClusterNotFound", message }, timing.idleMs);
  }
  if (obs.partial) return decidePartial(plan, obs, timing);
  const phase: PlanPhase = plan.status?.phase ?? "Idle";
  return PHASES[phase](plan, obs, timing);
}

const PHASES: Record<PlanPhase, Decision> = {
  Progressing: (plan, obs, timing) =>
    inCycle(plan.status) ? decideCycle(plan, obs, timing) : decideGates(plan, obs, timing),
  Stalled: decideStalled,
  Succeeded: decideSucceeded,
  Idle: decideGates,
  Waiting: decideGates,
  OutsideWindow: decideGates,
  Suspended: decideGates,
};

function wait(verdict: Verdict, requeueAfter: number, status?: StatusChange): Transition {
  return { kind: "wait", verdict, requeueAfter, ...(status ? { status } : {}) };
}

function goTo(phase: PlanPhase, verdict: Verdict, requeueAfter: number, status?: StatusChange): Transition {
  return { kind: "goTo", phase, verdict, requeueAfter, ...(status ? { status } : {}) };
}

function manualRequest(plan: GuestUpdatePlan): string | undefined {
  const requested = plan.metadata.annotations?.[ANNOTATION_REQUESTED_AT];
  return requested !== undefined && requested !== plan.status?.lastHandledRequestAt ? requested : undefined;
}

export function generationOf(plan: GuestUpdatePlan): number {
  return plan.metadata.generation ?? 1;
}

function haltVerdict(obs: Observation): Verdict | undefined {
  if (!obs.halt.halted) return undefined;
  const outcome = obs.halt.reason === "KillSwitch" ? "Halted" : "Suspended";
  return { outcome, reason: obs.halt.reason, message: obs.halt.message };
}

/** A partial run: start its one cycle, follow it, then stay put (the process exits). */
function decidePartial(plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming): Transition {
  const s: Partial<PlanStatus> = plan.status ?? {};
  const request = obs.partial?.requestedAt;
  if (inCycle(s)) {
    if (s.cycleVmids === undefined) {
      const message = `a full cycle ${s.currentCycle} is in progress; let it finish (refit run) before a partial run`;
      return wait({ outcome: "Blocked", reason: "CycleInProgress", message }, timing.waitMs);
    }
    return decideCycle(plan, obs, timing);
  }
  if (request !== undefined && s.lastHandledRequestAt === request) {
    const stalled = s.phase === "Stalled";
    const message = `partial cycle ${s.lastCycle?.id ?? ""}: ${summaryOf(s.counts ?? {})}`;
    const verdict: Verdict = stalled
      ? { outcome: "Stalled", reason: "TargetFailed", message }
      : { outcome: "Converged", reason: "CycleSucceeded", message };
    return wait(verdict, timing.idleMs);
  }
  return decideGates(plan, obs, timing);
}

/** A cycle in progress: children first, then failures, the end, a halt, a cut-off, then starts. */
export function decideCycle(plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming): Transition {
  const s = plan.status as CycleStatus;
  const cycle = s.currentCycle;
  const targets = s.cycleTargets ?? [];
  const missing = targets
    .filter((x) => x.startedAt !== undefined)
    .filter((x) => !obs.children.some((c) => c.cycle === cycle && c.vmid === x.vmid))
    .map((x) => x.vmid);
  const t = tally(cycle, targets, obs.children, s.conflicts?.length ?? 0);
  const status: StatusChange = { counts: t.counts };
  if (missing.length > 0) {
    const message = `cycle ${cycle}: making the GuestUpdate of ${missing.join(", ")}`;
    const verdict: Verdict = { outcome: "Progressing", reason: "Progressing", message };
    const action = { kind: "ensureChildren", cycle, vmids: missing } as const;
    return { kind: "act", action, verdict, requeueAfter: timing.waitMs, status };
  }
  const maxFailures = plan.spec.concurrency.maxFailures;
  const alreadyStalled = s.conditions?.some((c) => c.type === "Stalled" && c.status === "True") ?? false;
  if (t.failures.length > maxFailures) {
    if (t.active.length === 0) return finish(plan, s, obs, timing, t, !alreadyStalled);
    const verdict: Verdict = {
      outcome: "Failing",
      reason: "TargetFailed",
      message: failedMessage(t.failures, maxFailures),
    };
    if (alreadyStalled) return wait(verdict, timing.waitMs, status);
    const action = { kind: "notifyStalled", vmids: t.failures.map((f) => f.target.vmid) } as const;
    return { kind: "act", action, verdict, requeueAfter: timing.waitMs, status };
  }
  if (t.pending.length === 0 && t.active.length === 0) return finish(plan, s, obs, timing, t, false);
  const halted = haltVerdict(obs);
  if (halted) return wait(halted, timing.waitMs, status);
  const cut = cutOff(plan, s, obs);
  if (cut) {
    if (t.active.length === 0) return finish(plan, s, obs, timing, t, false);
    const message = `${cut.message}; ${t.active.length} update(s) in flight finish, ${t.pending.length} wait for the next cycle`;
    return wait({ outcome: "Progressing", reason: cut.reason, message }, timing.waitMs, status);
  }
  return startOrWait(plan, s, obs, timing, t, status);
}

/** No new start after the window closed (or a blackout opened) or once maxRunTime has passed. */
function cutOff(
  plan: GuestUpdatePlan,
  s: CycleStatus,
  obs: Observation,
): { reason: string; message: string } | undefined {
  if (obs.gate && !obs.gate.allowed) return { reason: obs.gate.reason, message: obs.gate.message };
  const max = plan.spec.concurrency.maxRunTime;
  const started = s.lastCycle?.startedAt ? Date.parse(s.lastCycle.startedAt) : undefined;
  if (max !== undefined && started !== undefined && obs.now - started >= parseDuration(max)) {
    return {
      reason: "RunTimeExceeded",
      message: `cycle ${s.currentCycle} has run for maxRunTime ${max}; no further container starts`,
    };
  }
  return undefined;
}

function startOrWait(
  plan: GuestUpdatePlan,
  s: CycleStatus,
  obs: Observation,
  timing: DecideTiming,
  t: Tally,
  status: StatusChange,
): Transition {
  const next = nextStarts(t, limitsOf(plan), obs.now, busyElsewhere(obs.children, s.currentCycle));
  if (next.start.length > 0) {
    const started = new Set(next.start);
    const cycleTargets = (s.cycleTargets ?? []).map((x) =>
      started.has(x.vmid) ? { ...x, startedAt: iso(obs.now) } : x,
    );
    const counts = tally(s.currentCycle, cycleTargets, obs.children, s.conflicts?.length ?? 0).counts;
    const message = `cycle ${s.currentCycle}: starting ${next.start.join(", ")}; ${summaryOf(counts)}`;
    return {
      kind: "act",
      action: { kind: "startTargets", cycle: s.currentCycle, vmids: next.start },
      verdict: { outcome: "Progressing", reason: "Progressing", message },
      requeueAfter: timing.waitMs,
      status: { cycleTargets, counts },
    };
  }
  const requeue =
    next.wakeAt !== undefined
      ? Math.max(MIN_WAIT_MS, Math.min(timing.waitMs, next.wakeAt - obs.now))
      : timing.waitMs;
  const message = `${progressMessage(t)}${next.held ? ` (${next.held})` : ""}`;
  return wait({ outcome: "Progressing", reason: "Progressing", message }, requeue, status);
}

/** The cycle has ended: Stalled when failures went over maxFailures, else Succeeded. */
function finish(
  plan: GuestUpdatePlan,
  s: CycleStatus,
  obs: Observation,
  timing: DecideTiming,
  t: Tally,
  notifyStalled: boolean,
): Transition {
  const stalled = t.failures.length > plan.spec.concurrency.maxFailures;
  const counts = { ...t.counts, pending: 0, notStarted: t.pending.length };
  const lastCycle = {
    id: s.currentCycle,
    startedAt: s.lastCycle?.startedAt ?? iso(obs.now),
    finishedAt: iso(obs.now),
    ...(s.cycleVmids !== undefined ? { partial: true } : {}),
  };
  const failed = t.failures.map((f) => f.target.vmid);
  const verdict: Verdict = stalled
    ? {
        outcome: "Stalled",
        reason: "TargetFailed",
        message: failedMessage(t.failures, plan.spec.concurrency.maxFailures),
      }
    : {
        outcome: "Converged",
        reason: t.failures.length > 0 ? "CycleDegraded" : "CycleSucceeded",
        message: `cycle ${s.currentCycle}: ${summaryOf(counts)}`,
      };
  const result = stalled ? "Stalled" : "Succeeded";
  return {
    kind: "act",
    phase: result,
    action: { kind: "finishCycle", cycle: s.currentCycle, result, notifyStalled, failed },
    verdict,
    requeueAfter: stalled ? timing.idleMs : (obs.cluster?.observeIntervalMs ?? timing.idleMs),
    status: { counts, lastCycle, currentCycle: undefined },
  };
}

/** The last cycle stalled: nothing happens until a person acts (requested-at, or an edited spec). */
export function decideStalled(plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming): Transition {
  const s: Partial<PlanStatus> = plan.status ?? {};
  const personActed = manualRequest(plan) !== undefined || s.observedGeneration !== generationOf(plan);
  if (personActed) return decideGates(plan, obs, timing);
  const halted = haltVerdict(obs);
  if (halted) return wait(halted, timing.waitMs);
  const message =
    plan.status?.conditions?.find((c) => c.type === "Ready")?.message ??
    `cycle ${s.lastCycle?.id ?? ""} stalled; nothing happens until a person acts`;
  return wait({ outcome: "Stalled", reason: "TargetFailed", message }, timing.idleMs);
}

/** The last cycle succeeded: converged until the cluster's observeInterval has passed. */
export function decideSucceeded(plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming): Transition {
  const s: Partial<PlanStatus> = plan.status ?? {};
  const finished = s.lastCycle?.finishedAt ? Date.parse(s.lastCycle.finishedAt) : undefined;
  const interval = obs.cluster?.observeIntervalMs ?? 0;
  // A partial cycle updated a few containers on request; the full cycle is still owed.
  const due = finished === undefined || s.lastCycle?.partial === true || obs.now - finished >= interval;
  if (due || manualRequest(plan) !== undefined || obs.halt.halted) return decideGates(plan, obs, timing);
  const message = `cycle ${s.lastCycle?.id ?? ""}: ${summaryOf(s.counts ?? {})}`;
  const reason = s.counts && s.counts.failed + s.counts.rolledBack > 0 ? "CycleDegraded" : "CycleSucceeded";
  return wait({ outcome: "Converged", reason, message }, interval - (obs.now - finished));
}

/**
 * Between cycles: may a new one start? The halt, the windows and blackouts, `after`, the selection
 * (read from the cluster only now), the mutex (asked last: asking takes a place in its line).
 */
export function decideGates(plan: GuestUpdatePlan, obs: Observation, timing: DecideTiming): Transition {
  const halted = haltVerdict(obs);
  if (halted) return goTo("Suspended", halted, timing.waitMs);
  const gate = obs.gate;
  if (gate && !gate.allowed) {
    const windowReason = gate.reason === "OutsideWindow" || gate.reason === "WindowClosing";
    const verdict: Verdict = { outcome: "OutsideWindow", reason: gate.reason, message: gate.message };
    const requeue = Math.max(1000, Math.min(gate.retryAt - obs.now, timing.idleMs));
    return windowReason
      ? goTo("OutsideWindow", verdict, requeue, { nextWindow: { opensAt: iso(gate.retryAt) } })
      : goTo("Waiting", verdict, requeue);
  }
  const after = obs.after;
  if (!obs.partial && after && !after.allowed) {
    const outcome = after.reason === "WaitingForPlan" ? "Waiting" : "Blocked";
    const waitingSince = plan.status?.waitingSince ?? iso(obs.now);
    return goTo("Waiting", { outcome, reason: after.reason, message: after.message }, timing.waitMs, {
      waitingSince,
    });
  }
  if (!obs.selection) return { kind: "ask", what: "selection" };
  if (!obs.selection.ok) {
    const verdict: Verdict = {
      outcome: "Blocked",
      reason: "InventoryUnavailable",
      message: obs.selection.message,
    };
    return goTo("Waiting", verdict, timing.waitMs);
  }
  if (plan.spec.mutex) {
    if (!obs.mutex) return { kind: "ask", what: "mutex" };
    if (!obs.mutex.acquired) {
      const message = `mutex ${plan.spec.mutex} is held by ${obs.mutex.holder ?? "an earlier waiter"}`;
      return goTo("Waiting", { outcome: "Waiting", reason: "MutexHeld", message }, timing.waitMs);
    }
  }
  return startCycle(plan, obs);
}

function startCycle(plan: GuestUpdatePlan, obs: Observation): Transition {
  const cycle = cycleId(obs.now);
  // Cycle ids (and so GuestUpdate names) are per second: a second cycle within the same second waits.
  if (plan.status?.lastCycle?.id === cycle) {
    const message = `cycle ${cycle} already ran this second; the next one starts in a moment`;
    return wait({ outcome: "Progressing", reason: "CycleStarting", message }, 1_000);
  }
  const selection = obs.selection?.ok
    ? obs.selection.selection
    : { targets: [], conflicts: [], excluded: [] };
  const only = obs.partial?.vmids ? new Set(obs.partial.vmids) : undefined;
  const request = obs.partial?.requestedAt ?? manualRequest(plan);
  // A container left Failed for an operator (rollback Manual) is not updated over its broken state;
  // a request (requested-at, or a partial run naming it) says the operator is done with it.
  const waiting = new Set(obs.children.filter((c) => c.awaitsOperator).map((c) => c.vmid));
  const held =
    request === undefined ? selection.targets.filter((x) => waiting.has(x.vmid)).map((x) => x.vmid) : [];
  const targets: CycleTarget[] = selection.targets
    .filter((x) => !only || only.has(x.vmid))
    .filter((x) => !held.includes(x.vmid))
    .map((x) => ({ ...x, notBefore: iso(notBefore(plan, x.vmid, cycle, obs.now)) }));
  const conflicts = selection.conflicts.filter((c) => !only || only.has(c.vmid));
  const counts = tally(cycle, targets, [], conflicts.length).counts;
  const what = targets.length > 0 ? targets.map((x) => x.vmid).join(", ") : "no container";
  return {
    kind: "act",
    phase: "Progressing",
    action: { kind: "startCycle", cycle, targets, ...(request !== undefined ? { request } : {}) },
    verdict: {
      outcome: "Progressing",
      reason: "CycleStarted",
      message:
        `${obs.partial ? "partial " : ""}cycle ${cycle} over ${what}` +
        (held.length > 0
          ? `; ${held.join(", ")} left Failed for an operator (rollback Manual): refit rollback, or set refit.dev/requested-at to update again`
          : ""),
    },
    requeueAfter: MIN_WAIT_MS,
    status: {
      currentCycle: cycle,
      cycleTargets: targets,
      // A partial cycle records what it was asked for (every target when no vmid was named).
      cycleVmids: obs.partial
        ? (obs.partial.vmids ?? targets.map((x) => x.vmid)).sort((a, b) => a - b)
        : undefined,
      conflicts: conflicts.length > 0 ? conflicts : undefined,
      counts,
      lastCycle: { id: cycle, startedAt: iso(obs.now), ...(obs.partial ? { partial: true } : {}) },
      waitingSince: undefined,
      nextWindow: undefined,
      ...(request !== undefined ? { lastHandledRequestAt: request } : {}),
    },
  };
}
