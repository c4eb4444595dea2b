/**
 * A migration is proven by its task, not by the arrival. Proxmox resumes a VM on its target and
 * only then stops the source QEMU, frees the local copies and clears `lock: migrate`; the task ends
 * after that (src/pve/REFERENCE-migration.md). The fleet's VMs have 10 local disks each, so the
 * simulator holds each live migration's tail (lock held, task running) for 14 sim seconds.
 * The rolling patch must never reboot a node while a migration task from it (or any task on it)
 * runs, every migration task must end OK, and no guest may be left locked or away from home.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { placement, rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { runOnce } from "../support/run-once.js";

const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("a migration is done when its task ended OK and the guest is unlocked on its target", () => {
  it("no node is rebooted while a task on it runs; every migration task ends OK; no guest is left locked", async () => {
    const clock = new ScaledClock(25);
    sim = await startSimulator({ fleet: join(import.meta.dirname, "fleets", "migration-proof.yaml"), clock });
    const desired = simDesiredState(sim, rollingPlan());
    const { code, err, patches, phases } = await runOnce({ desired, clock, timing: TIMING });
    const history = sim.history();
    const snapshot = sim.snapshot();

    // The reboots, from the commands the nodes ran.
    const reboots = history.commands
      .filter((c) => /systemctl reboot/.test(c.command))
      .map((c) => ({ host: c.host, at: c.at }));
    expect(reboots.map((r) => r.host).sort()).toEqual(["pve1", "pve2"]);
    const migrationTasks = snapshot.tasks.filter((t) => t.type === "qmigrate" || t.type === "vzmigrate");
    expect(migrationTasks.length).toBeGreaterThan(0);
    // No task on a node ran at the moment it was told to reboot.
    const cut = reboots.flatMap((r) =>
      snapshot.tasks
        .filter(
          (t) =>
            t.node === r.host &&
            t.starttime * 1000 <= r.at &&
            (t.endtime === undefined || t.endtime * 1000 > r.at),
        )
        .map((t) => `${r.host} rebooted while ${t.upid} ran`),
    );
    expect(cut).toEqual([]);
    // Every migration task ended OK; every migration in the history succeeded.
    expect(migrationTasks.filter((t) => t.status !== "OK").map((t) => `${t.upid} ${t.status}`)).toEqual([]);
    expect(history.migrations.filter((m) => !m.ok)).toEqual([]);
    expect({ code, phases, err }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
    });
    expect(Object.values(snapshot.guests).filter((g) => g.lock !== undefined)).toEqual([]);
    expect(placement(snapshot)).toEqual([
      [100, "pve1", "running"],
      [102, "pve2", "running"],
      [200, "pve1", "running"],
    ]);
    // Each Done migration carries the UPID that proved it.
    for (const p of patches.filter((x) => x.spec.host !== "pve3")) {
      const recs = [
        ...((p.status?.migrations ?? []) as { state: string; taskId?: string }[]),
        ...((p.status?.migrationsToUndo ?? []) as { state: string; taskId?: string }[]),
      ];
      expect(recs.length).toBeGreaterThan(0);
      for (const m of recs) {
        expect(m.state).toBe("Done");
        expect(m.taskId).toMatch(/^UPID:pve\d:.*:(qmigrate|vzmigrate):/);
        expect(migrationTasks.find((t) => t.upid === m.taskId)?.status).toBe("OK");
      }
    }
  }, 300_000);
});
