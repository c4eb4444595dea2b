import { describe, expect, it } from "vitest";
import { backupSpec } from "../../../src/api/backup.js";
import { chooseBackup } from "../../../controller/guest-update/backup/choose.js";
import { containerVolumes, type ContainerVolume } from "../../../controller/guest-update/backup/volumes.js";
import { parseGuestConfig } from "../../../src/pve/guest-config.js";

const now = Date.parse("2026-03-04T05:06:07Z");
const rootZfs: ContainerVolume = {
  key: "rootfs",
  volume: "local-zfs:subvol-120-disk-0",
  storage: "local-zfs",
  snapshots: true,
  backedUp: true,
};
const mpZfs: ContainerVolume = {
  key: "mp0",
  volume: "local-zfs:subvol-120-disk-1",
  storage: "local-zfs",
  snapshots: true,
  backedUp: false,
};
const mpNfs: ContainerVolume = {
  key: "mp0",
  volume: "nfs:120/vm-120-disk-1.raw",
  storage: "nfs",
  snapshots: false,
  backedUp: true,
};
const bind: ContainerVolume = { key: "mp1", volume: "/srv/media", snapshots: false, backedUp: false };
const rootDir: ContainerVolume = {
  key: "rootfs",
  volume: "local:120/vm-120-disk-0.raw",
  storage: "local",
  snapshots: false,
  backedUp: true,
};

const ctx = (volumes: ContainerVolume[]) => ({ plan: "apps", cycle: "c1", vmid: 120, volumes, now });

describe("chooseBackup", () => {
  it.each([
    // case, policy, volumes, expected kind, storage
    ["snapshot on snapshot-capable volumes", { mode: "snapshot" }, [rootZfs, mpZfs], "snapshot", undefined],
    [
      "mount point on nfs, fallback allowed",
      { mode: "snapshot", fallbackStorage: "pbs" },
      [rootZfs, mpNfs],
      "vzdump",
      "pbs",
    ],
    [
      "bind mount, fallback allowed",
      { mode: "snapshot", fallbackStorage: "local" },
      [rootZfs, bind],
      "vzdump",
      "local",
    ],
    [
      "rootfs on dir storage, fallback allowed",
      { mode: "snapshot", fallbackStorage: "local" },
      [rootDir],
      "vzdump",
      "local",
    ],
    ["mount point on nfs, no fallback", { mode: "snapshot" }, [rootZfs, mpNfs], "blocked", undefined],
    ["vzdump asked for", { mode: "vzdump", storage: "pbs" }, [rootZfs], "vzdump", "pbs"],
    ["none only when asked", { mode: "none" }, [rootDir], "none", undefined],
  ] as const)("%s", (_case, policy, volumes, kind, storage) => {
    const choice = chooseBackup(backupSpec.parse(policy), ctx([...volumes]));
    expect(choice.kind).toBe(kind);
    if (choice.kind === "vzdump") expect(choice.storage).toBe(storage);
  });

  it("names the snapshot refit-<plan>-<UTC stamp> and says in the description that Refit took it", () => {
    const c = chooseBackup(backupSpec.parse({}), ctx([rootZfs]));
    expect(c).toEqual({
      kind: "snapshot",
      name: "refit-apps-20260304050607",
      description:
        "Taken by Refit before updating CT 120 (GuestUpdatePlan apps, cycle c1); pruned by Refit's retention.",
    });
  });

  it("a fallback says why and which volumes the archive leaves out; notes begin with the name", () => {
    const c = chooseBackup(backupSpec.parse({ fallbackStorage: "pbs" }), ctx([rootZfs, mpNfs, bind]));
    expect(c).toMatchObject({
      kind: "vzdump",
      name: "refit-apps-20260304050607",
      notes:
        "refit-apps-20260304050607 taken by Refit before updating CT 120 (GuestUpdatePlan apps, cycle c1)",
      fallbackReason:
        "CT 120 cannot be snapshotted: mp0 on storage 'nfs', mp1 (/srv/media, a host path) do not support snapshots",
      notCovered: ["mp1 (/srv/media, a host path)"],
    });
  });

  it("Blocked says what to change", () => {
    const c = chooseBackup(backupSpec.parse({}), ctx([rootZfs, mpNfs]));
    expect(c).toEqual({
      kind: "blocked",
      reason: "SnapshotUnsupported",
      message:
        "CT 120 cannot be snapshotted: mp0 on storage 'nfs' does not support snapshots; set backup.fallbackStorage to take a vzdump instead, use backup mode vzdump, or move the volume to snapshot-capable storage (zfspool, lvmthin, rbd, btrfs)",
    });
  });
});

describe("containerVolumes", () => {
  it("reads rootfs, volume mount points (backup flag) and bind mounts from the config, with storage types", () => {
    const config = parseGuestConfig(
      "lxc",
      120,
      JSON.stringify({
        hostname: "web",
        rootfs: "local-zfs:subvol-120-disk-0,size=8G",
        mp0: "nfs:120/vm-120-disk-1.raw,mp=/data,backup=1,size=20G",
        mp1: "local-lvm:vm-120-disk-2,mp=/cache,size=4G",
        mp2: "/srv/media,mp=/media",
      }),
      new Map([
        ["local-zfs", false],
        ["nfs", true],
        ["local-lvm", false],
      ]),
    );
    const types = new Map([
      ["local-zfs", "zfspool"],
      ["nfs", "nfs"],
      ["local-lvm", "lvmthin"],
    ]);
    expect(containerVolumes(config, types).map((v) => [v.key, v.snapshots, v.backedUp])).toEqual([
      ["rootfs", true, true],
      ["mp0", false, true],
      ["mp1", true, false],
      ["mp2", false, false],
    ]);
  });

  it("a storage of unknown type counts as not snapshot-capable", () => {
    const config = parseGuestConfig(
      "lxc",
      120,
      JSON.stringify({ rootfs: "mystery:subvol-120-disk-0" }),
      new Map(),
    );
    expect(containerVolumes(config, new Map())[0]?.snapshots).toBe(false);
  });
});
