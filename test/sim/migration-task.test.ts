/**
 * A migration ends with its task, not with the arrival: the VM runs on the target while the
 * qmigrate task still runs its cleanup and `lock: migrate` is held (QemuMigrate phase3_cleanup:
 * move config, resume on target, stop source, free local copies, `qm unlock`); a reboot of the
 * source in that tail kills the task and leaves the lock. See src/pve/REFERENCE-migration.md.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { CLEANUP_SECONDS, KILLED_TASK_STATUS } from "../../src/sim/ops/migrate.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const LAB: FleetInput = {
  clusters: [
    {
      name: "lab",
      storages: [{ name: "ceph", type: "rbd" }],
      nodes: [
        { name: "big", kernel: { running: "6.8.12-9-pve" }, memoryGiB: 64 },
        { name: "spare", kernel: { running: "6.8.12-9-pve" }, memoryGiB: 64 },
        { name: "third", kernel: { running: "6.8.12-9-pve" }, memoryGiB: 64 },
      ],
      guests: [
        {
          vmid: 300,
          type: "qemu",
          name: "app",
          node: "big",
          memoryMiB: 2048,
          disks: [{ storage: "ceph", sizeGiB: 20 }],
        },
      ],
    },
  ],
};

function guest(s: SimHandle, vmid: number): { node: string; status: string; lock?: string } {
  return s.snapshot().guests[String(vmid)]!;
}

type Task = { upid: string; type: string; id: string; status?: string; starttime: number; endtime?: number };

async function tasks(s: SimHandle, on: string, path: string): Promise<Task[]> {
  return JSON.parse((await run(s, on, `pvesh get ${path} --output-format json`)).stdout) as Task[];
}

describe("migration task and lock tail", () => {
  it("the VM runs on the target, locked, while the qmigrate task still runs; the task ends OK and unlocks", async () => {
    // Four readers look inside the 4 s cleanup tail: at 2x that is 2 s of real time, enough for a
    // loaded machine's SSH round trips (at 10x it was 0.4 s and flaked under CI load).
    const s = (sim = await startSimulator({ fleet: LAB, clock: new ScaledClock(2) }));
    const c = await SimSsh.connect(s, "big");
    const migration = c.exec("qm migrate 300 spare --online 1");
    await eventually(() => guest(s, 300).node === "spare", "the config on the target", 30_000);
    expect(guest(s, 300)).toMatchObject({ node: "spare", status: "running", lock: "migrate" });
    // What a reader sees on the target: qm config and the API config carry the lock.
    expect((await run(s, "spare", "qm config 300")).stdout).toMatch(/^lock: migrate$/m);
    const cfg = JSON.parse(
      (await run(s, "spare", "pvesh get /nodes/spare/qemu/300/config --output-format json")).stdout,
    ) as Record<string, unknown>;
    expect(cfg.lock).toBe("migrate");
    const active = await tasks(s, "spare", "/nodes/big/tasks --source active");
    expect(active).toMatchObject([{ type: "qmigrate", id: "300" }]);
    expect(active[0]).not.toHaveProperty("status");
    const cluster = await tasks(s, "spare", "/cluster/tasks");
    expect(cluster.find((t) => t.upid === active[0]!.upid)).not.toHaveProperty("status");
    const r = await migration;
    c.close();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/migration finished successfully/);
    expect(guest(s, 300).lock).toBeUndefined();
    const done = (await tasks(s, "spare", "/nodes/big/tasks --source all --vmid 300")).find(
      (t) => t.upid === active[0]!.upid,
    );
    expect(done).toMatchObject({ status: "OK" });
    // The cleanup tail after the arrival is real time on the task.
    const arrival = s.history().migrations.find((m) => m.vmid === 300)!;
    expect(arrival.ok).toBe(true);
    expect(done!.endtime! - done!.starttime).toBeGreaterThanOrEqual(CLEANUP_SECONDS);
  });

  it("a reboot of the source in the tail kills the task (not OK) and leaves the guest locked on the target", async () => {
    const s = (sim = await startSimulator({ fleet: LAB, clock: new ScaledClock(2) }));
    const c = await SimSsh.connect(s, "big");
    const migration = c.exec("qm migrate 300 spare --online 1").catch(() => undefined);
    await eventually(() => guest(s, 300).node === "spare", "the config on the target", 30_000);
    const upid = (await tasks(s, "spare", "/nodes/big/tasks --source active"))[0]!.upid;
    await run(s, "big", "reboot");
    await migration;
    await eventually(
      () => s.snapshot().tasks.find((t) => t.upid === upid)?.status !== undefined,
      "the task ended",
      30_000,
    );
    expect(s.snapshot().tasks.find((t) => t.upid === upid)?.status).toBe(KILLED_TASK_STATUS);
    expect(guest(s, 300)).toMatchObject({ node: "spare", status: "running", lock: "migrate" });
    expect(await run(s, "spare", "qm migrate 300 third --online 1")).toMatchObject({
      code: 255,
      stderr: "VM is locked (migrate)\n",
    });
  });

  it("qm migrate of an HA guest: an hamigrate task where it ran, then the LRM's qmigrate task on the source", async () => {
    const s = (sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(50) }));
    const r = await run(s, "pve1", "qm migrate 101 pve2 --online 1");
    expect(r).toMatchObject({ code: 0, stdout: "Requesting HA migration for VM 101 to node pve2\n" });
    const ha = (await tasks(s, "pve1", "/nodes/pve1/tasks --source all --vmid 101")).filter(
      (t) => t.type === "hamigrate",
    );
    expect(ha).toMatchObject([{ status: "OK" }]);
    await eventually(
      () => s.snapshot().tasks.some((t) => t.type === "qmigrate" && t.id === "101" && t.status === "OK"),
      "the LRM's qmigrate task ended OK",
      30_000,
    );
    const q = s.snapshot().tasks.find((t) => t.type === "qmigrate" && t.id === "101")!;
    expect(q.node).toBe("pve1");
    expect(q.starttime).toBeGreaterThanOrEqual(ha[0]!.starttime);
    expect(guest(s, 101)).toMatchObject({ node: "pve2", status: "running" });
    expect(guest(s, 101).lock).toBeUndefined();
  });
});
