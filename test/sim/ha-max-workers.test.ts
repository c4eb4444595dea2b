import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "./ssh-client.js";

/**
 * datacenter.cfg `max_workers` bounds how many HA workers a node's LRM runs at once, and LRM.pm
 * run_workers starts the round's queued work as soon as a worker ends (it polls every second for 8 s
 * of the round), so a third migration does not wait for the next round. Sources: pve-ha-manager
 * src/PVE/HA/LRM.pm run_workers, src/PVE/HA/Env/PVE2.pm get_max_workers (`max_workers || 4`),
 * pve-manager PVE::API2::Cluster get_options (GET /cluster/options returns datacenter.cfg).
 */

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const VMS = [101, 102, 103];

function fleet(maxWorkers?: number): FleetInput {
  return {
    // 4 GiB at 1000 MiB/s: each live migration takes about 4 s, well inside one 10 s round.
    timing: { migrationMiBps: 1000, haRoundSeconds: 10 },
    clusters: [
      {
        name: "lab",
        ...(maxWorkers !== undefined ? { maxWorkers } : {}),
        storages: [{ name: "ceph", type: "rbd", content: ["images", "rootdir"] }],
        nodes: ["pve1", "pve2", "pve3"].map((name) => ({
          name,
          kernel: { running: "6.8.12-9-pve" },
          memoryGiB: 64,
        })),
        guests: VMS.map((vmid) => ({
          vmid,
          type: "qemu" as const,
          name: `ha${vmid}`,
          node: "pve1",
          memoryMiB: 4096,
          ha: true,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
        })),
      },
    ],
  };
}

async function migrateAll(s: SimHandle): Promise<void> {
  for (const vmid of VMS) expect((await run(s, "pve1", `ha-manager migrate vm:${vmid} pve2`)).code).toBe(0);
  await eventually(
    () => s.history().migrations.filter((m) => m.via === "ha" && m.endedAt > 0).length === VMS.length,
    "the three HA migrations to end",
    60_000,
  );
}

/** Most migrations running at the same instant. */
function peak(ms: { startedAt: number; endedAt: number }[]): number {
  return Math.max(
    ...ms.map((m) => ms.filter((o) => o.startedAt <= m.startedAt && o.endedAt > m.startedAt).length),
  );
}

describe("HA max_workers (datacenter.cfg)", () => {
  it("pvesh get /cluster/options shows max_workers when it is set, nothing when it is not", async () => {
    sim = await startSimulator({ fleet: fleet(2), clock: new ScaledClock(100) });
    const set = await run(sim, "pve2", "pvesh get /cluster/options --output-format json");
    expect(JSON.parse(set.stdout)).toEqual({ max_workers: 2 });
    await sim.stop();
    sim = await startSimulator({ fleet: fleet(), clock: new ScaledClock(100) });
    const unset = await run(sim, "pve2", "pvesh get /cluster/options --output-format json");
    expect(JSON.parse(unset.stdout)).toEqual({});
  }, 30_000);

  it("max_workers 2: never more than two at once; the third starts as soon as one ends, in the same round", async () => {
    sim = await startSimulator({ fleet: fleet(2), clock: new ScaledClock(100) });
    await migrateAll(sim);
    const ms = sim.history().migrations.filter((m) => m.via === "ha");
    expect(peak(ms)).toBe(2);
    const starts = ms.map((m) => m.startedAt).sort((a, b) => a - b);
    const firstEnd = Math.min(...ms.map((m) => m.endedAt));
    expect(starts[2]!).toBeGreaterThanOrEqual(firstEnd);
    // Polled every second, not deferred to the next 10 s round.
    expect(starts[2]! - firstEnd).toBeLessThan(2_000);
  }, 60_000);

  it("unset: the LRM's default of 4 runs all three at once", async () => {
    sim = await startSimulator({ fleet: fleet(), clock: new ScaledClock(100) });
    await migrateAll(sim);
    expect(peak(sim.history().migrations.filter((m) => m.via === "ha"))).toBe(3);
  }, 60_000);
});
