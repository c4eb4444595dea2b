import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(fleet: FleetInput | string = FLEET, scale = 100): Promise<SimHandle> {
  sim = await startSimulator({ fleet, clock: new ScaledClock(scale) });
  return sim;
}

function guest(s: SimHandle, vmid: number): { node: string; status: string; lock?: string; parent?: string } {
  return s.snapshot().guests[String(vmid)]!;
}

const SMALL_TARGET: FleetInput = {
  clusters: [
    {
      name: "lab",
      storages: [{ name: "ceph", type: "rbd" }],
      nodes: [
        { name: "big", kernel: { running: "6.8.12-9-pve" }, memoryGiB: 64 },
        { name: "small", kernel: { running: "6.8.12-9-pve" }, memoryGiB: 8, hostMemoryGiB: 2 },
        { name: "spare", kernel: { running: "6.8.12-9-pve" }, memoryGiB: 64 },
      ],
      guests: [
        {
          vmid: 300,
          type: "qemu",
          name: "huge",
          node: "big",
          memoryMiB: 16384,
          disks: [{ storage: "ceph", sizeGiB: 20 }],
        },
        {
          vmid: 301,
          type: "lxc",
          name: "locked",
          node: "big",
          lock: "backup",
          status: "stopped",
          disks: [{ storage: "ceph", sizeGiB: 4 }],
        },
      ],
    },
  ],
};

describe("migration", () => {
  it("qm migrate --online moves a running VM without stopping it", async () => {
    const s = await start();
    const r = await run(s, "pve1", "qm migrate 100 pve2 --online 1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d starting migration of VM 100 to node 'pve2' \(192\.168\.50\.12\)$/m,
    );
    expect(r.stdout).toMatch(/migration finished successfully \(duration \d\d:\d\d:\d\d\)\n$/);
    expect(guest(s, 100)).toMatchObject({ node: "pve2", status: "running" });
    expect(s.history().guestEvents.filter((e) => e.vmid === 100)).toEqual([]);
    expect(s.history().migrations).toMatchObject([
      { vmid: 100, from: "pve1", to: "pve2", online: true, ok: true, via: "cli" },
    ]);
    // The VM is now pve2's: pve1 no longer has its config.
    const again = await run(s, "pve1", "qm migrate 100 pve3 --online 1");
    expect(again).toMatchObject({
      code: 255,
      stderr: "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist\n",
    });
  });

  it("fails when the target lacks memory, leaving the VM running where it was", async () => {
    const s = await start(SMALL_TARGET);
    const r = await run(s, "big", "qm migrate 300 small --online 1");
    expect(r.code).toBe(255);
    expect(r.stdout).toContain("[small] kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory");
    expect(r.stderr).toBe("migration problems\n");
    expect(guest(s, 300)).toMatchObject({ node: "big", status: "running" });
    expect(guest(s, 300).lock).toBeUndefined();
    expect((await run(s, "big", "qm migrate 300 spare --online 1")).code).toBe(0);
  });

  it("locks the guest 'migrate' while it moves", async () => {
    const s = await start(SMALL_TARGET, 20);
    const c = await SimSsh.connect(s, "big");
    const migration = c.exec("qm migrate 300 spare --online 1");
    await eventually(() => guest(s, 300).lock === "migrate", "the migrate lock");
    const rows = JSON.parse(
      (await run(s, "big", "pvesh get /cluster/resources --type vm --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(rows.find((x) => x.vmid === 300)).toMatchObject({ lock: "migrate" });
    const tasks = JSON.parse(
      (await run(s, "big", "pvesh get /nodes/big/tasks --source active --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(tasks).toMatchObject([{ type: "qmigrate", id: "300", node: "big", user: "root@pam" }]);
    expect(tasks[0]).not.toHaveProperty("status");
    expect(await run(s, "big", "qm snapshot 300 before")).toMatchObject({
      code: 255,
      stderr: "VM is locked (migrate)\n",
    });
    expect((await migration).code).toBe(0);
    c.close();
    expect(guest(s, 300).lock).toBeUndefined();
  });

  it("refuses what Proxmox refuses: running CT without --restart, local devices, local disks without --with-local-disks", async () => {
    const s = await start();
    expect(await run(s, "pve1", "pct migrate 200 pve2")).toMatchObject({
      code: 255,
      stderr: "can't migrate running container without --online or --restart\n",
    });
    expect(await run(s, "pve1", "pct migrate 200 pve2 --online")).toMatchObject({
      code: 255,
      stderr: "lxc live migration is currently not implemented\n",
    });
    // QemuMigrate refuses inside its qmigrate task: the log says why, the task ends "migration aborted".
    const gpu = await run(s, "pve2", "qm migrate 102 pve3 --online 1");
    expect(gpu).toMatchObject({ code: 255, stderr: "migration aborted\n" });
    expect(gpu.stdout).toMatch(
      / ERROR: migration aborted \(duration 00:00:00\): can't migrate VM which uses local devices: hostpci0\n$/,
    );
    const disks = await run(s, "pve3", "qm migrate 110 pve1 --online 1");
    expect(disks).toMatchObject({ code: 255, stderr: "migration aborted\n" });
    expect(disks.stdout).toMatch(
      / can't migrate local disk '[^']+': can't live migrate attached local disks without with-local-disks option\n/,
    );
    expect(disks.stdout).toMatch(
      / ERROR: migration aborted \(duration \d\d:\d\d:\d\d\): Problem found while scanning volumes - can't migrate VM - check log\n$/,
    );
    const bad = await run(s, "pve1", "qm migrate 100 pve9 --online 1");
    expect(bad.code).toBe(255);
    expect(bad.stderr).toContain("target: no such cluster node 'pve9'");
    expect(s.history().migrations.map((m) => [m.vmid, m.ok])).toEqual([
      [102, false],
      [110, false],
    ]);
    expect(guest(s, 102)).toMatchObject({ node: "pve2", status: "running" });
    expect(guest(s, 102).lock).toBeUndefined();
  });

  it("pct migrate --restart stops, moves and starts the container", async () => {
    const s = await start();
    const r = await run(s, "pve1", "pct migrate 200 pve3 --restart 1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ shutdown CT 200\n/);
    expect(r.stdout).toMatch(/ start container on target node\n/);
    expect(guest(s, 200)).toMatchObject({ node: "pve3", status: "running" });
    expect(
      s
        .history()
        .guestEvents.filter((e) => e.vmid === 200)
        .map((e) => `${e.event}@${e.node}`),
    ).toEqual(["stop@pve1", "start@pve3"]);
    expect(await run(s, "pve1", "qm migrate 110 pve1 --online 1 --with-local-disks 1")).toMatchObject({
      code: 255,
    });
    const moved = await run(s, "pve3", "qm migrate 110 pve1 --online 1 --with-local-disks 1");
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain("all 'mirror' jobs are ready");
  });
});

describe("HA", () => {
  it("node maintenance moves HA guests away and back; other guests stay", async () => {
    const s = await start();
    expect((await run(s, "pve1", "ha-manager crm-command node-maintenance enable pve1")).code).toBe(0);
    await eventually(() => guest(s, 101).node !== "pve1", "the HA guest to leave pve1");
    // The CRM records the move in its next round (until then: `vm:101 (pve1, migrate)`).
    await eventually(
      async () =>
        (await run(s, "pve2", "ha-manager status")).stdout.includes(`(${guest(s, 101).node}, started)`),
      "the CRM to see the migration done",
    );
    expect(guest(s, 101).status).toBe("running");
    expect(guest(s, 100).node).toBe("pve1");
    const ms = JSON.parse(
      (await run(s, "pve2", "pvesh get /cluster/ha/status/manager_status --output-format json")).stdout,
    ) as { manager_status: { node_status: Record<string, string> } };
    expect(ms.manager_status.node_status.pve1).toBe("maintenance");
    const status = (await run(s, "pve2", "ha-manager status")).stdout;
    expect(status).toMatch(/^lrm pve1 \(maintenance mode, /m);
    expect(status).toContain(`service vm:101 (${guest(s, 101).node}, started)`);
    expect(s.history().migrations).toMatchObject([
      { vmid: 101, from: "pve1", via: "ha", ok: true, online: true },
    ]);

    expect((await run(s, "pve2", "ha-manager crm-command node-maintenance disable pve1")).code).toBe(0);
    await eventually(() => guest(s, 101).node === "pve1", "the HA guest to come back");
  });

  it("qm migrate of an HA guest is handed to the HA stack", async () => {
    const s = await start();
    const r = await run(s, "pve1", "qm migrate 101 pve3 --online 1");
    expect(r).toMatchObject({ code: 0, stdout: "Requesting HA migration for VM 101 to node pve3\n" });
    await eventually(() => guest(s, 101).node === "pve3", "the HA migration");
  });
});

describe("snapshots and locks", () => {
  it("snapshots, lists, rolls back (restoring contents and stopping the CT) and deletes", async () => {
    const s = await start();
    expect(
      (await run(s, "pve1", "pct snapshot 200 before_update --description 'refit: before update'")).code,
    ).toBe(0);
    expect(guest(s, 200).parent).toBe("before_update");
    const up = await run(s, "pve1", "pct exec 200 -- apt-get -y dist-upgrade");
    expect(up.code).toBe(0);
    expect((await run(s, "pve1", "pct exec 200 -- dpkg-query -W nginx")).stdout).toBe(
      "nginx\t1.22.1-9+deb12u1\n",
    );
    const tree = (await run(s, "pve1", "pct listsnapshot 200")).stdout;
    expect(tree).toMatch(
      /^`-> before_update {15}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {5}refit: before update\n `-> current {44}You are here!\n$/,
    );

    const rb = await run(s, "pve1", "pct rollback 200 before_update");
    expect(rb.code).toBe(0);
    expect(guest(s, 200).status).toBe("stopped");
    expect(await run(s, "pve1", "pct exec 200 -- true")).toMatchObject({
      code: 255,
      stderr: "CT 200 not running\n",
    });
    expect((await run(s, "pve1", "pct start 200")).code).toBe(0);
    expect((await run(s, "pve1", "pct exec 200 -- dpkg-query -W nginx")).stdout).toBe("nginx\t1.22.1-9\n");

    expect(await run(s, "pve1", "pct snapshot 200 before_update")).toMatchObject({
      code: 255,
      stderr: "snapshot name 'before_update' already used\n",
    });
    expect((await run(s, "pve1", "pct delsnapshot 200 before_update")).code).toBe(0);
    expect(await run(s, "pve1", "pct rollback 200 before_update")).toMatchObject({
      code: 255,
      stderr: "snapshot 'before_update' does not exist\n",
    });
    expect((await run(s, "pve1", "pct listsnapshot 200")).stdout).toMatch(/^`-> current +You are here!\n$/);
  });

  it("on ZFS rolls back only to the most recent snapshot; a running VM with RAM comes back running", async () => {
    const s = await start();
    await run(s, "pve1", "pct snapshot 200 first");
    await run(s, "pve1", "pct snapshot 200 second");
    const r = await run(s, "pve1", "pct rollback 200 first");
    expect(r).toMatchObject({
      code: 255,
      stderr: "can't rollback, 'first' is not most recent snapshot on 'local-zfs:subvol-200-disk-0'\n",
    });
    expect((await run(s, "pve1", "qm snapshot 101 withram --vmstate 1")).code).toBe(0);
    expect((await run(s, "pve1", "qm rollback 101 withram")).code).toBe(0);
    expect(guest(s, 101).status).toBe("running");
  });

  it("blocks operations on a locked guest until it is unlocked", async () => {
    const s = await start(SMALL_TARGET);
    expect(await run(s, "big", "pct start 301")).toMatchObject({
      code: 255,
      stderr: "CT is locked (backup)\n",
    });
    expect((await run(s, "big", "pct list")).stdout).toBe(
      "VMID       Status     Lock         Name                \n301        stopped    backup       locked              \n",
    );
    expect((await run(s, "big", "pct unlock 301")).code).toBe(0);
    expect((await run(s, "big", "pct start 301")).code).toBe(0);
    expect(await run(s, "big", "pct start 301")).toMatchObject({
      code: 255,
      stderr: "CT 301 already running\n",
    });
  });
});
