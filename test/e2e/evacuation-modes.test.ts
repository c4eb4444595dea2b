/**
 * Evacuation modes end to end against the simulator: HAMaintenance puts the node into HA maintenance
 * before its reboot and takes it out only once its LRM runs again; Shutdown stops the guests before
 * the reboot (forcing one that ignores the request) and starts exactly those again afterwards,
 * whatever their onboot.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { runOnce } from "../support/run-once.js";
import { placement, ROLLING_HOME, rollingPlan, simDesiredState } from "../support/sim-desired.js";

const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function patch(fleet: string, evacuation: string, prepare: (s: SimHandle) => void = () => undefined) {
  const clock = new ScaledClock(50);
  sim = await startSimulator({ fleet: join(import.meta.dirname, "fleets", fleet), clock });
  prepare(sim);
  const desired = simDesiredState(sim, rollingPlan(`  evacuation: ${evacuation}\n`));
  const { code, out, err, phases, patches } = await runOnce({ desired, clock, timing: TIMING });
  return { code, out, err, phases, patches, history: sim.history(), snapshot: sim.snapshot() };
}

function rebootCommandAt(history: ReturnType<SimHandle["history"]>, host: string): number {
  const at = history.commands.find((c) => c.host === host && /systemctl reboot/.test(c.command))?.at;
  expect(at, `${host} was rebooted`).toBeDefined();
  return at!;
}

describe("evacuation mode HAMaintenance", () => {
  it("enables maintenance before the reboot, lets HA move the HA guests, disables it only once the LRM is active", async () => {
    const r = await patch("rolling.yaml", "{ mode: HAMaintenance }");
    expect({ code: r.code, phases: r.phases, out: r.out }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
    });
    const ha = r.history.ha.filter((e) => e.node === "pve1");
    const rebootAt = rebootCommandAt(r.history, "pve1");
    const enable = ha.find((e) => e.event === "maintenance-enable");
    const disable = ha.find((e) => e.event === "maintenance-disable");
    expect(enable?.at, "maintenance enabled before the reboot").toBeLessThan(rebootAt);
    // VM 101 (HA-managed) left through HA, before the reboot; the others were migrated by Refit.
    const out101 = r.history.migrations.find((m) => m.vmid === 101 && m.from === "pve1");
    expect(out101).toMatchObject({ via: "ha", ok: true });
    expect(out101!.endedAt).toBeLessThan(rebootAt);
    expect(
      r.history.migrations
        .filter((m) => m.from === "pve1" && m.via === "cli" && m.startedAt < rebootAt)
        .map((m) => m.vmid)
        .sort(),
    ).toEqual([100, 200]);
    // Disabled after the node came back, and only while its pve-ha-lrm was active.
    expect(disable?.at).toBeGreaterThan(rebootAt);
    expect(disable?.lrmService).toBe("active");
    // Nothing left in maintenance; every guest home (HA brought 101 back itself).
    const c = r.snapshot.clusters["pve-lab"]!;
    expect(Object.entries(c.maintenanceRequested).filter(([, on]) => on)).toEqual([]);
    expect([c.haNodeStatus.pve1, c.haNodeStatus.pve2]).toEqual(["online", "online"]);
    expect(placement(r.snapshot)).toEqual(ROLLING_HOME);
    const pve1 = r.patches.find((p) => p.spec.host === "pve1");
    expect(pve1?.status?.haMaintenance).toMatchObject({ guests: [101] });
    expect((pve1?.status?.haMaintenance as { leftAt?: string } | undefined)?.leftAt).toBeDefined();
  }, 240_000);
});

describe("evacuation mode Shutdown", () => {
  it("stops the running guests before the reboot (forcing one that ignores it) and starts exactly those again, onboot or not", async () => {
    const r = await patch("shutdown.yaml", '{ mode: Shutdown, shutdownTimeout: "30s" }', (s) =>
      s.faults.add({ kind: "ignoresShutdown", vmid: 102 }),
    );
    expect({ code: r.code, phases: r.phases, out: r.out }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Skipped", pve3: "Skipped" },
    });
    const rebootAt = rebootCommandAt(r.history, "pve1");
    const stops = r.history.guestEvents.filter((e) => e.event === "stop" && e.at < rebootAt);
    expect(stops.map((e) => e.vmid).sort()).toEqual([100, 101, 102, 200]);
    expect(stops.find((e) => e.vmid === 102)?.reason).toMatch(/forced/);
    expect(stops.find((e) => e.vmid === 100)?.reason).not.toMatch(/forced/);
    expect(r.history.migrations).toEqual([]);
    const byVmid = Object.fromEntries(
      Object.values(r.snapshot.guests).map((g) => [g.vmid, [g.node, g.status]]),
    );
    expect(byVmid).toEqual({
      100: ["pve1", "running"],
      101: ["pve1", "running"],
      102: ["pve1", "running"],
      103: ["pve1", "stopped"], // it was not running, so it is not started
      200: ["pve1", "running"],
      201: ["pve2", "running"],
    });
    const shutdowns = r.patches.find((p) => p.spec.host === "pve1")?.status?.shutdowns as
      { vmid: number; state: string; forced?: boolean }[] | undefined;
    expect(shutdowns?.map((s) => [s.vmid, s.state, s.forced ?? false])).toEqual([
      [100, "Started", false],
      [101, "Started", false],
      [102, "Started", true],
      [200, "Started", false],
    ]);
  }, 240_000);
});
