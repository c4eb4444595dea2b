/**
 * holdPackages across a crash: the controller (a real process) is killed with SIGKILL once the
 * upgrade job has put the plan's package on hold; started again on the same state, it releases
 * exactly that hold, and the admin's own hold stays.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { spawnController } from "../support/controller-process.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { run } from "../sim/ssh-client.js";

const FLEET = join(import.meta.dirname, "fleets", "apt-packages.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const PLAN = rollingPlan("  upgrade: { holdPackages: [pve-manager, zfsutils-linux] }\n");

let sim: SimHandle | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sim?.stop();
  sim = undefined;
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode);
    else child.once("exit", (code) => done(code));
  });
}

describe("holdPackages survive no crash", () => {
  it("a controller killed while Refit's hold is on releases it after the restart, and only it", async () => {
    const clock = new ScaledClock(5);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, PLAN);
    const state = mkdtempSync(join(tmpdir(), "refit-hold-crash-"));
    const world = sim.world;
    const first = spawnController(desired, state, clock, TIMING);
    children.push(first);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !world.state.hosts.pve1?.apt.holds?.includes("pve-manager"))
      await new Promise((r) => setTimeout(r, 5));
    first.kill("SIGKILL");
    await exited(first);
    expect(world.state.hosts.pve1?.apt.holds).toContain("pve-manager");

    const second = spawnController(desired, state, clock, TIMING);
    children.push(second);
    let stderr = "";
    second.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await exited(second);
    const patches = Object.fromEntries(
      (await readState(state))
        .filter((o) => o.kind === "HostPatch")
        .map((o) => [String(o.spec.host), o.status as { phase?: string; heldPackages?: string[] }]),
    );
    expect({ code, pve1: patches.pve1?.phase, stderr: stderr.slice(-500) }).toMatchObject({
      code: 0,
      pve1: "Succeeded",
    });
    expect(patches.pve1?.heldPackages).toBeUndefined();
    expect((await run(sim, "pve1", "apt-mark showhold")).stdout).toBe("");
    expect((await run(sim, "pve2", "apt-mark showhold")).stdout).toBe("zfsutils-linux\n");
    const snap = sim.snapshot();
    expect(snap.hosts.pve1?.apt.installed["pve-manager"]?.version).toBe("8.4.1");
    expect(snap.hosts.pve1?.apt.installed["libpve-common-perl"]?.version).toBe("8.3.2");
  }, 180_000);
});
