import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "./ssh-client.js";

/**
 * What qemu-server refuses to migrate and what its precondition endpoint says about it
 * (src/pve/REFERENCE-local-resources.md), and how HA moves a container (a relocation).
 */

const K = { running: "6.8.12-9-pve" };
const FLEET: FleetInput = {
  clusters: [
    {
      name: "lab",
      storages: [
        { name: "local", type: "dir", content: ["iso", "vztmpl", "backup"] },
        { name: "ceph", type: "rbd", content: ["images", "rootdir"] },
        { name: "nfs-a", type: "nfs", content: ["images"], nodes: ["pve1", "pve2"] },
      ],
      nodes: [
        { name: "pve1", kernel: K, memoryGiB: 64 },
        { name: "pve2", kernel: K, memoryGiB: 64 },
        { name: "pve3", kernel: K, memoryGiB: 64 },
      ],
      guests: [
        {
          vmid: 100,
          type: "qemu",
          name: "iso",
          node: "pve1",
          memoryMiB: 1024,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
          devices: [{ key: "ide2", value: "local:iso/debian-12.iso,media=cdrom,size=600M" }],
        },
        {
          vmid: 101,
          type: "qemu",
          name: "usb",
          node: "pve1",
          memoryMiB: 1024,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
          devices: [{ key: "usb0", value: "host=1-1.2" }],
        },
        {
          vmid: 102,
          type: "qemu",
          name: "nfs",
          node: "pve1",
          memoryMiB: 1024,
          disks: [{ storage: "nfs-a", sizeGiB: 8 }],
        },
        {
          vmid: 103,
          type: "qemu",
          name: "empty-cd",
          node: "pve1",
          memoryMiB: 1024,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
          devices: [{ key: "ide2", value: "none,media=cdrom" }],
        },
        {
          vmid: 104,
          type: "qemu",
          name: "ha-iso",
          node: "pve1",
          memoryMiB: 1024,
          ha: true,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
          devices: [{ key: "ide2", value: "local:iso/debian-12.iso,media=cdrom" }],
        },
        {
          vmid: 200,
          type: "lxc",
          name: "ha-ct",
          node: "pve1",
          memoryMiB: 512,
          ha: true,
          disks: [{ storage: "ceph", sizeGiB: 4 }],
        },
      ],
    },
  ],
};

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(): Promise<SimHandle> {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
  return sim;
}

async function precondition(s: SimHandle, vmid: number): Promise<Record<string, unknown>> {
  const r = await run(s, "pve1", `pvesh get /nodes/pve1/qemu/${vmid}/migrate --output-format json`);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe("local resources", () => {
  it("the precondition endpoint lists local CD images, local devices and nodes a storage lacks", async () => {
    const s = await start();
    expect(await precondition(s, 100)).toEqual({
      running: 1,
      allowed_nodes: ["pve2", "pve3"],
      not_allowed_nodes: { pve2: {}, pve3: {} },
      local_disks: [
        {
          volid: "local:iso/debian-12.iso",
          cdrom: 1,
          is_unused: 0,
          is_attached: 1,
          drivename: "ide2",
        },
      ],
      local_resources: [],
      "mapped-resources": [],
      "mapped-resource-info": {},
      "has-dbus-vmstate": 1,
    });
    expect(await precondition(s, 101)).toMatchObject({ local_resources: ["usb0"], local_disks: [] });
    expect(await precondition(s, 102)).toMatchObject({
      allowed_nodes: ["pve2"],
      not_allowed_nodes: { pve2: {}, pve3: { unavailable_storages: ["nfs-a"] } },
    });
    expect(await precondition(s, 103)).toMatchObject({ local_disks: [], local_resources: [] });
  });

  it("qm migrate refuses a local CD image, a USB passthrough and a target without the storage", async () => {
    const s = await start();
    const iso = await run(s, "pve1", "qm migrate 100 pve2 --online 1 --with-local-disks 1");
    expect(iso).toMatchObject({ code: 255, stderr: "migration aborted\n" });
    expect(iso.stdout).toMatch(/ can't migrate local disk 'local:iso\/debian-12\.iso': local cdrom image\n/);
    expect(iso.stdout).toMatch(/ aborting phase 1 - cleanup resources\n/);
    const usb = await run(s, "pve1", "qm migrate 101 pve2 --online 1");
    expect(usb.stdout).toMatch(/can't migrate VM which uses local devices: usb0\n$/);
    expect(await run(s, "pve1", "qm migrate 102 pve3 --online 1")).toMatchObject({
      code: 255,
      stderr: "storage 'nfs-a' is not available on node 'pve3'\n",
    });
    const snap = s.snapshot().guests;
    for (const vmid of [100, 101, 102]) expect(snap[String(vmid)]).toMatchObject({ node: "pve1" });
    expect(snap["100"]?.lock).toBeUndefined();
    expect((await run(s, "pve1", "qm migrate 103 pve2 --online 1")).code).toBe(0);
    expect((await run(s, "pve1", "qm migrate 102 pve2 --online 1")).code).toBe(0);
  });

  it("qm set ejects the CD image; then the VM migrates; the image goes back in after", async () => {
    const s = await start();
    expect(await run(s, "pve1", "qm set 100 --ide2 none,media=cdrom")).toMatchObject({ code: 0 });
    expect((await run(s, "pve1", "qm config 100")).stdout).toContain("ide2: none,media=cdrom\n");
    expect((await run(s, "pve1", "qm migrate 100 pve2 --online 1")).code).toBe(0);
    expect(await run(s, "pve2", "qm set 100 --ide2 local:iso/debian-12.iso,media=cdrom")).toMatchObject({
      code: 0,
    });
    expect((await run(s, "pve2", "qm config 100")).stdout).toContain(
      "ide2: local:iso/debian-12.iso,media=cdrom\n",
    );
  });

  it("HA's migration of a VM with a local CD image fails in its qmigrate task; the VM stays", async () => {
    const s = await start();
    expect((await run(s, "pve1", "ha-manager migrate vm:104 pve2")).code).toBe(0);
    await eventually(() => s.history().migrations.some((m) => m.vmid === 104), "HA's migration attempt");
    expect(s.history().migrations.find((m) => m.vmid === 104)).toMatchObject({ ok: false, via: "ha" });
    expect(s.snapshot().guests["104"]).toMatchObject({ node: "pve1", status: "running" });
  });
});

describe("HA containers", () => {
  it("ha-manager migrate of a CT relocates it: HA's shutdown, an offline move, a start on the target", async () => {
    const s = await start();
    expect((await run(s, "pve1", "ha-manager migrate ct:200 pve2")).code).toBe(0);
    await eventually(() => s.snapshot().guests["200"]?.status === "stopped", "the CT stopped for the move");
    await eventually(
      () => s.snapshot().guests["200"]?.node === "pve2" && s.snapshot().guests["200"]?.status === "running",
      "the CT running on pve2",
    );
    const m = s.history().migrations.filter((x) => x.vmid === 200);
    expect(m).toMatchObject([{ from: "pve1", to: "pve2", online: false, ok: true, via: "ha" }]);
    const tasks = JSON.parse(
      (await run(s, "pve1", "pvesh get /nodes/pve1/tasks --vmid 200 --output-format json")).stdout,
    ) as { type: string }[];
    // The move itself is the LRM's vzmigrate task of a stopped CT (ha-manager's own hamigrate aside).
    expect(tasks.map((t) => t.type)).toContain("vzmigrate");
  });
});
