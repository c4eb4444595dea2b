import { describe, expect, it } from "vitest";
import {
  deleteSnapshotOutcome,
  freeOutcome,
  restoreOutcome,
  rollbackOutcome,
  snapshotOutcome,
  vzdumpOutcome,
} from "../../../controller/guest-update/backup/results.js";
import {
  restoreSteps,
  rollbackSteps,
  takeBackupSteps,
} from "../../../controller/guest-update/backup/commands.js";

const fail = (stderr: string, exitCode = 255) => ({ exitCode, stdout: "", stderr });
const ok = (stdout = "", stderr = "") => ({ exitCode: 0, stdout, stderr });
const brief = (o: ReturnType<typeof snapshotOutcome>) => (o.ok ? ["ok"] : [o.reason, o.retryable]);

describe("step results, from what Proxmox prints", () => {
  it.each([
    ["snapshot ok", snapshotOutcome(ok(), 120, "refit-a-20260101000000"), ["ok"]],
    ["snapshot locked", snapshotOutcome(fail("CT is locked (backup)\n"), 120, "s"), ["Locked", true]],
    [
      "snapshot unsupported",
      snapshotOutcome(fail("snapshot feature is not available\n"), 120, "s"),
      ["SnapshotUnsupported", false],
    ],
    [
      "snapshot name used",
      snapshotOutcome(fail("snapshot name 's' already used\n"), 120, "s"),
      ["SnapshotExists", false],
    ],
    [
      "delete already gone is done",
      deleteSnapshotOutcome(fail("snapshot 's' does not exist\n"), 120, "s"),
      ["ok"],
    ],
    [
      "delete locked",
      deleteSnapshotOutcome(fail("CT is locked (snapshot-delete)\n"), 120, "s"),
      ["Locked", true],
    ],
    [
      "vzdump locked",
      vzdumpOutcome(
        fail(
          "INFO: starting new backup job\nERROR: Backup of VM 120 failed - CT is locked (snapshot)\nINFO: Backup job finished with errors\njob errors\n",
        ),
        120,
        "pbs",
      ),
      ["Locked", true],
    ],
    [
      "vzdump bad storage",
      vzdumpOutcome(fail("storage 'nope' does not exist\n"), 120, "nope"),
      ["BackupStorageInvalid", false],
    ],
    [
      "rollback missing",
      rollbackOutcome(fail("snapshot 's' does not exist\n"), 120, "s"),
      ["SnapshotMissing", false],
    ],
    [
      "rollback zfs not newest",
      rollbackOutcome(
        fail("can't rollback, 's' is not most recent snapshot on 'rpool/data/subvol-120-disk-0'\n"),
        120,
        "s",
      ),
      ["RollbackBlocked", false],
    ],
    [
      "restore over a running CT",
      restoreOutcome(fail("can't overwrite running container\n"), 120, "pbs:backup/x"),
      ["GuestRunning", true],
    ],
    ["free ok", freeOutcome(ok("Removed volume 'pbs:backup/x'\n"), "pbs:backup/x"), ["ok"]],
    [
      "free protected",
      freeOutcome(fail("cannot remove protected volume 'backup/x' on 'pbs'\n"), "pbs:backup/x"),
      ["ArchiveProtected", false],
    ],
  ] as const)("%s", (_case, outcome, expected) => {
    expect(brief(outcome)).toEqual(expected);
  });

  it("vzdump: the archive's volid, and a warning when the notes could not be added", () => {
    const log =
      "INFO: creating vzdump archive '/mnt/pve/nas/dump/vzdump-lxc-120-2026_03_04-05_06_07.tar.zst'\nWARN: unable to add notes - contains a line feed\nINFO: Backup job finished successfully\n";
    const o = vzdumpOutcome(ok("", log), 120, "nas");
    expect(o).toMatchObject({ ok: true, volid: "nas:backup/vzdump-lxc-120-2026_03_04-05_06_07.tar.zst" });
    expect(o.ok && o.warnings[0]).toMatch(/^unable to add notes - contains a line feed: /);
  });
});

describe("step argv", () => {
  it("snapshot with the description, vzdump with notes as a job", () => {
    expect(
      takeBackupSteps(120, {
        kind: "snapshot",
        name: "refit-a-20260101000000",
        description: "Taken by Refit",
      }),
    ).toEqual([
      {
        id: "snapshot",
        argv: ["pct", "snapshot", "120", "refit-a-20260101000000", "--description", "Taken by Refit"],
        timeoutMs: 900_000,
        job: false,
      },
    ]);
    const [v] = takeBackupSteps(120, {
      kind: "vzdump",
      name: "refit-a-20260101000000",
      storage: "pbs",
      notes: "refit-a-20260101000000 taken by Refit",
      notCovered: [],
    });
    expect(v?.argv).toEqual([
      "vzdump",
      "120",
      "--mode",
      "snapshot",
      "--storage",
      "pbs",
      "--compress",
      "zstd",
      "--notes-template",
      "refit-a-20260101000000 taken by Refit",
    ]);
    expect(v?.job).toBe(true);
    expect(takeBackupSteps(120, { kind: "none" })).toEqual([]);
  });

  it("refuses notes vzdump would misread", () => {
    expect(() =>
      takeBackupSteps(120, {
        kind: "vzdump",
        name: "n",
        storage: "pbs",
        notes: "a {{guestname}}",
        notCovered: [],
      }),
    ).toThrow(/must be one non-empty line/);
  });

  it("rollback starts the container again; restore stops it, restores with --force to the rootfs storage, starts it", () => {
    expect(rollbackSteps(120, "refit-a-20260101000000").map((s) => s.argv)).toEqual([
      ["pct", "rollback", "120", "refit-a-20260101000000", "--start", "1"],
    ]);
    expect(restoreSteps(120, "pbs:backup/vzdump-lxc-120-x.tar.zst", "local-zfs").map((s) => s.argv)).toEqual([
      ["pct", "stop", "120"],
      [
        "pct",
        "restore",
        "120",
        "pbs:backup/vzdump-lxc-120-x.tar.zst",
        "--storage",
        "local-zfs",
        "--force",
        "1",
      ],
      ["pct", "start", "120"],
    ]);
  });
});

describe("outcomeError", () => {
  it("a lock is retryable, unsupported snapshots are terminal; both say what to do", async () => {
    const { outcomeError } = await import("../../../controller/guest-update/backup/results.js");
    const locked = snapshotOutcome(fail("CT is locked (backup)\n"), 120, "s");
    const unsupported = snapshotOutcome(fail("snapshot feature is not available\n"), 120, "s");
    if (locked.ok || unsupported.ok) throw new Error("expected failures");
    expect(outcomeError(locked)).toMatchObject({
      retryable: true,
      reason: "Locked",
      context: { lock: "backup" },
    });
    const e = outcomeError(unsupported);
    expect(e).toMatchObject({ retryable: false, reason: "SnapshotUnsupported" });
    expect(e.message).toMatch(/set backup\.fallbackStorage or use mode vzdump/);
  });
});
