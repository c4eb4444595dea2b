import { describe, expect, it } from "vitest";
import { migratePreconditionArgv, parseMigratePrecondition } from "../../src/pve/index.js";

/**
 * Not a capture: built from qemu-server's migrate_vm_precondition (src/PVE/API2/Qemu.pm) and
 * check_local_storage_availability, which returns a hash for every node, so allowed nodes are in
 * not_allowed_nodes too, as {} (src/pve/REFERENCE-local-resources.md). Perl booleans print as 1/0.
 */
const ISO_AND_NFS = JSON.stringify({
  running: 1,
  allowed_nodes: ["pve2"],
  not_allowed_nodes: {
    pve2: {},
    pve3: { unavailable_storages: ["nfs-a"] },
    pve4: { "blocking-ha-resources": [{ sid: "vm:105", cause: "resource-affinity" }] },
  },
  local_disks: [
    {
      volid: "local:iso/debian-12.iso",
      cdrom: 1,
      is_unused: 0,
      is_attached: 1,
      drivename: "ide2",
      replicate: 1,
    },
    { volid: "local-lvm:vm-100-disk-1", cdrom: 0, is_unused: 1, size: 8589934592 },
  ],
  local_resources: ["hostpci0"],
  "mapped-resources": [],
  "mapped-resource-info": {},
  "has-dbus-vmstate": 1,
});

describe("migration precondition", () => {
  it("argv is the pvesh GET of the VM's migrate endpoint", () => {
    expect(migratePreconditionArgv("pve1", 100)).toEqual([
      "pvesh",
      "get",
      "/nodes/pve1/qemu/100/migrate",
      "--output-format",
      "json",
    ]);
  });

  it("reads local CD images, local resources, and only nodes with a reason as not allowed", () => {
    expect(parseMigratePrecondition(ISO_AND_NFS)).toEqual({
      running: true,
      allowedNodes: ["pve2"],
      notAllowed: {
        pve3: "storage nfs-a not available there",
        pve4: "HA rules block it (vm:105 resource-affinity)",
      },
      localDisks: [
        { volid: "local:iso/debian-12.iso", cdrom: true, unused: false, drive: "ide2" },
        { volid: "local-lvm:vm-100-disk-1", cdrom: false, unused: true, drive: undefined },
      ],
      localResources: ["hostpci0"],
    });
  });

  it("a stopped VM without local anything (fields may be absent)", () => {
    expect(parseMigratePrecondition('{"running":0,"local_disks":[],"local_resources":[]}')).toMatchObject({
      running: false,
      allowedNodes: [],
      notAllowed: {},
      localDisks: [],
      localResources: [],
    });
  });
});
