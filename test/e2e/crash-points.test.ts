/**
 * Crash points, not only phases: the controller process is killed (SIGKILL, by the test hook in
 * controller/runtime/crash-points.ts) right AFTER every single durable state write, and right BEFORE
 * every single remote action, of a 3-node rolling patch; each time it is started again on the same
 * state directory and simulator, and must reach the same end state as a run that never crashed:
 *
 *   - HostPatch pve1 and pve2 Succeeded, pve3 Skipped, all three in the plan's cycle, the plan Succeeded;
 *   - exactly one reboot per patched node (boot_id history), none for pve3;
 *   - no migration twice;
 *   - every guest back on its home node and running.
 *
 * A clean run first counts the writes and actions of a whole cycle; then EVERY N from 1 to those
 * totals is run (no sampling, no stride), each on a fresh simulator from the same fleet and a fresh
 * state directory, so runs are independent; nothing is seeded randomly. The Nth write is the Nth of
 * that process: the reconcilers run concurrently, so which object it is can differ a little from run
 * to run (the label of the write it died after is printed with a violation). A cycle's totals also
 * vary by a write or two with polling; an N the crashed run never reaches ends as "finished before
 * N" and its restart must still change nothing. Two runs go at a time.
 *
 * One run is kept cheap: the controller is compiled once into a bundle (test/support/
 * controller-bundle.ts, ~0.3 s to start instead of ~1 s through bin/refit.js and tsx), the clock runs
 * at 500x, a simulator starts in ~50 ms. Measured on the 2-core machine: about 4 s a run, the whole
 * file about 3 minutes (5 with the machine loaded by other suites).
 *
 * A table of kind, N range, runs and violations is printed at the end, and every violating N is
 * listed with what it violated and what the state looked like (its state directory is kept).
 *
 * Knobs, for a person chasing one N (CI uses the defaults): REFIT_CRASH_ONLY=write:17,action:3 runs
 * only those points, REFIT_CRASH_VERBOSE=1 prints a line per run, REFIT_CRASH_ENTRY=bin runs
 * bin/refit.js instead of the bundle, REFIT_CRASH_SCALE (default 500), REFIT_CRASH_PARALLEL (default 2),
 * REFIT_CRASH_FLEET=rolling-ceph.yaml the same fleet with Ceph (then also: no noout flag left).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../controller/runtime/state-reader.js";
import type { CrashCounts, CrashKind } from "../../controller/runtime/crash-points.js";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { bundleController, type ControllerBundle } from "../support/controller-bundle.js";
import { REFIT_BIN, spawnControllerProcess } from "../support/controller-process.js";
import { ROLLING_HOME, ROLLING_PLAN, simDesiredState } from "../support/sim-desired.js";

/** REFIT_CRASH_FLEET=rolling-ceph.yaml runs the same cycle on hyper-converged Ceph (noout around each reboot). */
const FLEET = join(import.meta.dirname, "fleets", process.env.REFIT_CRASH_FLEET ?? "rolling.yaml");
const SCALE = Number(process.env.REFIT_CRASH_SCALE ?? 500);
const PARALLEL = Math.max(1, Number(process.env.REFIT_CRASH_PARALLEL ?? 2));
/**
 * Clock ms (sim time). At 500x a 5 s poll is 10 ms real (2 s polled so often that the polling itself
 * cost more than it saved); the reboot grace is long against the sim's 90 s reboot.
 */
const TIMING = { pollMs: 5_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 300_000 };
/** Real ms: a controller run that takes longer than this is killed and counted as a violation. */
const RUN_TIMEOUT_MS = 30_000;
/** REFIT_CRASH_VERBOSE=1 prints one line per run as it ends. */
const VERBOSE = Boolean(process.env.REFIT_CRASH_VERBOSE);

interface CrashAt {
  kind: CrashKind;
  n: number;
}

interface RunResult {
  crashAt?: CrashAt;
  /** How the first (hooked) controller ended. */
  first: "killed" | "finished" | "failed";
  /** The first controller's counters when it ended, and what its Nth event was. */
  counts: CrashCounts;
  resumeCode?: number | null;
  violations: string[];
  /** What the end state looked like, for a violating run. */
  state?: Record<string, unknown>;
  ms: number;
  firstMs?: number;
  resumeMs?: number;
}

const results: RunResult[] = [];
/**
 * Every controller this file started and has not seen end. A run cut short (a test timeout, the
 * worker torn down) must not leave controllers polling a dead simulator: they are killed at the end.
 */
const live = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}
/** Set when the file ends: a pool still running after a test timeout starts no further runs. */
let closing = false;
function killAll(): void {
  closing = true;
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
process.once("exit", killAll);
/** The controller compiled once (see controller-bundle.ts); REFIT_CRASH_ENTRY=bin runs bin/refit.js instead. */
let bundle: ControllerBundle | undefined;
let entry = REFIT_BIN;
let totals: CrashCounts = { writes: 0, actions: 0 };

function only(): CrashAt[] | undefined {
  const v = process.env.REFIT_CRASH_ONLY;
  if (!v) return undefined;
  return v.split(",").map((s) => {
    const [kind, n] = s.trim().split(":");
    if ((kind !== "write" && kind !== "action") || !(Number(n) >= 1))
      throw new Error(`REFIT_CRASH_ONLY: ${s}`);
    return { kind, n: Number(n) };
  });
}

/** Resolves with how `child` ended; kills it (and says so) after `ms`. */
function ended(
  child: ChildProcess,
  ms: number,
): Promise<{ code: number | null; signal: string | null; timedOut: boolean }> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      done({ code: child.exitCode, signal: child.signalCode, timedOut: false });
      return;
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      done({ code: null, signal: "timeout", timedOut: true });
    }, ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, timedOut: false });
    });
  });
}

function tail(text: string): string {
  return text.trim().split("\n").slice(-6).join("\n").slice(-1200);
}

/** The hooked controller's counters; the state directory is left out of the write labels. */
function readCounts(path: string, state: string): CrashCounts {
  if (!existsSync(path)) return { writes: 0, actions: 0 };
  const counts = JSON.parse(readFileSync(path, "utf8")) as CrashCounts;
  if (counts.lastWrite) counts.lastWrite = counts.lastWrite.replace(`${state}/`, "");
  return counts;
}

/** Every violation of the end state a crash-free run reaches, as sentences. */
async function endStateViolations(
  sim: SimHandle,
  state: string,
  bootsBefore: Record<string, string[]>,
): Promise<{ violations: string[]; picture: Record<string, unknown> }> {
  const v: string[] = [];
  const objects = await readState(state).catch(() => []);
  const plan = objects.find((o) => o.kind === "HostPatchPlan" && o.metadata.name === "pve-nodes");
  const cycle = plan?.status?.cycle as string | undefined;
  const patches = objects.filter((o) => o.kind === "HostPatch");
  const phases: Record<string, unknown> = {};
  for (const p of patches) phases[`${String(p.spec.host)}@${String(p.spec.cycle)}`] = p.status?.phase;

  if (plan?.status?.phase !== "Succeeded") v.push(`plan phase ${String(plan?.status?.phase)}, not Succeeded`);
  if (!cycle) v.push("the plan records no cycle");
  const want: Record<string, string> = { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" };
  for (const [host, phase] of Object.entries(want)) {
    const mine = patches.filter((p) => p.spec.host === host && p.spec.cycle === cycle);
    if (mine.length !== 1) v.push(`${mine.length} HostPatch objects for ${host} in cycle ${String(cycle)}`);
    else if (mine[0]?.status?.phase !== phase)
      v.push(
        `${host} is ${String(mine[0]?.status?.phase)}, not ${phase}: ${String(mine[0]?.status?.message ?? "")}`,
      );
  }
  // The plan's own account of the cycle: three targets, two patched, one up to date, none failed.
  const counts = {
    targets: plan?.status?.targets,
    succeeded: plan?.status?.succeeded,
    skipped: plan?.status?.skipped,
    failed: plan?.status?.failed ?? 0,
  };
  if (JSON.stringify(counts) !== JSON.stringify({ targets: 3, succeeded: 2, skipped: 1, failed: 0 }))
    v.push(`the plan counts ${JSON.stringify(counts)}, not 3 targets, 2 succeeded, 1 skipped, 0 failed`);
  const cycleHosts = plan?.status?.cycleHosts as string[] | undefined;
  if (cycleHosts !== undefined && [...cycleHosts].sort().join(",") !== "pve1,pve2,pve3")
    v.push(`the plan's cycle hosts are ${cycleHosts.join(",")}, not pve1,pve2,pve3`);
  const strangers = patches.filter((p) => !(String(p.spec.host) in want));
  if (strangers.length > 0)
    v.push(`HostPatch objects for unknown hosts: ${strangers.map((p) => String(p.spec.host)).join(", ")}`);

  const h = sim.history();
  const reboots: Record<string, number> = {};
  for (const host of ["pve1", "pve2", "pve3"]) {
    const n = (h.bootIds[host]?.length ?? 1) - (bootsBefore[host]?.length ?? 1);
    reboots[host] = n;
    const expected = host === "pve3" ? 0 : 1;
    if (n !== expected) v.push(`${host} rebooted ${n} times, expected ${expected}`);
  }
  const moves = h.migrations.map((m) => `${m.vmid}:${m.from}->${m.to}`);
  const dupes = [...new Set(moves.filter((m, i) => moves.indexOf(m) !== i))];
  if (dupes.length > 0) v.push(`migrated twice: ${dupes.join(" ")} (all: ${moves.join(" ")})`);
  // On a Ceph fleet: every noout this cycle set is unset again.
  const ceph = sim.snapshot().clusters["pve-lab"]?.ceph;
  if (ceph && (Object.keys(ceph.groupFlags).length > 0 || ceph.flags.length > 0))
    v.push(`Ceph flags left set: ${JSON.stringify({ groups: ceph.groupFlags, flags: ceph.flags })}`);
  const guests = Object.values(sim.snapshot().guests)
    .map((g): [number, string, string] => [g.vmid, g.node, g.status])
    .sort((a, b) => a[0] - b[0]);
  for (const [vmid, node, status] of ROLLING_HOME) {
    const g = guests.find((x) => x[0] === vmid);
    if (!g) v.push(`guest ${vmid} is gone`);
    else if (g[1] !== node || g[2] !== status)
      v.push(`guest ${vmid} is ${g[2]} on ${g[1]}, not ${status} on ${node}`);
  }

  const picture = {
    plan: {
      phase: plan?.status?.phase,
      cycle,
      ready: plan?.status?.conditions?.find((c) => c.type === "Ready"),
    },
    hostPatches: patches.map((p) => ({
      host: p.spec.host,
      cycle: p.spec.cycle,
      phase: p.status?.phase,
      message: p.status?.message,
      currentStep: p.status?.currentStep,
      lastError: p.status?.lastError,
    })),
    phases,
    reboots,
    migrations: moves,
    guests,
  };
  return { violations: v, picture };
}

/**
 * One run: a fresh simulator and state directory; the controller with the hook (none for the clean
 * run) until it dies or finishes; then, after a crash, the controller again without the hook on the
 * same state directory and simulator until `run --once` exits (also when the first one finished: a
 * restart after the cycle must not redo any of it); then the end state.
 */
async function crashRun(crashAt: CrashAt | undefined, resume = true): Promise<RunResult> {
  const t0 = Date.now();
  const clock = new ScaledClock(SCALE);
  const children: ChildProcess[] = [];
  let sim: SimHandle | undefined;
  let desired: string | undefined;
  const scratch = mkdtempSync(join(tmpdir(), "refit-crash-points-"));
  const state = join(scratch, "state");
  const countFile = join(scratch, "counts.json");
  const result: RunResult = { first: "failed", counts: { writes: 0, actions: 0 }, violations: [], ms: 0 };
  if (crashAt) result.crashAt = crashAt;
  try {
    sim = await startSimulator({ fleet: FLEET, clock });
    desired = simDesiredState(sim, ROLLING_PLAN);
    const bootsBefore = sim.history().bootIds;

    const first = spawnControllerProcess({
      desired,
      state,
      clock,
      timing: TIMING,
      entry,
      env: {
        REFIT_CRASH_AT: crashAt ? `${crashAt.kind}:${crashAt.n}` : undefined,
        REFIT_CRASH_COUNT_FILE: countFile,
      },
    });
    children.push(track(first));
    let firstErr = "";
    first.stderr?.on("data", (d: Buffer) => (firstErr += d.toString()));
    const a = await ended(first, RUN_TIMEOUT_MS);
    result.firstMs = Date.now() - t0;
    result.counts = readCounts(countFile, state);
    const reached = crashAt ? (crashAt.kind === "write" ? result.counts.writes : result.counts.actions) : 0;
    if (a.signal === "SIGKILL") {
      result.first = "killed";
      if (!crashAt || reached !== crashAt.n)
        result.violations.push(`the hooked controller died by SIGKILL at ${reached}, not at N`);
    } else if (a.code === 0 && (!crashAt || reached < crashAt.n)) {
      result.first = "finished";
    } else {
      result.violations.push(
        `the hooked controller ended with code ${String(a.code)} signal ${String(a.signal)} at ${reached}: ${tail(firstErr)}`,
      );
    }

    if (resume) {
      const second = spawnControllerProcess({
        desired,
        state,
        clock,
        timing: TIMING,
        entry,
        env: { REFIT_CRASH_AT: undefined, REFIT_CRASH_COUNT_FILE: undefined },
      });
      children.push(track(second));
      let err = "";
      second.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      const b = await ended(second, RUN_TIMEOUT_MS);
      result.resumeMs = Date.now() - t0 - result.firstMs;
      result.resumeCode = b.code;
      if (b.code !== 0)
        result.violations.push(
          `the resumed controller ended with code ${String(b.code)} signal ${String(b.signal)}: ${tail(err)}`,
        );
    }

    const end = await endStateViolations(sim, state, bootsBefore);
    result.violations.push(...end.violations);
    if (result.violations.length > 0) result.state = { ...end.picture, stateDir: state };
  } catch (err) {
    result.violations.push(`the run itself failed: ${String(err)}`);
  } finally {
    // A run that failed or timed out must not leave a controller behind.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await sim?.stop();
    // Keep the state of a violating run for a person to read; drop the rest.
    if (result.violations.length === 0) {
      rmSync(scratch, { recursive: true, force: true });
      if (desired) rmSync(desired, { recursive: true, force: true });
    } else if (result.state && desired) result.state.desiredDir = desired;
    result.ms = Date.now() - t0;
  }
  return result;
}

/** Runs `points` PARALLEL at a time, in order of N. */
async function enumerate(points: CrashAt[]): Promise<RunResult[]> {
  const out: RunResult[] = new Array<RunResult>(points.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < points.length && !closing; i = next++) {
      const r = await crashRun(points[i]);
      out[i] = r;
      results.push(r);
      if (VERBOSE) console.log(runLine(r));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, points.length) }, worker));
  return out;
}

function runLine(r: RunResult): string {
  const what = r.crashAt?.kind === "write" ? r.counts.lastWrite : r.counts.lastAction;
  return `${r.crashAt?.kind}:${r.crashAt?.n} ${r.first} (${r.counts.writes} writes, ${r.counts.actions} actions, last "${what ?? ""}") resume ${String(r.resumeCode)} ${r.ms} ms (${r.firstMs}+${r.resumeMs}) ${r.violations.length ? `VIOLATED: ${r.violations.join("; ")}` : "ok"}`;
}

function describeViolations(runs: RunResult[]): string {
  return runs
    .filter((r) => r.violations.length > 0)
    .map(
      (r) =>
        `${r.crashAt?.kind}:${r.crashAt?.n} (died after "${
          r.crashAt?.kind === "write" ? r.counts.lastWrite : r.counts.lastAction
        }")\n  - ${r.violations.join("\n  - ")}\n  state: ${JSON.stringify(r.state)}`,
    )
    .join("\n");
}

function points(kind: CrashKind, total: number): CrashAt[] {
  const chosen = only()?.filter((p) => p.kind === kind);
  const list = chosen ?? Array.from({ length: total }, (_, i) => ({ kind, n: i + 1 }));
  // Never pass vacuously: a test that crashed nothing proved nothing.
  if (list.length === 0)
    throw new Error(`no ${kind} crash points selected (REFIT_CRASH_ONLY=${process.env.REFIT_CRASH_ONLY})`);
  return list;
}

describe("crash points: killed right after EVERY durable write and right before EVERY remote action, the controller resumes to the same end state", () => {
  beforeAll(async () => {
    if (process.env.REFIT_CRASH_ENTRY !== "bin") {
      bundle = await bundleController();
      entry = bundle.entry;
    }
    const clean = await crashRun(undefined, false);
    expect(clean.violations, `the crash-free run itself: ${JSON.stringify(clean.state)}`).toEqual([]);
    totals = clean.counts;
    console.log(
      `crash points: a clean cycle makes ${totals.writes} durable writes and ${totals.actions} remote actions (${clean.ms} ms at scale ${SCALE})`,
    );
  }, 45_000);

  it("write:N for every N from 1 to the writes of a clean cycle", async () => {
    expect(
      totals.writes,
      "a clean cycle counted no durable writes: afterDurableWrite is not wired",
    ).toBeGreaterThan(0);
    const runs = await enumerate(points("write", totals.writes));
    const bad = runs.filter((r) => r.violations.length > 0);
    expect(bad.length, describeViolations(runs)).toBe(0);
  }, 480_000);

  it("action:N for every N from 1 to the remote actions of a clean cycle", async () => {
    if (totals.actions === 0) {
      throw new Error(
        "no remote action crash points: beforeRemoteAction is not wired (a clean cycle counted 0 remote actions; the HostPatch applier must call beforeRemoteAction before each upgrade job start, migration start, HA maintenance, shutdown, reboot and start — see controller/runtime/crash-points.ts)",
      );
    }
    const runs = await enumerate(points("action", totals.actions));
    const bad = runs.filter((r) => r.violations.length > 0);
    expect(bad.length, describeViolations(runs)).toBe(0);
  }, 75_000);

  afterAll(() => {
    killAll();
    bundle?.remove();
    const rows = [
      ["kind", "N range", "runs", "died at N", "finished before N", "violations", "violating N", "mean ms"],
    ];
    for (const kind of ["write", "action"] as const) {
      const mine = results
        .filter((r) => r.crashAt?.kind === kind)
        .sort((a, b) => (a.crashAt?.n ?? 0) - (b.crashAt?.n ?? 0));
      const ns = mine.map((r) => r.crashAt?.n ?? 0);
      const total = kind === "write" ? totals.writes : totals.actions;
      rows.push([
        kind,
        mine.length ? `${Math.min(...ns)}..${Math.max(...ns)} of ${total}` : `none of ${total}`,
        String(mine.length),
        String(mine.filter((r) => r.first === "killed").length),
        String(mine.filter((r) => r.first === "finished").length),
        String(mine.filter((r) => r.violations.length > 0).length),
        mine
          .filter((r) => r.violations.length > 0)
          .map((r) => r.crashAt?.n)
          .join(",") || "-",
        mine.length ? String(Math.round(mine.reduce((s, r) => s + r.ms, 0) / mine.length)) : "-",
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")).join("\n"));
  });
});
