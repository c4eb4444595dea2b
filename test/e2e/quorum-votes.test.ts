/**
 * Quorum is real votes, end to end: a two-node cluster with a QDevice can be patched (the QDevice's
 * vote keeps quorum while one node reboots); with the QDevice unreachable it cannot, and the
 * keepsQuorum gate says why before anything moves.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { loadFleet } from "../../src/sim/fleet-load.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { recordingLogger } from "../support/recording.js";
import { runOnce } from "../support/run-once.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "two-node-qdevice.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function once(s: SimHandle, clock: ScaledClock) {
  const desired = simDesiredState(s, rollingPlan());
  const { code, out, objects, log } = await runOnce({ desired, clock, timing: TIMING, checkEveryMs: 50 });
  const hp = Object.fromEntries(
    objects.filter((o) => o.kind === "HostPatch").map((o) => [String(o.spec.host), o]),
  );
  return { code, out, hp, log };
}

/** Runs the controller until pve1 is Blocked; returns its message ("" when it never was). */
async function untilBlocked(s: SimHandle, clock: ScaledClock, host: string): Promise<string> {
  const desired = simDesiredState(s, rollingPlan());
  const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
  const controller = await Controller.open({
    desiredDir: desired,
    stateDir: state,
    clock,
    log: recordingLogger(),
    killSwitchPath: join(state, "STOP"),
    timing: TIMING,
  });
  await controller.start();
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const objects = await readState(state).catch(() => []);
      const hp = objects.find((o) => o.kind === "HostPatch" && o.spec.host === host);
      if (hp?.status?.phase === "Blocked") return hp.status.message ?? "";
      await new Promise((r) => setTimeout(r, 25));
    }
    return "";
  } finally {
    await controller.stop();
  }
}

describe("quorum votes (simulator over SSH)", () => {
  it("two nodes and a voting QDevice: both nodes are patched and rebooted, one at a time", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const bootsBefore = sim.history().bootIds;
    const { code, hp, log } = await once(sim, clock);
    expect({
      code,
      phases: [hp.pve1?.status?.phase, hp.pve2?.status?.phase],
      log: log.slice(-5),
    }).toMatchObject({
      code: 0,
      phases: ["Succeeded", "Succeeded"],
    });
    const history = sim.history();
    expect(history.bootIds.pve1).toHaveLength((bootsBefore.pve1?.length ?? 1) + 1);
    expect(history.bootIds.pve2).toHaveLength((bootsBefore.pve2?.length ?? 1) + 1);
    // Never both down at once.
    const downs = history.reboots.map((r) => r.host);
    expect(downs).toEqual(["pve1", "pve2"]);
  }, 120_000);

  it("two nodes and a QDevice that casts no vote: Blocked on keepsQuorum, naming the QDevice, and nothing moves", async () => {
    const clock = new ScaledClock(50);
    const fleet = loadFleet(FLEET);
    fleet.clusters[0]!.qdevice = { votes: 1, alive: false };
    sim = await startSimulator({ fleet, clock });
    const bootsBefore = sim.history().bootIds;
    const message = await untilBlocked(sim, clock, "pve1");
    expect(message).toMatch(
      /keepsQuorum \(rebooting pve1 would lose quorum: 1 votes remain, quorum needs 2; the QDevice casts no vote/,
    );
    const history = sim.history();
    expect(history.bootIds).toEqual(bootsBefore);
    expect(history.migrations).toEqual([]);
  }, 120_000);

  it("a node holding two votes beside a one-vote node and a QDevice (2+1+1, quorum 3) is Blocked; read as one vote it would have been rebooted", async () => {
    const clock = new ScaledClock(50);
    const fleet = loadFleet(FLEET);
    fleet.clusters[0]!.nodes[0]!.votes = 2;
    sim = await startSimulator({ fleet, clock });
    const bootsBefore = sim.history().bootIds;
    const message = await untilBlocked(sim, clock, "pve1");
    expect(message).toMatch(
      /keepsQuorum \(rebooting pve1 would lose quorum: 2 votes remain, quorum needs 3; pve1 holds 2 votes, 1 from the QDevice\)/,
    );
    expect(sim.history().bootIds.pve1).toEqual(bootsBefore.pve1);
  }, 120_000);
});
