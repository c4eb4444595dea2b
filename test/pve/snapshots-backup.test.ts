import { describe, expect, it } from "vitest";
import { parseVzdumpArchive, restoreArgv, vzdumpArgv } from "../../src/pve/backup.js";
import { pctExecArgv } from "../../src/pve/guest-exec.js";
import {
  createSnapshotArgv,
  deleteSnapshotArgv,
  isRefitSnapshot,
  listSnapshotsArgv,
  parseSnapshotList,
  refitSnapshotName,
  rollbackSnapshotArgv,
} from "../../src/pve/snapshots.js";
import { fixture } from "./helpers.js";

describe("snapshot tree", () => {
  it("reads the rendered tree: parents, times, descriptions and the current entry (§8)", () => {
    const l = parseSnapshotList(fixture("listsnapshot.rendered.txt"));
    expect(l.snapshots).toEqual([
      {
        name: "autodaily250101020000",
        parent: undefined,
        time: "2025-01-01 02:00:01",
        description: "cv4pve-autosnap",
      },
      {
        name: "Update_20250102_031500",
        parent: "autodaily250101020000",
        time: "2025-01-02 03:15:00",
        description: "no-description",
      },
    ]);
    expect(l).toMatchObject({ hasCurrent: true, currentParent: "Update_20250102_031500" });
  });

  it("reads branches and names longer than the column", () => {
    const text = [
      "`-> a                             2025-01-01 00:00:00     first",
      " `-> refit-nightly-web-20250102031500-long 2025-01-02 03:15:00     pre-update",
      " `-> b                            2025-01-03 00:00:00     other branch",
      "  `-> current                                           You are here!",
    ].join("\n");
    const l = parseSnapshotList(text);
    expect(l.snapshots.map((s) => [s.name, s.parent])).toEqual([
      ["a", undefined],
      ["refit-nightly-web-20250102031500-long", "a"],
      ["b", "a"],
    ]);
    expect(l.currentParent).toBe("b");
  });

  it("reads a guest without snapshots and refuses foreign text", () => {
    expect(
      parseSnapshotList("`-> current                                           You are here!\n"),
    ).toEqual({
      snapshots: [],
      currentParent: undefined,
      hasCurrent: true,
    });
    expect(() => parseSnapshotList("Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n")).toThrow(
      /snapshot tree line/,
    );
  });

  it("builds qm and pct snapshot commands with validated names", () => {
    expect(listSnapshotsArgv("lxc", 101)).toEqual(["pct", "listsnapshot", "101"]);
    expect(
      createSnapshotArgv("lxc", 101, "refit-web-20250102031500", { description: "before update; it's fine" }),
    ).toEqual([
      "pct",
      "snapshot",
      "101",
      "refit-web-20250102031500",
      "--description",
      "before update; it's fine",
    ]);
    expect(createSnapshotArgv("qemu", 100, "pre", { vmstate: true })).toEqual([
      "qm",
      "snapshot",
      "100",
      "pre",
      "--vmstate",
      "1",
    ]);
    expect(deleteSnapshotArgv("qemu", 100, "pre", { force: true })).toEqual([
      "qm",
      "delsnapshot",
      "100",
      "pre",
      "--force",
      "1",
    ]);
    expect(rollbackSnapshotArgv("lxc", 101, "pre", { start: true })).toEqual([
      "pct",
      "rollback",
      "101",
      "pre",
      "--start",
      "1",
    ]);
    expect(() => createSnapshotArgv("lxc", 101, "--force")).toThrow(/not a valid snapshot name/);
    expect(() => createSnapshotArgv("lxc", 101, "1abc")).toThrow(/not a valid snapshot name/);
  });

  it("names Refit snapshots within 40 characters and recognises only its own", () => {
    const t = Date.UTC(2025, 0, 2, 3, 15, 0);
    expect(refitSnapshotName("nightly", t)).toBe("refit-nightly-20250102031500");
    const long = refitSnapshotName("a-very-long-plan-name-that-goes-on-and-on", t);
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long.endsWith("-20250102031500")).toBe(true);
    expect(refitSnapshotName("we b/é", t)).toBe("refit-we-b-20250102031500");
    expect(isRefitSnapshot("refit-nightly-20250102031500", "nightly")).toBe(true);
    expect(isRefitSnapshot("refit-nightly-web-20250102031500", "nightly")).toBe(false);
    expect(isRefitSnapshot("Update_20250102_031500", "nightly")).toBe(false);
    expect(isRefitSnapshot(long, "a-very-long-plan-name-that-goes-on-and-on")).toBe(true);
  });
});

describe("vzdump and restore", () => {
  it("builds vzdump with snapshot mode and zstd by default", () => {
    expect(vzdumpArgv(101, { storage: "local" })).toEqual([
      "vzdump",
      "101",
      "--mode",
      "snapshot",
      "--storage",
      "local",
      "--compress",
      "zstd",
    ]);
  });

  it("finds the archive of a file and of a PBS backup", () => {
    expect(parseVzdumpArchive(fixture("vzdump-lxc.txt"), "local")).toEqual({
      printed: "/var/lib/vz/dump/vzdump-lxc-101-2025_03_19-10_00_00.tar.zst",
      target: "file",
      volid: "local:backup/vzdump-lxc-101-2025_03_19-10_00_00.tar.zst",
    });
    expect(parseVzdumpArchive(fixture("vzdump-pbs.txt"), "pbs1")).toEqual({
      printed: "ct/104/2025-03-19T10:10:00Z",
      target: "pbs",
      volid: "pbs1:backup/ct/104/2025-03-19T10:10:00Z",
    });
    expect(() => parseVzdumpArchive("ERROR: Backup of VM 101 failed - no such VM\n", "local")).toThrow(
      /archive/,
    );
  });

  it("restores containers with pct and VMs with qmrestore (archive first)", () => {
    expect(
      restoreArgv("lxc", 101, "local:backup/vzdump-lxc-101-2025_03_19-10_00_00.tar.zst", {
        storage: "local-zfs",
      }),
    ).toEqual([
      "pct",
      "restore",
      "101",
      "local:backup/vzdump-lxc-101-2025_03_19-10_00_00.tar.zst",
      "--storage",
      "local-zfs",
      "--force",
      "1",
    ]);
    expect(
      restoreArgv("qemu", 100, "/var/lib/vz/dump/vzdump-qemu-100.vma.zst", {
        storage: "local-lvm",
        force: false,
      }),
    ).toEqual(["qmrestore", "/var/lib/vz/dump/vzdump-qemu-100.vma.zst", "100", "--storage", "local-lvm"]);
    expect(() => restoreArgv("lxc", 101, "--force", { storage: "local" })).toThrow(/not a backup archive/);
  });

  it("runs commands in a container after --", () => {
    expect(pctExecArgv(101, ["apt-get", "-s", "dist-upgrade"])).toEqual([
      "pct",
      "exec",
      "101",
      "--",
      "apt-get",
      "-s",
      "dist-upgrade",
    ]);
    expect(pctExecArgv(101, ["--version"])).toEqual(["pct", "exec", "101", "--", "--version"]);
    expect(() => pctExecArgv(101, [])).toThrow(/needs a command/);
  });
});

describe("pct exec environment", () => {
  it("passes environment through env, since a systemd unit runs argv without a shell", () => {
    expect(
      pctExecArgv(101, ["apt-get", "-y", "dist-upgrade"], { env: { DEBIAN_FRONTEND: "noninteractive" } }),
    ).toEqual([
      "pct",
      "exec",
      "101",
      "--",
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "-y",
      "dist-upgrade",
    ]);
    expect(() => pctExecArgv(101, ["true"], { env: { "BAD NAME": "x" } })).toThrow(
      /environment variable name/,
    );
  });
});
