/**
 * The HostPatchPlan decisions: one pure function per phase of (plan spec and status, observation)
 * to a transition. No I/O, no clock: the time is in the observation. The applier (apply.ts)
 * carries the transition out.
 *
 * | phase                                   | decision                                                  |
 * |-----------------------------------------|-----------------------------------------------------------|
 * | any                                     | cluster missing: Blocked; profile pbs/debian: NotHandled  |
 * | Progressing (a cycle is recorded)       | decideCycle: children, a failure, the end, halt, progress |
 * | Stalled                                 | waits for a person (requested-at, spec edit), then gates  |
 * | Succeeded                               | Converged while not due again, then the gates             |
 * | Idle, Waiting, OutsideWindow, Suspended | decideGates: halt, windows, after, mutex, start a cycle   |
 */
import { ANNOTATION_REQUESTED_AT } from "../../src/api/version.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import {
  blockedMessage,
  childPlan,
  childPlanMessage,
  countsOf,
  failedMessage,
  failedReason,
  hostsOfCycle,
  inCycle,
  isEmptyPlan,
  progressMessage,
  summaryOf,
  tally,
  type Tally,
} from "./cycle.js";
import { cycleId } from "./targets.js";
import type {
  DecideTiming,
  Observation,
  PlanPhase,
  PlanStatus,
  StatusChange,
  Transition,
  Verdict,
} from "./types.js";

type Decision = (plan: HostPatchPlan, obs: Observation, timing: DecideTiming) => Transition;

const iso = (ms: number): string => new Date(ms).toISOString();

/** The next step of a plan. */
export function decide(plan: HostPatchPlan, obs: Observation, timing: DecideTiming): Transition {
  if (!obs.cluster) {
    const message = `ProxmoxCluster/${plan.spec.clusterRef?.name ?? "?"} does not exist`;
    return wait({ outcome: "Blocked", reason: "ClusterNotFound", message }, timing.idleMs);
  }
  if (plan.spec.profile !== "pve") {
    const message = `profile ${plan.spec.profile} (standalone hosts) is not yet handled by this version of Refit; nothing is done for this plan`;
    return wait({ outcome: "NotHandled", reason: "ProfileNotSupported", message }, timing.idleMs);
  }
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

function manualRequest(plan: HostPatchPlan): string | undefined {
  const requested = plan.metadata.annotations?.[ANNOTATION_REQUESTED_AT];
  return requested !== undefined && requested !== plan.status?.lastHandledRequestAt ? requested : undefined;
}

function haltVerdict(obs: Observation): Verdict | undefined {
  if (!obs.halt.halted) return undefined;
  const outcome = obs.halt.reason === "KillSwitch" ? "Halted" : "Suspended";
  return { outcome, reason: obs.halt.reason, message: obs.halt.message };
}

/** A cycle in progress: its children first, then a failure, the end, a halt, or progress. */
export function decideCycle(plan: HostPatchPlan, obs: Observation, timing: DecideTiming): Transition {
  const s = plan.status as PlanStatus & { cycle: string };
  const cycle = s.cycle;
  const hosts = hostsOfCycle(s, obs);
  const children = childPlan(plan, cycle, hosts, obs.children);
  if (!isEmptyPlan(children)) {
    const verdict: Verdict = {
      outcome: "Progressing",
      reason: "Progressing",
      message: childPlanMessage(cycle, children),
    };
    return {
      kind: "act",
      action: { kind: "ensureChildren", cycle, children },
      verdict,
      requeueAfter: timing.waitMs,
      status: { cycleHosts: hosts, targets: hosts.length },
    };
  }
  const t = tally(cycle, hosts, obs.children);
  const status: StatusChange = { cycleHosts: hosts, targets: hosts.length, ...countsOf(t) };
  // The PlanStalled notice went out with the write that first said Stalled.
  const alreadyStalled = s.conditions?.some((c) => c.type === "Stalled" && c.status === "True") ?? false;
  if (t.failed.length > 0) {
    if (t.active.length === 0) return finish(s, obs, timing, t, !alreadyStalled, status);
    const verdict: Verdict = {
      outcome: "Failing",
      reason: failedReason(t.failed),
      message: failedMessage(t.failed),
    };
    if (alreadyStalled) return wait(verdict, timing.waitMs, status);
    const action = { kind: "notifyStalled", hosts: t.failed.map((h) => h.host) } as const;
    return { kind: "act", action, verdict, requeueAfter: timing.waitMs, status };
  }
  if (t.allEnded) return finish(s, obs, timing, t, false, status);
  // Steps in flight finish to a safe point; the plan says why nothing new starts.
  const halted = haltVerdict(obs);
  if (halted) return wait(halted, timing.waitMs, status);
  const verdict: Verdict =
    t.blocked.length > 0
      ? { outcome: "Progressing", reason: "TargetBlocked", message: blockedMessage(t.blocked) }
      : { outcome: "Progressing", reason: "Progressing", message: progressMessage(t) };
  return wait(verdict, timing.waitMs, status);
}

/** The cycle has ended: Succeeded when every host ended well, Stalled when one failed. */
function finish(
  s: PlanStatus & { cycle: string },
  obs: Observation,
  timing: DecideTiming,
  t: Tally,
  notifyStalled: boolean,
  status: StatusChange,
): Transition {
  const result = t.failed.length > 0 ? "Stalled" : "Succeeded";
  const lastCycle = { startedAt: s.lastCycle?.startedAt ?? iso(obs.now), finishedAt: iso(obs.now) };
  const verdict: Verdict =
    result === "Succeeded"
      ? { outcome: "Converged", reason: "CycleSucceeded", message: `cycle ${s.cycle}: ${summaryOf(status)}` }
      : { outcome: "Stalled", reason: failedReason(t.failed), message: failedMessage(t.failed) };
  const failed = t.failed.map((h) => h.host);
  return {
    kind: "act",
    phase: result,
    action: { kind: "finishCycle", result, notifyStalled, failed },
    verdict,
    requeueAfter: result === "Succeeded" ? (obs.cluster?.observeIntervalMs ?? timing.idleMs) : timing.idleMs,
    status: { ...status, lastCycle },
  };
}

/** The last cycle stalled: nothing happens until a person acts (requested-at, or an edited spec). */
export function decideStalled(plan: HostPatchPlan, obs: Observation, timing: DecideTiming): Transition {
  const s = plan.status ?? {};
  const personActed = manualRequest(plan) !== undefined || s.observedGeneration !== generationOf(plan);
  if (personActed) return decideGates(plan, obs, timing);
  const halted = haltVerdict(obs);
  if (halted) return wait(halted, timing.waitMs);
  const cycle = s.cycle ?? "";
  const t = tally(cycle, s.cycleHosts ?? obs.children.map((c) => c.host), obs.children);
  const message =
    t.failed.length > 0
      ? failedMessage(t.failed)
      : `cycle ${cycle} stalled; nothing happens until a person acts`;
  return wait({ outcome: "Stalled", reason: failedReason(t.failed), message }, timing.idleMs);
}

/** The last cycle succeeded: converged until the cluster's observeInterval has passed. */
export function decideSucceeded(plan: HostPatchPlan, obs: Observation, timing: DecideTiming): Transition {
  const s = plan.status ?? {};
  const finished = s.lastCycle?.finishedAt ? Date.parse(s.lastCycle.finishedAt) : undefined;
  const interval = obs.cluster?.observeIntervalMs ?? 0;
  const due = finished === undefined || obs.now - finished >= interval;
  if (due || manualRequest(plan) !== undefined || obs.halt.halted) return decideGates(plan, obs, timing);
  const message = `cycle ${s.cycle ?? ""}: ${summaryOf(s)}`;
  return wait({ outcome: "Converged", reason: "CycleSucceeded", message }, interval - (obs.now - finished));
}

export function generationOf(plan: HostPatchPlan): number {
  return plan.metadata.generation ?? 1;
}

/**
 * Between cycles: may a new one start? The halt (kill switch, suspend), the windows and blackouts,
 * `after`, the mutex, in that order; then start.
 */
export function decideGates(plan: HostPatchPlan, obs: Observation, timing: DecideTiming): Transition {
  const halted = haltVerdict(obs);
  if (halted) return goTo("Suspended", halted, timing.waitMs);
  const gate = obs.gate;
  if (gate && !gate.allowed) {
    const windowReason = gate.reason === "OutsideWindow" || gate.reason === "WindowClosing";
    const verdict: Verdict = { outcome: "OutsideWindow", reason: gate.reason, message: gate.message };
    const requeue = Math.max(1000, Math.min(gate.retryAt - obs.now, timing.idleMs));
    return windowReason
      ? goTo("OutsideWindow", verdict, requeue, { nextWindow: iso(gate.retryAt) })
      : goTo("Waiting", verdict, requeue);
  }
  const after = obs.after;
  if (after && !after.allowed) {
    const outcome = after.reason === "WaitingForPlan" ? "Waiting" : "Blocked";
    const waitingSince = plan.status?.waitingSince ?? iso(obs.now);
    return goTo("Waiting", { outcome, reason: after.reason, message: after.message }, timing.waitMs, {
      waitingSince,
    });
  }
  if (plan.spec.mutex) {
    if (!obs.mutex) return { kind: "askMutex" };
    if (!obs.mutex.acquired) {
      const message = `mutex ${plan.spec.mutex} is held by ${obs.mutex.holder ?? "an earlier waiter"}`;
      return goTo("Waiting", { outcome: "Waiting", reason: "MutexHeld", message }, timing.waitMs);
    }
  }
  return startCycle(plan, obs, timing);
}

function startCycle(plan: HostPatchPlan, obs: Observation, timing: DecideTiming): Transition {
  const cycle = cycleId(obs.now);
  const hosts = obs.selected;
  const request = manualRequest(plan);
  return {
    kind: "act",
    phase: "Progressing",
    action: {
      kind: "startCycle",
      cycle,
      hosts,
      ...(request !== undefined ? { request } : {}),
      children: childPlan(plan, cycle, hosts, obs.children),
    },
    verdict: {
      outcome: "Progressing",
      reason: "CycleStarted",
      message: `cycle ${cycle} over ${hosts.join(", ")}`,
    },
    requeueAfter: timing.waitMs,
    status: {
      cycle,
      cycleHosts: hosts,
      targets: hosts.length,
      succeeded: 0,
      skipped: 0,
      failed: 0,
      lastCycle: { startedAt: iso(obs.now) },
      waitingSince: undefined,
      ...(request !== undefined ? { lastHandledRequestAt: request } : {}),
    },
  };
}
