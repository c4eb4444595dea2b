/**
 * The guest update benchmark (issue 9, "Performance"): 200 LXC containers on 5 simulated nodes,
 * each with 2 apt packages pending and an HTTP health check, one GuestUpdatePlan at concurrency 8
 * and 3 per node, snapshot backup, rollback Auto. One `refit run --once` cycle, the controller as
 * its own process on a scaled clock. Printed: the makespan against the lower bound (total work over
 * the effective concurrency, support/guest-bounds.ts) and against the sequential makespan (one
 * container at a time); SSH round trips per container; controller CPU and peak RSS. Only
 * correctness is PASS/FAIL: every container Succeeded, its packages moved to the candidates, one
 * Refit snapshot taken. A pipeline that cannot run end to end throws with the reason.
 */
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import type { StoredObject } from "../../controller/runtime/state-reader.js";
import { runGuestCycle, type GuestCycle } from "./support/guest-cycle.js";
import { MAX_PARALLEL, MAX_PER_NODE, PLAN_NAME, WARM_UP_SECONDS } from "./support/guest-desired.js";
import {
  benchContainers,
  CONTAINERS,
  GUEST_NODES,
  GUEST_TIMING,
  guestFleet,
  PENDING,
  RESTARTED,
} from "./support/guest-fleet.js";
import {
  containerSeconds,
  effectiveConcurrency,
  lowerBound,
  sequentialMakespan,
} from "./support/guest-bounds.js";
import { FLOW_PHASES, phaseMeans } from "./support/guest-phases.js";
import type { BenchReport, BenchRow } from "./support/report.js";

const SCALE = Number(process.env.REFIT_BENCH_GUEST_SCALE ?? 10);
const LOWER_BOUND_GOAL = 1.15;
const FINAL = new Set(["Succeeded", "Failed", "RolledBack", "Blocked", "Skipped"]);
const SPEEDUP_GOAL = 6;

const EACH = containerSeconds({
  ...GUEST_TIMING,
  pendingPackages: Object.keys(PENDING).length,
  restartedServices: RESTARTED.length,
  warmUpSeconds: WARM_UP_SECONDS,
});
const PER_NODE = GUEST_NODES.map((n) => benchContainers().filter((c) => c.node === n).length);
const CAPS = { maxParallel: MAX_PARALLEL, maxPerNode: MAX_PER_NODE };
/** The simulator's work in each phase (support/guest-bounds.ts): the runner's apt-get update runs in Preflight. */
const PHASE_WORK: Record<string, number> = {
  Preflight: GUEST_TIMING.aptUpdateSeconds,
  BackingUp: GUEST_TIMING.snapshotSeconds,
  Baseline: 0,
  Updating: Object.keys(PENDING).length * GUEST_TIMING.aptPackageSeconds,
  Restarting: RESTARTED.length * 0.5,
  Verifying: WARM_UP_SECONDS,
};

interface Outcome {
  succeeded: number;
  /** GuestUpdates the plan made (containers started this cycle). */
  started: number;
  /** GuestUpdates in a final phase. */
  finished: number;
  moved: number;
  snapshotted: number;
  phases: Record<string, number>;
  /** The first few containers that did not succeed, with their last error. */
  failures: string[];
  /** Sim seconds from the cycle's start to its last container's end. */
  makespanS: number;
  /** Mean sim seconds one container's update took (start to final phase). */
  meanContainerS: number;
  /** Mean sim seconds per flow phase. */
  phaseS: Record<string, number>;
}

const ms = (t: unknown): number => (typeof t === "string" ? Date.parse(t) : NaN);

function makespanOf(objects: StoredObject[], children: StoredObject[]): number {
  const plan = objects.find((o) => o.kind === "GuestUpdatePlan" && o.metadata.name === PLAN_NAME);
  const last = plan?.status?.lastCycle as { startedAt?: string; finishedAt?: string } | undefined;
  const starts = children.map((c) => ms(c.status?.startedAt)).filter(Number.isFinite);
  const ends = children.map((c) => ms(c.status?.finishedAt)).filter(Number.isFinite);
  const start = Number.isFinite(ms(last?.startedAt)) ? ms(last?.startedAt) : Math.min(...starts);
  const end = Number.isFinite(ms(last?.finishedAt)) ? ms(last?.finishedAt) : Math.max(...ends);
  return (end - start) / 1000;
}

function outcomeOf(sim: SimHandle, cycle: GuestCycle): Outcome {
  const children = cycle.objects.filter((o) => o.kind === "GuestUpdate");
  const phases: Record<string, number> = {};
  for (const c of children) {
    const p = String(c.status?.phase ?? "none");
    phases[p] = (phases[p] ?? 0) + 1;
  }
  const guests = sim.snapshot().guests;
  let moved = 0;
  let snapshotted = 0;
  for (const { vmid } of benchContainers()) {
    const g = guests[String(vmid)];
    const installed = g?.contents?.os.apt?.installed ?? {};
    if (Object.entries(PENDING).every(([n, v]) => installed[n]?.version === v.candidate)) moved++;
    if ((g?.snapshots ?? []).filter((s) => s.name.startsWith("refit-")).length === 1) snapshotted++;
  }
  const durations = children
    .map((c) => ms(c.status?.finishedAt) - ms(c.status?.startedAt))
    .filter(Number.isFinite);
  const failures = children
    .filter((c) => c.status?.phase !== "Succeeded")
    .slice(0, 3)
    .map(
      (c) =>
        `CT ${String(c.spec.vmid)} ${String(c.status?.phase)}: ${JSON.stringify(c.status?.lastError ?? null)}`,
    );
  return {
    failures,
    succeeded: phases.Succeeded ?? 0,
    started: children.length,
    finished: children.filter((c) => FINAL.has(String(c.status?.phase))).length,
    moved,
    snapshotted,
    phases,
    makespanS: children.length > 0 ? makespanOf(cycle.objects, children) : NaN,
    meanContainerS: durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length) / 1000,
    phaseS: phaseMeans(cycle.state, children),
  };
}

/** Throws with what is missing when the pipeline did not run end to end. */
function assertRan(cycle: GuestCycle, o: Outcome): void {
  const why: string[] = [];
  if (cycle.killed) why.push(`the controller did not finish within its real-time limit and was killed`);
  if (o.succeeded === 0)
    why.push(
      `${o.succeeded} of ${CONTAINERS} GuestUpdates Succeeded (children by phase: ${JSON.stringify(o.phases)})`,
    );
  if (why.length === 0) return;
  throw new Error(
    `guest-update bench: the pipeline did not run end to end at ${SCALE}x: ${why.join("; ")}\n` +
      `state directory ${cycle.state}; controller output (tail):\n${cycle.outputTail}`,
  );
}

function rows(o: Outcome, cycle: GuestCycle, ssh: number, all: number): BenchRow[] {
  const lb = lowerBound(EACH, PER_NODE, CAPS);
  const seq = sequentialMakespan(EACH, CONTAINERS);
  const ok =
    cycle.code === 0 && o.succeeded === CONTAINERS && o.moved === CONTAINERS && o.snapshotted === CONTAINERS;
  // A cycle that stopped early (a stalled plan) is no makespan of the whole fleet: never a goal met.
  const whole = o.finished === CONTAINERS;
  const tag = `@${SCALE}x${whole ? "" : ` (only ${o.finished}/${CONTAINERS} CTs)`}`;
  return [
    {
      name: `makespan ${tag} vs lower bound`,
      value: `${o.makespanS.toFixed(0)} s`,
      bound: `${lb.toFixed(0)} s`,
      ratio: o.makespanS / lb,
      verdict: whole && o.makespanS <= lb * LOWER_BOUND_GOAL ? "GOAL MET" : "BELOW GOAL",
    },
    {
      name: `speed-up ${tag} vs sequential`,
      value: `${o.makespanS.toFixed(0)} s`,
      bound: `${seq.toFixed(0)} s`,
      ratio: seq / o.makespanS,
      verdict: whole && seq / o.makespanS >= SPEEDUP_GOAL ? "GOAL MET" : "BELOW GOAL",
    },
    {
      name: "exit/succeeded/moved/snapshotted",
      value: `${String(cycle.code)}/${o.succeeded}/${o.moved}/${o.snapshotted}`,
      bound: `0/${CONTAINERS}/${CONTAINERS}/${CONTAINERS}`,
      verdict: ok ? "PASS" : "FAIL",
    },
    {
      name: "mean time per container",
      value: `${o.meanContainerS.toFixed(1)} s`,
      bound: `${EACH.toFixed(1)} s`,
      ratio: o.meanContainerS / EACH,
      verdict: "INFO",
    },
    ...FLOW_PHASES.filter((p) => o.phaseS[p] !== undefined).map((p): BenchRow => ({
      name: `  of which ${p}`,
      value: `${o.phaseS[p]!.toFixed(1)} s`,
      bound: `${(PHASE_WORK[p] ?? 0).toFixed(1)} s`,
      verdict: "INFO",
    })),
    {
      name: "SSH round trips per container",
      value: (ssh / Math.max(1, o.started)).toFixed(1),
      bound: "-",
      verdict: "INFO",
    },
    {
      name: "commands per container (all)",
      value: (all / Math.max(1, o.started)).toFixed(1),
      bound: "-",
      verdict: "INFO",
    },
    {
      name: `controller CPU ${tag}`,
      value: `${(cycle.usage?.cpuS ?? 0).toFixed(1)} s`,
      bound: `real ${(cycle.realMs / 1000).toFixed(1)} s`,
      verdict: "INFO",
    },
    {
      name: `controller peak RSS ${tag}`,
      value: `${((cycle.usage?.peakKiB ?? 0) / 1024).toFixed(0)} MiB`,
      bound: "-",
      verdict: "INFO",
    },
  ];
}

export async function run(): Promise<BenchReport> {
  const clock = new ScaledClock(SCALE);
  const sim = await startSimulator({ fleet: guestFleet(), clock });
  try {
    const cycle = await runGuestCycle(sim, clock);
    const o = outcomeOf(sim, cycle);
    assertRan(cycle, o);
    const commands = sim.history().commands;
    const ssh = commands.filter((c) => c.via === "ssh").length;
    return {
      title: `guest-update: ${CONTAINERS} CTs on ${GUEST_NODES.length} nodes, 2 apt packages each, concurrency ${MAX_PARALLEL} / ${MAX_PER_NODE} per node`,
      rows: rows(o, cycle, ssh, commands.length),
      notes: [
        `work per CT ${EACH.toFixed(1)} s: snapshot ${GUEST_TIMING.snapshotSeconds}s + apt-get update ${GUEST_TIMING.aptUpdateSeconds}s + 2 x ${GUEST_TIMING.aptPackageSeconds}s per package + ${RESTARTED.length} x 0.5s restarts + ${WARM_UP_SECONDS}s health warm-up`,
        `effective concurrency ${effectiveConcurrency(PER_NODE, CAPS)} (min of maxParallel ${MAX_PARALLEL} and ${GUEST_NODES.length} nodes x ${MAX_PER_NODE}); lower bound = total work / it`,
        `goals: makespan <= ${LOWER_BOUND_GOAL}x the lower bound, >= ${SPEEDUP_GOAL}x faster than sequential; only the correctness row is PASS/FAIL`,
        `SSH round trips = the simulator's commands that arrived over SSH, per container started; "all" adds those run in units and by pct exec; children by phase ${JSON.stringify(o.phases)}`,
        ...o.failures,
      ],
    };
  } finally {
    await sim.stop();
  }
}
