import { describe, expect, it } from "vitest";
import { guestConfigArgv, parseGuestConfig } from "../../src/pve/guest-config.js";
import { parseClusterResources, storageIndex } from "../../src/pve/resources.js";
import { fixture } from "./helpers.js";

const storages = new Map([
  ["local", false],
  ["local-lvm", false],
  ["local-zfs", false],
  ["ceph", true],
]);

describe("parseGuestConfig", () => {
  it("finds a VM's local disks, lock and local devices", () => {
    const c = parseGuestConfig("qemu", 100, fixture("qemu-config.local.json.out"), storages);
    expect(c).toMatchObject({
      kind: "qemu",
      vmid: 100,
      name: "web01",
      lock: "backup",
      onboot: true,
      memoryMiB: 8192,
    });
    expect(c.tags).toEqual(["web", "prod"]);
    expect(c.disks.map((d) => [d.key, d.storage, d.shared])).toEqual([
      ["efidisk0", "local-lvm", false],
      ["ide2", "local", false],
      ["scsi0", "local-lvm", false],
      ["scsi1", "ceph", true],
    ]);
    expect(c.localDisks.map((d) => d.key)).toEqual(["efidisk0", "ide2", "scsi0"]);
    expect(c.disks.find((d) => d.key === "ide2")?.cdrom).toBe(true);
    // serial0=socket and usb1=spice do not tie the VM to the host.
    expect(c.localDevices.map((d) => [d.key, d.kind])).toEqual([
      ["hostpci0", "pci"],
      ["usb0", "usb"],
    ]);
  });

  it("sees a VM on shared storage only as movable", () => {
    const c = parseGuestConfig("qemu", 102, fixture("qemu-config.shared.json.out"), storages);
    expect(c.localDisks).toEqual([]);
    expect(c.localDevices).toEqual([]);
    expect(c.lock).toBeUndefined();
    expect(c.memoryMiB).toBe(2048);
  });

  it("finds a container's bind mount, device, raw lxc entries and local volumes", () => {
    const c = parseGuestConfig("lxc", 101, fixture("lxc-config.local.json.out"), storages);
    expect(c.name).toBe("jellyfin");
    expect(c.localDisks.map((d) => d.key)).toEqual(["mp1", "rootfs"]);
    expect(c.localDevices.map((d) => [d.key, d.kind])).toEqual([
      ["dev0", "device"],
      ["lxc.cgroup2.devices.allow", "lxc-raw"],
      ["lxc.mount.entry", "lxc-raw"],
      ["mp0", "bind-mount"],
    ]);
  });

  it("counts a disk on storage missing from the resource list as local", () => {
    const c = parseGuestConfig(
      "qemu",
      103,
      JSON.stringify({ virtio0: "mystery:vm-103-disk-0,size=10G" }),
      storages,
    );
    expect(c.localDisks).toEqual([
      {
        key: "virtio0",
        volume: "mystery:vm-103-disk-0",
        storage: "mystery",
        shared: false,
        storageKnown: false,
        cdrom: false,
      },
    ]);
  });

  it("treats host block devices and host CD drives as local devices", () => {
    const c = parseGuestConfig(
      "qemu",
      104,
      JSON.stringify({
        sata0: "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K1234567,size=3726G",
        ide2: "cdrom,media=cdrom",
      }),
      storages,
    );
    expect(c.localDevices.map((d) => d.kind).sort()).toEqual(["host-cdrom", "host-disk"]);
    expect(c.disks).toEqual([]);
  });

  it("uses the storage list from /cluster/resources", () => {
    const idx = storageIndex(parseClusterResources(fixture("cluster-resources.exporter.json.out")));
    const c = parseGuestConfig(
      "qemu",
      100,
      JSON.stringify({ scsi0: "ceph:vm-100-disk-0", scsi1: "local:100/vm-100-disk-1.qcow2" }),
      idx,
    );
    expect(c.localDisks.map((d) => d.key)).toEqual(["scsi1"]);
  });

  it("builds the config path", () => {
    expect(guestConfigArgv("pve1", "lxc", 101)).toEqual([
      "pvesh",
      "get",
      "/nodes/pve1/lxc/101/config",
      "--output-format",
      "json",
    ]);
    expect(() => guestConfigArgv("pve1", "qemu", 42)).toThrow(/guest id/);
  });
});
