/**
 * Kill the controller (SIGKILL, a real process) at seeded points in every phase of the rolling patch,
 * start it again on the same state directory, and prove from the simulator's own history that the
 * end state is the same: every node with updates rebooted exactly once, no guest migrated twice, no
 * step lost, every guest back home.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { spawnController } from "../support/controller-process.js";
import { placement, ROLLING_HOME, ROLLING_PLAN, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "rolling.yaml");
const SCALE = 60;
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const PHASES = [
  "Preflight",
  "Upgrading",
  "Evacuating",
  "Rebooting",
  "AwaitingReturn",
  "Verifying",
  "Restoring",
  "Succeeded",
] as const;
const RUNS = Number(process.env.REFIT_CRASH_RUNS ?? 20);

const covered = new Map<string, number>();

function startController(desired: string, state: string, clock: ScaledClock): ChildProcess {
  return spawnController(desired, state, clock, TIMING);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode);
    else child.once("exit", (code) => done(code));
  });
}

/** The furthest phase any HostPatch has reached, by the order of PHASES. */
async function furthestPhase(state: string): Promise<{ index: number; phase: string }> {
  const objects = await readState(state).catch(() => []);
  let best = { index: -1, phase: "none" };
  for (const o of objects.filter((x) => x.kind === "HostPatch" && x.spec.host !== "pve3")) {
    const phase = o.status?.phase ?? "Pending";
    const index = PHASES.indexOf(phase as (typeof PHASES)[number]);
    if (phase === "Succeeded" && o.spec.host === "pve1") continue; // pve2's flow is the second half
    if (index > best.index) best = { index, phase };
  }
  return best;
}

async function oneRun(seed: number): Promise<void> {
  const target = seed % PHASES.length;
  const extraMs = fc.sample(fc.integer({ min: 0, max: 400 }), { seed, numRuns: 1 })[0] ?? 0;
  const clock = new ScaledClock(SCALE);
  let sim: SimHandle | undefined;
  const children: ChildProcess[] = [];
  try {
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, ROLLING_PLAN);
    const state = mkdtempSync(join(tmpdir(), "refit-crash-"));
    const bootsBefore = sim.history().bootIds;

    const first = startController(desired, state, clock);
    children.push(first);
    const deadline = Date.now() + 90_000;
    let at = { index: -1, phase: "none" };
    while (Date.now() < deadline && first.exitCode === null) {
      at = await furthestPhase(state);
      if (at.index >= target) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, extraMs));
    at = await furthestPhase(state);
    first.kill("SIGKILL");
    await exited(first);
    covered.set(at.phase, (covered.get(at.phase) ?? 0) + 1);

    const second = startController(desired, state, clock);
    children.push(second);
    let stderr = "";
    second.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await exited(second);
    const objects = await readState(state);
    const phases = Object.fromEntries(
      objects.filter((o) => o.kind === "HostPatch").map((o) => [String(o.spec.host), o.status?.phase]),
    );
    expect({ seed, killedIn: at.phase, code, phases, stderr: stderr.slice(-500) }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
    });

    const h = sim.history();
    // Exactly one reboot per patched node, none for the up-to-date one.
    expect(h.bootIds.pve1?.length, `seed ${seed}`).toBe((bootsBefore.pve1?.length ?? 1) + 1);
    expect(h.bootIds.pve2?.length, `seed ${seed}`).toBe((bootsBefore.pve2?.length ?? 1) + 1);
    expect(h.bootIds.pve3?.length, `seed ${seed}`).toBe(bootsBefore.pve3?.length ?? 1);
    // No migration twice: each guest leaves its node once per drain and comes back once.
    const moves = h.migrations.map((m) => `${m.vmid}:${m.from}->${m.to}`);
    const dupes = moves.filter((m, i) => moves.indexOf(m) !== i);
    expect(dupes, `seed ${seed}: ${moves.join(" ")}`).toEqual([]);
    // No step lost: every guest is back home and running.
    expect(placement(sim.snapshot()), `seed ${seed}`).toEqual(ROLLING_HOME);
  } finally {
    // A run that failed or timed out must not leave a controller behind.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await sim?.stop();
  }
}

describe("crash-resume: the controller killed at random points resumes to the same end state", () => {
  for (let seed = 1; seed <= RUNS; seed++) {
    it.concurrent(
      `seed ${seed} (kill in or after ${PHASES[seed % PHASES.length]})`,
      () => oneRun(seed),
      240_000,
    );
  }

  afterAll(() => {
    // Every phase the flow dwells in was interrupted across the seeded runs. Rebooting and Verifying
    // are left within a reconcile or two (the reboot is recorded and issued in one step), so a timed
    // kill lands there only by luck; crash-points.test.ts kills after every single write instead.
    const seen = [...covered.keys()].sort();
    const dwelling = ["Upgrading", "Evacuating", "AwaitingReturn", "Restoring"];
    if (RUNS >= 8)
      expect(
        dwelling.filter((p) => !seen.includes(p)),
        `phases interrupted: ${seen.join(", ")}`,
      ).toEqual([]);
    expect(seen.length, `phases interrupted: ${seen.join(", ")}`).toBeGreaterThanOrEqual(Math.min(4, RUNS));
  });
});
