/**
 * The GuestUpdatePlan decisions as a table: plan × status × observation → transition. Pure: no
 * store, no clock, no files. Children's phases are set directly (the GuestUpdate flow is elsewhere).
 */
import { describe, expect, it } from "vitest";
import type { GuestUpdatePhase } from "../../src/api/guest-update.js";
import {
  guestUpdatePlan,
  guestUpdatePlanStatus,
  type GuestUpdatePlan,
} from "../../src/api/guest-update-plan.js";
import { decide } from "../../controller/guest-update-plan/decide.js";
import { notBefore } from "../../controller/guest-update-plan/starts.js";
import type { Selection } from "../../controller/guest-update-plan/selection.js";
import type {
  ChildView,
  CycleTarget,
  Observation,
  PlanStatus,
  Transition,
} from "../../controller/guest-update-plan/types.js";

const NOW = Date.parse("2026-03-07T02:00:00Z");
const TIMING = { waitMs: 5_000, idleMs: 60_000 };
const MIN = 60_000;
const HOUR = 60 * MIN;
const CYCLE = "c20260307013000";
const CYCLE_START = NOW - 30 * MIN;
const at = (ms: number): string => new Date(ms).toISOString();

function plan(
  concurrency: Record<string, unknown> = {},
  status?: Partial<PlanStatus>,
  extra: Record<string, unknown> = {},
): GuestUpdatePlan {
  return guestUpdatePlan.parse({
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdatePlan",
    metadata: { name: "apps", uid: "u-1", generation: 1 },
    spec: {
      clusterRef: { name: "lab" },
      selector: { tags: ["apps"] },
      runners: [{ type: "os" }],
      concurrency,
      ...extra,
    },
    ...(status ? { status: guestUpdatePlanStatus.parse(status) } : {}),
  });
}

/** Targets 110.. on nodes round-robin over pve1..pve2, all due (no jitter). */
function targets(n: number, started: number[] = [], nodes = ["pve1", "pve2"]): CycleTarget[] {
  return Array.from({ length: n }, (_, i) => {
    const vmid = 110 + i;
    return {
      vmid,
      node: nodes[i % nodes.length] ?? "pve1",
      notBefore: at(CYCLE_START),
      ...(started.includes(vmid) ? { startedAt: at(CYCLE_START) } : {}),
    };
  });
}

function child(vmid: number, phase: GuestUpdatePhase | undefined, extra: Partial<ChildView> = {}): ChildView {
  return {
    name: `apps-${vmid}-${CYCLE}`,
    vmid,
    cycle: CYCLE,
    node: vmid % 2 === 0 ? "pve1" : "pve2",
    phase,
    current: phase !== undefined,
    ...extra,
  };
}

const inCycle = (t: CycleTarget[], extra: Partial<PlanStatus> = {}): Partial<PlanStatus> => ({
  phase: "Progressing",
  currentCycle: CYCLE,
  cycleTargets: t,
  lastCycle: { id: CYCLE, startedAt: at(CYCLE_START) },
  observedGeneration: 1,
  ...extra,
});

function obs(extra: Partial<Observation> = {}): Observation {
  return {
    now: NOW,
    cluster: { name: "lab", observeIntervalMs: HOUR },
    children: [],
    halt: { halted: false },
    gate: { allowed: true, overridden: [] },
    after: { allowed: true },
    ...extra,
  };
}

const selection = (s: Partial<Selection> = {}): Observation["selection"] => ({
  ok: true,
  selection: {
    targets: [
      { vmid: 110, node: "pve1" },
      { vmid: 111, node: "pve2", policy: "web" },
    ],
    excluded: [],
    conflicts: [],
    ...s,
  },
});

/** What a person would read off a transition. */
function summary(t: Transition): Record<string, unknown> {
  if (t.kind === "ask") return { ask: t.what };
  return {
    kind: t.kind,
    ...(t.kind === "goTo" || (t.kind === "act" && t.phase) ? { phase: t.phase } : {}),
    ...(t.kind === "act" ? { action: t.action.kind } : {}),
    outcome: t.verdict.outcome,
    reason: t.verdict.reason,
  };
}

const started = (t: Transition): number[] =>
  t.kind === "act" && t.action.kind === "startTargets" ? t.action.vmids : [];

describe("between cycles: the gates, in order", () => {
  it.each<[string, GuestUpdatePlan, Observation, Record<string, unknown>]>([
    [
      "no cluster",
      plan(),
      obs({ cluster: undefined }),
      { kind: "wait", outcome: "Blocked", reason: "ClusterNotFound" },
    ],
    [
      "kill switch",
      plan(),
      obs({ halt: { halted: true, reason: "KillSwitch", message: "stop" } }),
      { kind: "goTo", phase: "Suspended", outcome: "Halted", reason: "KillSwitch" },
    ],
    [
      "outside the window",
      plan(),
      obs({ gate: { allowed: false, reason: "OutsideWindow", message: "closed", retryAt: NOW + HOUR } }),
      { kind: "goTo", phase: "OutsideWindow", outcome: "OutsideWindow", reason: "OutsideWindow" },
    ],
    [
      "in a blackout",
      plan(),
      obs({ gate: { allowed: false, reason: "InBlackout", message: "dns", retryAt: NOW + HOUR } }),
      { kind: "goTo", phase: "Waiting", outcome: "OutsideWindow", reason: "InBlackout" },
    ],
    [
      "after a plan still running",
      plan(),
      obs({
        after: {
          allowed: false,
          reason: "WaitingForPlan",
          message: "nodes first",
          blockers: ["HostPatchPlan/nodes"],
        },
      }),
      { kind: "goTo", phase: "Waiting", outcome: "Waiting", reason: "WaitingForPlan" },
    ],
    ["gates open: read the selection", plan(), obs(), { ask: "selection" }],
    [
      "the cluster does not answer",
      plan(),
      obs({ selection: { ok: false, message: "no node answered" } }),
      { kind: "goTo", phase: "Waiting", outcome: "Blocked", reason: "InventoryUnavailable" },
    ],
    [
      "a mutex: ask for it last",
      plan({}, undefined, { mutex: "infra" }),
      obs({ selection: selection() }),
      { ask: "mutex" },
    ],
    [
      "the mutex is held",
      plan({}, undefined, { mutex: "infra" }),
      obs({ selection: selection(), mutex: { acquired: false, holder: "HostPatchPlan//nodes" } }),
      { kind: "goTo", phase: "Waiting", outcome: "Waiting", reason: "MutexHeld" },
    ],
    [
      "everything open: start a cycle",
      plan(),
      obs({ selection: selection() }),
      {
        kind: "act",
        phase: "Progressing",
        action: "startCycle",
        outcome: "Progressing",
        reason: "CycleStarted",
      },
    ],
  ])("%s", (_name, p, o, want) => {
    expect(summary(decide(p, o, TIMING))).toEqual(want);
  });

  it("records the cycle's targets with their policy and a seeded jitter, and starts none yet", () => {
    const p = plan({ jitter: "10m" });
    const t = decide(p, obs({ selection: selection() }), TIMING);
    if (t.kind !== "act" || t.action.kind !== "startCycle") throw new Error(JSON.stringify(summary(t)));
    const cycle = t.action.cycle;
    expect(t.status?.cycleTargets).toEqual([
      { vmid: 110, node: "pve1", notBefore: at(notBefore(p, 110, cycle, NOW)) },
      { vmid: 111, node: "pve2", policy: "web", notBefore: at(notBefore(p, 111, cycle, NOW)) },
    ]);
    // Seeded: the same plan, vmid and cycle give the same delay; the delay stays within the jitter.
    expect(notBefore(p, 110, cycle, NOW)).toBe(notBefore(p, 110, cycle, NOW));
    for (const x of t.status?.cycleTargets ?? [])
      expect(Date.parse(x.notBefore) - NOW).toBeLessThanOrEqual(10 * MIN);
    expect(t.status?.counts).toMatchObject({ targets: 2, pending: 2, inProgress: 0 });
  });

  it("a container left Failed for an operator (rollback Manual) is not updated again until a request", () => {
    const failed = child(110, "Failed", { cycle: "c20260306013000", awaitsOperator: true });
    const t = decide(plan(), obs({ selection: selection(), children: [failed] }), TIMING);
    expect(t.kind === "act" && t.status?.cycleTargets?.map((x) => x.vmid)).toEqual([111]);
    expect(t.kind === "act" && t.verdict.message).toMatch(/110 left Failed for an operator/);
    const asked = plan();
    asked.metadata.annotations = { "refit.dev/requested-at": at(NOW) };
    const again = decide(asked, obs({ selection: selection(), children: [failed] }), TIMING);
    expect(again.kind === "act" && again.status?.cycleTargets?.map((x) => x.vmid)).toEqual([110, 111]);
  });

  it("records conflicts, so the plan's Ready can name them", () => {
    const t = decide(
      plan(),
      obs({ selection: selection({ conflicts: [{ vmid: 112, with: ["GuestUpdatePlan/web"] }] }) }),
      TIMING,
    );
    expect(t.kind === "act" && t.status?.conflicts).toEqual([{ vmid: 112, with: ["GuestUpdatePlan/web"] }]);
  });

  it("a converged plan waits for the cluster's observeInterval", () => {
    const p = plan(
      {},
      {
        phase: "Succeeded",
        lastCycle: { id: CYCLE, startedAt: at(NOW - 2 * MIN), finishedAt: at(NOW - MIN) },
      },
    );
    expect(summary(decide(p, obs(), TIMING))).toEqual({
      kind: "wait",
      outcome: "Converged",
      reason: "CycleSucceeded",
    });
    const later = decide(p, obs({ now: NOW + HOUR }), TIMING);
    expect(summary(later)).toEqual({ ask: "selection" });
  });

  it("a stalled plan waits for a person; requested-at lets it start again", () => {
    const p = plan(
      {},
      { phase: "Stalled", observedGeneration: 1, lastCycle: { id: CYCLE, startedAt: at(NOW - HOUR) } },
    );
    expect(summary(decide(p, obs({ selection: selection() }), TIMING))).toMatchObject({
      kind: "wait",
      outcome: "Stalled",
    });
    p.metadata.annotations = { "refit.dev/requested-at": at(NOW) };
    const t = decide(p, obs({ selection: selection() }), TIMING);
    expect(summary(t)).toMatchObject({ action: "startCycle" });
    expect(t.kind === "act" && t.status?.lastHandledRequestAt).toBe(at(NOW));
  });
});

describe("in a cycle: starts within the limits", () => {
  it.each<[string, Record<string, unknown>, CycleTarget[], ChildView[], number[]]>([
    ["maxParallel 2 of 4", { maxParallel: 2 }, targets(4), [], [110, 111]],
    [
      "one running, maxParallel 2: one more",
      { maxParallel: 2 },
      targets(4, [110]),
      [child(110, "Updating")],
      [111],
    ],
    [
      "finished ones free their slot",
      { maxParallel: 2 },
      targets(4, [110, 111]),
      [child(110, "Succeeded"), child(111, "Skipped")],
      [112, 113],
    ],
    [
      "full: nothing starts",
      { maxParallel: 2 },
      targets(4, [110, 111]),
      [child(110, "Verifying"), child(111, "Preflight")],
      [],
    ],
    // 110 and 112 are on pve1, 111 and 113 on pve2.
    ["per node 1: one per node", { maxParallel: 4, maxParallelPerNode: 1 }, targets(4), [], [110, 111]],
    [
      "per node 1, pve1 busy: only pve2",
      { maxParallel: 4, maxParallelPerNode: 1 },
      targets(4, [110]),
      [child(110, "Updating")],
      [111],
    ],
    [
      "rate 3 per hour, 2 started this hour",
      { maxParallel: 8, rateLimit: { starts: 3, interval: "1h" } },
      targets(5, [110, 111]),
      [child(110, "Succeeded"), child(111, "Succeeded")],
      [112],
    ],
    [
      "a started one with no status yet holds its slot",
      { maxParallel: 1 },
      targets(2, [110]),
      [child(110, undefined)],
      [],
    ],
  ])("%s", (_name, concurrency, t, children, want) => {
    const p = plan(concurrency, inCycle(t));
    expect(started(decide(p, obs({ children }), TIMING))).toEqual(want);
  });

  it("a container whose GuestUpdate of an earlier cycle is still in flight does not start again", () => {
    const p = plan({ maxParallel: 4 }, inCycle(targets(2)));
    const older = child(110, "Updating", { cycle: "c20260306013000", name: "apps-110-c20260306013000" });
    expect(started(decide(p, obs({ children: [older] }), TIMING))).toEqual([111]);
    const ended = child(110, "Succeeded", { cycle: "c20260306013000", name: "apps-110-c20260306013000" });
    expect(started(decide(p, obs({ children: [ended] }), TIMING))).toEqual([110, 111]);
  });

  it("the status write that starts them records startedAt (intent before the GuestUpdate exists)", () => {
    const p = plan({ maxParallel: 1 }, inCycle(targets(2)));
    const t = decide(p, obs(), TIMING);
    expect(t.kind === "act" && t.status?.cycleTargets?.map((x) => x.startedAt)).toEqual([at(NOW), undefined]);
  });

  it("a container whose jitter has not passed waits, and the plan looks again at its time", () => {
    const t = targets(1);
    (t[0] as CycleTarget).notBefore = at(NOW + 3_000);
    const d = decide(plan({ maxParallel: 4 }, inCycle(t)), obs(), TIMING);
    expect(started(d)).toEqual([]);
    expect(d.kind === "wait" && d.requeueAfter).toBe(3_000);
  });

  it("recorded as started but no GuestUpdate (a crash in between): make it, start nothing new", () => {
    const d = decide(
      plan({ maxParallel: 4 }, inCycle(targets(3, [110, 111]))),
      obs({ children: [child(110, "Updating")] }),
      TIMING,
    );
    expect(d.kind === "act" && d.action).toEqual({ kind: "ensureChildren", cycle: CYCLE, vmids: [111] });
  });

  it.each<[string, Partial<Observation>, Record<string, unknown>]>([
    [
      "kill switch",
      { halt: { halted: true, reason: "KillSwitch", message: "stop" } },
      { kind: "wait", outcome: "Halted", reason: "KillSwitch" },
    ],
    [
      "window closed",
      { gate: { allowed: false, reason: "OutsideWindow", message: "closed", retryAt: NOW + HOUR } },
      { kind: "wait", outcome: "Progressing", reason: "OutsideWindow" },
    ],
  ])("no new start: %s (the one in flight finishes)", (_name, o, want) => {
    const p = plan({ maxParallel: 4 }, inCycle(targets(3, [110])));
    const d = decide(p, obs({ children: [child(110, "Updating")], ...o }), TIMING);
    expect(summary(d)).toEqual(want);
  });

  it("maxRunTime passed: nothing new starts; once nothing is in flight the cycle ends with the rest not started", () => {
    const p = plan({ maxParallel: 4, maxRunTime: "20m" }, inCycle(targets(3, [110])));
    const busy = decide(p, obs({ children: [child(110, "Updating")] }), TIMING);
    expect(summary(busy)).toEqual({ kind: "wait", outcome: "Progressing", reason: "RunTimeExceeded" });
    const done = decide(p, obs({ children: [child(110, "Succeeded")] }), TIMING);
    expect(summary(done)).toEqual({
      kind: "act",
      phase: "Succeeded",
      action: "finishCycle",
      outcome: "Converged",
      reason: "CycleSucceeded",
    });
    expect(done.kind === "act" && done.status?.counts).toMatchObject({
      succeeded: 1,
      notStarted: 2,
      pending: 0,
    });
  });
});

describe("in a cycle: failures and the end", () => {
  it("every container ended well: Succeeded", () => {
    const p = plan({ maxParallel: 4 }, inCycle(targets(3, [110, 111, 112])));
    const d = decide(
      p,
      obs({ children: [child(110, "Succeeded"), child(111, "Skipped"), child(112, "Blocked")] }),
      TIMING,
    );
    expect(summary(d)).toEqual({
      kind: "act",
      phase: "Succeeded",
      action: "finishCycle",
      outcome: "Converged",
      reason: "CycleSucceeded",
    });
    expect(d.kind === "act" && d.status?.counts).toMatchObject({ succeeded: 1, skipped: 1, blocked: 1 });
  });

  it("failures within maxFailures: the cycle goes on, and ends degraded", () => {
    const p = plan({ maxParallel: 1, maxFailures: 1 }, inCycle(targets(2, [110])));
    expect(started(decide(p, obs({ children: [child(110, "RolledBack")] }), TIMING))).toEqual([111]);
    const end = plan({ maxParallel: 1, maxFailures: 1 }, inCycle(targets(2, [110, 111])));
    const d = decide(end, obs({ children: [child(110, "RolledBack"), child(111, "Succeeded")] }), TIMING);
    expect(summary(d)).toMatchObject({
      action: "finishCycle",
      outcome: "Converged",
      reason: "CycleDegraded",
    });
    expect(d.kind === "act" && d.action.kind === "finishCycle" && d.action.failed).toEqual([110]);
  });

  it("over maxFailures: no new start, one PlanStalled notice, then Stalled once nothing is in flight", () => {
    const t = targets(4, [110, 111]);
    const p = plan({ maxParallel: 2, maxFailures: 0 }, inCycle(t));
    const failing = decide(p, obs({ children: [child(110, "Failed"), child(111, "Updating")] }), TIMING);
    expect(summary(failing)).toEqual({
      kind: "act",
      action: "notifyStalled",
      outcome: "Failing",
      reason: "TargetFailed",
    });
    const told = plan(
      { maxParallel: 2, maxFailures: 0 },
      inCycle(t, {
        conditions: [
          {
            type: "Stalled",
            status: "True",
            reason: "TargetFailed",
            message: "",
            lastTransitionTime: at(NOW),
          },
        ],
      }),
    );
    expect(
      summary(decide(told, obs({ children: [child(110, "Failed"), child(111, "Updating")] }), TIMING)),
    ).toEqual({
      kind: "wait",
      outcome: "Failing",
      reason: "TargetFailed",
    });
    const end = decide(told, obs({ children: [child(110, "Failed"), child(111, "Succeeded")] }), TIMING);
    expect(summary(end)).toEqual({
      kind: "act",
      phase: "Stalled",
      action: "finishCycle",
      outcome: "Stalled",
      reason: "TargetFailed",
    });
    expect(end.kind === "act" && end.action.kind === "finishCycle" && end.action.notifyStalled).toBe(false);
    expect(end.kind === "act" && end.status?.counts).toMatchObject({
      failed: 1,
      succeeded: 1,
      notStarted: 2,
    });
  });

  it("a status written for an older spec does not count as ended", () => {
    const p = plan({ maxParallel: 1 }, inCycle(targets(1, [110])));
    const d = decide(p, obs({ children: [child(110, "Succeeded", { current: false })] }), TIMING);
    expect(d.kind).toBe("wait");
  });
});

describe("a partial run", () => {
  const partial = { vmids: [111], requestedAt: at(NOW) };

  it("skips `after` and starts a cycle over the asked containers only", () => {
    const o = obs({
      partial,
      selection: selection(),
      after: {
        allowed: false,
        reason: "WaitingForPlan",
        message: "nodes",
        blockers: ["HostPatchPlan/nodes"],
      },
    });
    const t = decide(plan(), o, TIMING);
    expect(summary(t)).toMatchObject({ action: "startCycle" });
    expect(t.kind === "act" && t.status?.cycleTargets?.map((x) => x.vmid)).toEqual([111]);
    expect(t.kind === "act" && t.status?.cycleVmids).toEqual([111]);
    expect(t.kind === "act" && t.status?.lastHandledRequestAt).toBe(at(NOW));
  });

  it("still honours the window", () => {
    const o = obs({
      partial,
      gate: { allowed: false, reason: "OutsideWindow", message: "closed", retryAt: NOW + HOUR },
    });
    expect(summary(decide(plan(), o, TIMING))).toMatchObject({ outcome: "OutsideWindow" });
  });

  it("does not run into a full cycle in progress", () => {
    expect(summary(decide(plan({}, inCycle(targets(2))), obs({ partial }), TIMING))).toEqual({
      kind: "wait",
      outcome: "Blocked",
      reason: "CycleInProgress",
    });
  });

  it("once its cycle finished, it stays put (the run exits)", () => {
    const p = plan(
      {},
      {
        phase: "Succeeded",
        lastHandledRequestAt: at(NOW),
        lastCycle: { id: CYCLE, startedAt: at(NOW), finishedAt: at(NOW), partial: true },
      },
    );
    expect(summary(decide(p, obs({ partial }), TIMING))).toEqual({
      kind: "wait",
      outcome: "Converged",
      reason: "CycleSucceeded",
    });
  });

  it("a full cycle right after it, in the same second, waits a moment (cycle ids are per second)", () => {
    const id = "c20260307020000";
    const p = plan(
      {},
      { phase: "Succeeded", lastCycle: { id, startedAt: at(NOW), finishedAt: at(NOW), partial: true } },
    );
    expect(summary(decide(p, obs({ selection: selection() }), TIMING))).toEqual({
      kind: "wait",
      outcome: "Progressing",
      reason: "CycleStarting",
    });
    expect(summary(decide(p, obs({ now: NOW + 1000, selection: selection() }), TIMING))).toMatchObject({
      action: "startCycle",
    });
  });

  it("leaves the full cycle due at once afterwards", () => {
    const p = plan(
      {},
      {
        phase: "Succeeded",
        lastCycle: { id: CYCLE, startedAt: at(NOW), finishedAt: at(NOW), partial: true },
      },
    );
    expect(summary(decide(p, obs(), TIMING))).toEqual({ ask: "selection" });
  });
});
