/**
 * The HostPatchPlan decisions as a table: spec × status × observation → transition. Pure: no store,
 * no clock, no files.
 */
import { describe, expect, it } from "vitest";
import { hostPatchPlan, type HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { HostPatchPhase } from "../../src/api/host-patch.js";
import { decide } from "../../controller/host-patch-plan/decide.js";
import type {
  ChildView,
  Observation,
  PlanStatus,
  Transition,
} from "../../controller/host-patch-plan/types.js";
import { conditionsOf, outcomeOf } from "../../controller/host-patch-plan/verdict.js";

const NOW = Date.parse("2026-03-07T02:00:00Z");
const TIMING = { waitMs: 5_000, idleMs: 60_000 };
const HOUR = 3_600_000;
const CYCLE = "c20260307010000";
const HOSTS = ["pve1", "pve2", "pve3"];
const at = (ms: number): string => new Date(ms).toISOString();

function plan(
  status?: PlanStatus,
  opts: { mutex?: string; profile?: "pve" | "pbs"; generation?: number; requestedAt?: string } = {},
): HostPatchPlan {
  const p = hostPatchPlan.parse({
    apiVersion: "refit.dev/v1alpha1",
    kind: "HostPatchPlan",
    metadata: {
      name: "nodes",
      uid: "u-1",
      generation: opts.generation ?? 1,
      ...(opts.requestedAt ? { annotations: { "refit.dev/requested-at": opts.requestedAt } } : {}),
    },
    spec: {
      clusterRef: { name: "lab" },
      targets: { nodes: ["pve*"] },
      ...(opts.mutex ? { mutex: opts.mutex } : {}),
    },
    ...(status ? { status } : {}),
  });
  if (opts.profile) p.spec.profile = opts.profile;
  return p;
}

function child(host: string, phase: HostPatchPhase | undefined, extra: Partial<ChildView> = {}): ChildView {
  return {
    name: `nodes-${host}`,
    host,
    cycle: CYCLE,
    phase,
    current: phase !== undefined,
    ...extra,
  };
}

function obs(extra: Partial<Observation> = {}): Observation {
  return {
    now: NOW,
    cluster: { name: "lab", observeIntervalMs: HOUR },
    selected: HOSTS,
    children: [],
    halt: { halted: false },
    gate: { allowed: true, overridden: [] },
    after: { allowed: true },
    ...extra,
  };
}

const inCycle = (extra: PlanStatus = {}): PlanStatus => ({
  phase: "Progressing",
  cycle: CYCLE,
  cycleHosts: HOSTS,
  lastCycle: { startedAt: at(NOW - HOUR) },
  observedGeneration: 1,
  ...extra,
});

const stalledCondition = {
  type: "Stalled",
  status: "True" as const,
  reason: "TargetFailed",
  message: "",
  lastTransitionTime: at(NOW - 60_000),
  observedGeneration: 1,
};

const halt = {
  halted: true,
  reason: "KillSwitch",
  message: "kill switch /etc/refit/STOP is present",
} as const;
const suspended = { halted: true, reason: "PlanSuspended", message: "suspended" } as const;

type Row = [name: string, plan: HostPatchPlan, obs: Observation, expected: Record<string, unknown>];

const rows: Row[] = [
  // --- any phase ----------------------------------------------------------------------------------
  [
    "the cluster is missing: Blocked",
    plan(inCycle()),
    obs({ cluster: undefined }),
    { kind: "wait", verdict: { outcome: "Blocked", reason: "ClusterNotFound" }, requeueAfter: 60_000 },
  ],
  [
    "profile pbs: NotHandled",
    plan(undefined, { profile: "pbs" }),
    obs(),
    { kind: "wait", verdict: { outcome: "NotHandled", reason: "ProfileNotSupported" } },
  ],
  // --- between cycles: the gates, in order --------------------------------------------------------
  [
    "a new plan with every gate open starts a cycle, its hosts in the same write",
    plan(),
    obs(),
    {
      kind: "act",
      phase: "Progressing",
      action: {
        kind: "startCycle",
        cycle: "c20260307020000",
        hosts: HOSTS,
        children: { create: HOSTS, move: [], remove: [] },
      },
      verdict: { outcome: "Progressing", reason: "CycleStarted" },
      status: { cycle: "c20260307020000", cycleHosts: HOSTS, lastCycle: { startedAt: at(NOW) } },
    },
  ],
  [
    "the kill switch between cycles: Suspended phase, Halted",
    plan({ phase: "OutsideWindow" }),
    obs({ halt }),
    { kind: "goTo", phase: "Suspended", verdict: { outcome: "Halted", reason: "KillSwitch" } },
  ],
  [
    "spec.suspend between cycles: Suspended",
    plan(),
    obs({ halt: suspended }),
    { kind: "goTo", phase: "Suspended", verdict: { outcome: "Suspended", reason: "PlanSuspended" } },
  ],
  [
    "outside every window: OutsideWindow with the next opening",
    plan(),
    obs({ gate: { allowed: false, reason: "OutsideWindow", message: "closed", retryAt: NOW + 30_000 } }),
    {
      kind: "goTo",
      phase: "OutsideWindow",
      verdict: { outcome: "OutsideWindow", reason: "OutsideWindow" },
      requeueAfter: 30_000,
      status: { nextWindow: at(NOW + 30_000) },
    },
  ],
  [
    "an open blackout: phase Waiting, outcome OutsideWindow, reason InBlackout",
    plan(),
    obs({ gate: { allowed: false, reason: "InBlackout", message: "blackout", retryAt: NOW + 10 * HOUR } }),
    {
      kind: "goTo",
      phase: "Waiting",
      verdict: { outcome: "OutsideWindow", reason: "InBlackout" },
      requeueAfter: 60_000,
    },
  ],
  [
    "a plan it runs after is still progressing: Waiting, since now",
    plan(),
    obs({ after: { allowed: false, reason: "WaitingForPlan", message: "waits", blockers: ["a"] } }),
    {
      kind: "goTo",
      phase: "Waiting",
      verdict: { outcome: "Waiting", reason: "WaitingForPlan" },
      status: { waitingSince: at(NOW) },
    },
  ],
  [
    "a plan it runs after stalled: Blocked until a person acts",
    plan({ phase: "Waiting", waitingSince: at(NOW - HOUR) }),
    obs({ after: { allowed: false, reason: "PredecessorStalled", message: "stalled", blockers: ["a"] } }),
    {
      kind: "goTo",
      phase: "Waiting",
      verdict: { outcome: "Blocked", reason: "PredecessorStalled" },
      status: { waitingSince: at(NOW - HOUR) },
    },
  ],
  [
    "every gate open and a mutex: ask for it",
    plan(undefined, { mutex: "infra" }),
    obs(),
    { kind: "askMutex" },
  ],
  [
    "the mutex is held: Waiting, naming the holder",
    plan(undefined, { mutex: "infra" }),
    obs({ mutex: { acquired: false, holder: "HostPatchPlan//other" } }),
    {
      kind: "goTo",
      phase: "Waiting",
      verdict: {
        outcome: "Waiting",
        reason: "MutexHeld",
        message: "mutex infra is held by HostPatchPlan//other",
      },
    },
  ],
  [
    "the mutex is ours: start",
    plan(undefined, { mutex: "infra" }),
    obs({ mutex: { acquired: true } }),
    { kind: "act", action: { kind: "startCycle" } },
  ],
  [
    "a gate closed is answered before the mutex is asked for",
    plan(undefined, { mutex: "infra" }),
    obs({ gate: { allowed: false, reason: "OutsideWindow", message: "closed", retryAt: NOW + HOUR } }),
    { kind: "goTo", phase: "OutsideWindow" },
  ],
  // --- Succeeded ----------------------------------------------------------------------------------
  [
    "succeeded and not due again: Converged until the interval has passed",
    plan({
      phase: "Succeeded",
      cycle: CYCLE,
      lastCycle: { startedAt: at(NOW - HOUR), finishedAt: at(NOW - 20 * 60_000) },
      succeeded: 1,
      skipped: 2,
      failed: 0,
    }),
    obs(),
    {
      kind: "wait",
      verdict: {
        outcome: "Converged",
        reason: "CycleSucceeded",
        message: `cycle ${CYCLE}: 1 patched, 2 up to date, 0 failed`,
      },
      requeueAfter: 40 * 60_000,
    },
  ],
  [
    "succeeded and due again: a new cycle",
    plan({
      phase: "Succeeded",
      lastCycle: { startedAt: at(NOW - 3 * HOUR), finishedAt: at(NOW - 2 * HOUR) },
    }),
    obs(),
    { kind: "act", action: { kind: "startCycle" } },
  ],
  [
    "succeeded, not due, but requested by a person: a new cycle that records the request",
    plan(
      { phase: "Succeeded", lastCycle: { startedAt: at(NOW - HOUR), finishedAt: at(NOW - 60_000) } },
      { requestedAt: "2026-03-07T01:59:00Z" },
    ),
    obs(),
    {
      kind: "act",
      action: { kind: "startCycle", request: "2026-03-07T01:59:00Z" },
      status: { lastHandledRequestAt: "2026-03-07T01:59:00Z" },
    },
  ],
  // --- Stalled ------------------------------------------------------------------------------------
  [
    "stalled: waits for a person, saying which host failed",
    plan({ phase: "Stalled", cycle: CYCLE, cycleHosts: HOSTS, observedGeneration: 1 }),
    obs({ children: [child("pve1", "Failed", { message: "did not return" }), child("pve2", "Pending")] }),
    {
      kind: "wait",
      verdict: {
        outcome: "Stalled",
        reason: "TargetFailed",
        message: "pve1: did not return; no further node is touched until a person acts",
      },
      requeueAfter: 60_000,
    },
  ],
  [
    "stalled with the kill switch: Halted, and still Stalled underneath",
    plan({ phase: "Stalled", cycle: CYCLE, observedGeneration: 1 }),
    obs({ halt }),
    { kind: "wait", verdict: { outcome: "Halted", reason: "KillSwitch" } },
  ],
  [
    "stalled, then requested by a person: a new cycle",
    plan({ phase: "Stalled", cycle: CYCLE, observedGeneration: 1 }, { requestedAt: "2026-03-07T01:00:00Z" }),
    obs(),
    { kind: "act", action: { kind: "startCycle", request: "2026-03-07T01:00:00Z" } },
  ],
  [
    "stalled, then the spec edited: a new cycle",
    plan(
      {
        phase: "Stalled",
        cycle: CYCLE,
        observedGeneration: 1,
        lastCycle: { startedAt: at(NOW - 2 * 60_000), finishedAt: at(NOW - 60_000) },
      },
      { generation: 2 },
    ),
    obs(),
    { kind: "act", action: { kind: "startCycle" } },
  ],
  // --- Progressing --------------------------------------------------------------------------------
  [
    "a cycle whose children were not all created (a crash after its intent): create the missing",
    plan(inCycle()),
    obs({ children: [child("pve1", "Skipped")] }),
    {
      kind: "act",
      action: {
        kind: "ensureChildren",
        cycle: CYCLE,
        children: { create: ["pve2", "pve3"], move: [], remove: [] },
      },
      verdict: { outcome: "Progressing" },
    },
  ],
  [
    "a child still on the last cycle is moved to this one",
    plan(inCycle()),
    obs({
      children: [
        child("pve1", "Succeeded"),
        child("pve2", "Succeeded", { cycle: "c-old" }),
        child("pve3", "Skipped"),
      ],
    }),
    { kind: "act", action: { kind: "ensureChildren", children: { create: [], move: ["pve2"], remove: [] } } },
  ],
  [
    "a child on another cycle in the middle of a step is left alone, and the cycle is not done",
    plan(inCycle()),
    obs({
      children: [
        child("pve1", "Succeeded"),
        child("pve2", "Rebooting", { cycle: "c-old" }),
        child("pve3", "Skipped"),
      ],
    }),
    { kind: "wait", verdict: { outcome: "Progressing", message: "patching: pve2 Pending" } },
  ],
  [
    "a child moved to this cycle whose status is still the last cycle's does not count as ended",
    plan(inCycle()),
    obs({
      children: [
        child("pve1", "Succeeded"),
        child("pve2", "Succeeded", { current: false }),
        child("pve3", "Skipped"),
      ],
    }),
    {
      kind: "wait",
      verdict: { outcome: "Progressing", reason: "Progressing", message: "patching: pve2 Pending" },
    },
  ],
  [
    "a child of a host outside the cycle is deleted",
    plan(inCycle({ cycleHosts: ["pve1"] })),
    obs({ children: [child("pve1", "Pending"), child("pve9", "Succeeded", { cycle: "c-old" })] }),
    {
      kind: "act",
      action: { kind: "ensureChildren", children: { create: [], move: [], remove: ["nodes-pve9"] } },
    },
  ],
  [
    "every host of the cycle ended: finish, Converged, back after the observe interval",
    plan(inCycle()),
    obs({ children: [child("pve1", "Succeeded"), child("pve2", "Skipped"), child("pve3", "Skipped")] }),
    {
      kind: "act",
      phase: "Succeeded",
      action: { kind: "finishCycle", result: "Succeeded", notifyStalled: false },
      verdict: {
        outcome: "Converged",
        reason: "CycleSucceeded",
        message: `cycle ${CYCLE}: 1 patched, 2 up to date, 0 failed`,
      },
      requeueAfter: HOUR,
      status: {
        succeeded: 1,
        skipped: 2,
        failed: 0,
        lastCycle: { startedAt: at(NOW - HOUR), finishedAt: at(NOW) },
      },
    },
  ],
  [
    "the hosts of the cycle are the recorded ones, not the ones selected now",
    plan(inCycle({ cycleHosts: ["pve1", "pve2"] })),
    obs({ selected: HOSTS, children: [child("pve1", "Succeeded"), child("pve2", "Skipped")] }),
    { kind: "act", action: { kind: "finishCycle", result: "Succeeded" } },
  ],
  [
    "a status from before hosts were recorded: the selected hosts, recorded now",
    plan(inCycle({ cycleHosts: undefined })),
    obs({ children: [child("pve1", "Skipped")] }),
    {
      kind: "act",
      action: { kind: "ensureChildren", children: { create: ["pve2", "pve3"] } },
      status: { cycleHosts: HOSTS },
    },
  ],
  [
    "a host failed while another is mid-step: Failing, said once",
    plan(inCycle()),
    obs({
      children: [
        child("pve1", "Failed", { message: "gone" }),
        child("pve2", "Restoring"),
        child("pve3", "Pending"),
      ],
    }),
    {
      kind: "act",
      action: { kind: "notifyStalled", hosts: ["pve1"] },
      verdict: { outcome: "Failing", reason: "TargetFailed" },
    },
  ],
  [
    "Failing already said: wait for the step in flight",
    plan(inCycle({ conditions: [stalledCondition] })),
    obs({ children: [child("pve1", "Failed"), child("pve2", "Restoring"), child("pve3", "Pending")] }),
    { kind: "wait", verdict: { outcome: "Failing" } },
  ],
  [
    "a host failed and nothing is mid-step: finish Stalled and notify",
    plan(inCycle()),
    obs({
      children: [
        child("pve1", "Failed", { message: "gone" }),
        child("pve2", "Pending"),
        child("pve3", undefined),
      ],
    }),
    {
      kind: "act",
      phase: "Stalled",
      action: { kind: "finishCycle", result: "Stalled", notifyStalled: true, failed: ["pve1"] },
      verdict: {
        outcome: "Stalled",
        reason: "TargetFailed",
        message: "pve1: gone; no further node is touched until a person acts",
      },
      requeueAfter: 60_000,
    },
  ],
  [
    "finish Stalled after Failing: not notified twice",
    plan(inCycle({ conditions: [stalledCondition] })),
    obs({ children: [child("pve1", "Failed"), child("pve2", "Succeeded"), child("pve3", "Pending")] }),
    { kind: "act", action: { kind: "finishCycle", result: "Stalled", notifyStalled: false } },
  ],
  [
    "the kill switch mid-cycle: Halted, the cycle stays in progress",
    plan(inCycle()),
    obs({
      halt,
      children: [child("pve1", "Evacuating"), child("pve2", "Pending"), child("pve3", "Pending")],
    }),
    { kind: "wait", verdict: { outcome: "Halted", reason: "KillSwitch" }, requeueAfter: 5_000 },
  ],
  [
    "a blocked host: Progressing, TargetBlocked, with its reason",
    plan(inCycle()),
    obs({
      children: [
        child("pve1", "Blocked", { message: "allNodesOnline" }),
        child("pve2", "Pending"),
        child("pve3", "Pending"),
      ],
    }),
    {
      kind: "wait",
      verdict: { outcome: "Progressing", reason: "TargetBlocked", message: "blocked: pve1 (allNodesOnline)" },
    },
  ],
  [
    "hosts at work: Progressing, naming each host's phase",
    plan(inCycle()),
    obs({ children: [child("pve1", "Upgrading"), child("pve2", "Pending"), child("pve3", "Skipped")] }),
    {
      kind: "wait",
      verdict: {
        outcome: "Progressing",
        reason: "Progressing",
        message: "patching: pve1 Upgrading, pve2 Pending",
      },
      status: { succeeded: 0, skipped: 1, failed: 0 },
    },
  ],
];

describe("HostPatchPlan decisions (spec × status × observation → transition)", () => {
  it.each(rows)("%s", (_name, p, o, expected) => {
    const before = JSON.stringify(p);
    const t: Transition = decide(p, o, TIMING);
    expect(t).toMatchObject(expected);
    // Pure: the plan is not changed.
    expect(JSON.stringify(p)).toBe(before);
  });

  it("decides the same on the same input", () => {
    const p = plan(inCycle());
    const o = obs({ children: [child("pve1", "Upgrading")] });
    expect(decide(p, o, TIMING)).toEqual(decide(p, o, TIMING));
  });
});

describe("conditions and outcome from a verdict", () => {
  it.each([
    ["Converged", false, { ready: { status: "True" } }, []],
    ["Progressing", true, { ready: { status: "False" }, reconciling: {} }, ["stalled"]],
    ["Waiting", false, { reconciling: {} }, ["stalled"]],
    ["Failing", true, { stalled: {} }, ["reconciling"]],
    ["Stalled", false, { stalled: {} }, ["reconciling"]],
    ["Blocked", false, { stalled: {} }, ["reconciling"]],
    ["NotHandled", false, { stalled: {} }, ["reconciling"]],
    ["OutsideWindow", false, { ready: { status: "False" } }, ["reconciling", "stalled"]],
    ["Halted", true, { reconciling: {} }, ["stalled"]],
    ["Halted", false, {}, ["reconciling", "stalled"]],
    ["Suspended", false, {}, ["reconciling", "stalled"]],
  ] as const)("%s (mid-cycle %s)", (outcome, midCycle, present, absent) => {
    const c = conditionsOf({ outcome, reason: "Why", message: "because" }, midCycle);
    expect(c).toMatchObject(present);
    for (const k of absent) expect(c).not.toHaveProperty(k);
  });

  it("keeps `at` while the state and cycle stay, and moves it when either changes", () => {
    const first = outcomeOf(undefined, "Progressing", "c1", 1, NOW);
    expect(first).toEqual({ state: "Progressing", cycle: "c1", generation: 1, at: at(NOW) });
    expect(outcomeOf(first, "Progressing", "c1", 2, NOW + 1000)).toEqual({ ...first, generation: 2 });
    expect(outcomeOf(first, "Converged", "c1", 1, NOW + 1000).at).toBe(at(NOW + 1000));
    expect(outcomeOf(first, "Progressing", "c2", 1, NOW + 1000).at).toBe(at(NOW + 1000));
  });
});
