import { describe, expect, it } from "vitest";
import { retentionSpec } from "../../../src/api/backup.js";
import {
  backupsToPrune,
  ownArchives,
  ownSnapshots,
} from "../../../controller/guest-update/backup/retention.js";
import { parseSnapshotList } from "../../../src/pve/snapshots.js";
import { parseBackupContent } from "../../../src/pve/backup.js";

const DAY = 86_400_000;
const now = Date.parse("2026-03-10T12:00:00Z");

// As pct listsnapshot prints it: an operator's snapshot, another plan's, a look-alike, and ours.
const LIST = [
  "`-> before-upgrade            2026-02-01 10:00:00     manual, keep",
  " `-> refit-apps-20260301020000 2026-03-01 02:00:00     Taken by Refit before updating CT 120",
  "  `-> refit-db-20260302020000 2026-03-02 02:00:00     Taken by Refit",
  "   `-> refit-apps-20260305020000 2026-03-05 02:00:00     Taken by Refit before updating CT 120",
  "    `-> refit-apps-extra      2026-03-06 02:00:00     not a Refit name",
  "     `-> refit-apps-20260308020000 2026-03-08 02:00:00     Taken by Refit before updating CT 120",
  "      `-> refit-apps-20260310020000 2026-03-10 02:00:00     Taken by Refit before updating CT 120",
  "       `-> current                                  You are here!",
].join("\n");

const names = (d: { prune: { ref: string }[] }) => d.prune.map((b) => b.ref);

describe("retention of snapshots", () => {
  const owned = ownSnapshots(parseSnapshotList(LIST), "apps");

  it("owns only refit-<this plan>-<stamp> snapshots", () => {
    expect(owned.map((b) => b.name)).toEqual([
      "refit-apps-20260301020000",
      "refit-apps-20260305020000",
      "refit-apps-20260308020000",
      "refit-apps-20260310020000",
    ]);
  });

  it.each([
    ["keepLast 3 prunes the oldest one", { keepLast: 3 }, [], ["refit-apps-20260301020000"]],
    [
      "keepLast 1 prunes all but the newest, oldest first",
      { keepLast: 1 },
      [],
      ["refit-apps-20260301020000", "refit-apps-20260305020000", "refit-apps-20260308020000"],
    ],
    ["keepLast 10 prunes nothing", { keepLast: 10 }, [], []],
    [
      "maxAge 4d prunes older ones even within keepLast",
      { keepLast: 10, maxAge: "4d" },
      [],
      ["refit-apps-20260301020000", "refit-apps-20260305020000"],
    ],
    [
      "the backup in flight is kept even past maxAge",
      { keepLast: 1, maxAge: "1h" },
      ["refit-apps-20260310020000"],
      ["refit-apps-20260301020000", "refit-apps-20260305020000", "refit-apps-20260308020000"],
    ],
  ] as const)("%s", (_case, retention, keep, expected) => {
    expect(names(backupsToPrune(owned, retentionSpec.parse(retention), now, keep))).toEqual(expected);
  });

  it("never lists another plan's, an operator's or a look-alike snapshot, whatever the retention", () => {
    const all = backupsToPrune(owned, retentionSpec.parse({ keepLast: 1, maxAge: "1s" }), now + 365 * DAY);
    expect(names(all)).not.toContain("before-upgrade");
    expect(names(all)).not.toContain("refit-db-20260302020000");
    expect(names(all)).not.toContain("refit-apps-extra");
    expect(all.prune).toHaveLength(4);
  });
});

describe("retention of vzdump archives", () => {
  const content = JSON.stringify([
    {
      volid: "pbs:backup/vzdump-lxc-120-2026_03_01-02_00_00.tar.zst",
      vmid: 120,
      ctime: 1772330400,
      notes: "refit-apps-20260301020000 taken by Refit before updating CT 120",
      content: "backup",
    },
    {
      volid: "pbs:backup/vzdump-lxc-120-2026_03_02-02_00_00.tar.zst",
      vmid: 120,
      ctime: 1772416800,
      notes: "nightly",
      content: "backup",
    },
    {
      volid: "pbs:backup/vzdump-lxc-120-2026_03_03-02_00_00.tar.zst",
      vmid: 120,
      ctime: 1772503200,
      content: "backup",
    },
    {
      volid: "pbs:backup/vzdump-lxc-121-2026_03_04-02_00_00.tar.zst",
      vmid: 121,
      ctime: 1772589600,
      notes: "refit-apps-20260304020000 taken by Refit",
      content: "backup",
    },
    {
      volid: "pbs:backup/vzdump-lxc-120-2026_03_05-02_00_00.tar.zst",
      vmid: "120",
      ctime: "1772676000",
      notes: "refit-apps-20260305020000 taken by Refit",
      protected: 1,
      content: "backup",
    },
    {
      volid: "pbs:backup/vzdump-lxc-120-2026_03_08-02_00_00.tar.zst",
      vmid: 120,
      ctime: 1772935200,
      notes: "refit-apps-20260308020000 taken by Refit",
      content: "backup",
    },
  ]);

  it("owns archives of this vmid whose notes begin with this plan's Refit name; keeps protected ones", () => {
    const owned = ownArchives(parseBackupContent(content), "apps", 120);
    expect(owned.map((b) => b.name)).toEqual([
      "refit-apps-20260301020000",
      "refit-apps-20260305020000",
      "refit-apps-20260308020000",
    ]);
    const d = backupsToPrune(owned, retentionSpec.parse({ keepLast: 1 }), now);
    expect(names(d)).toEqual(["pbs:backup/vzdump-lxc-120-2026_03_01-02_00_00.tar.zst"]);
    expect(d.skipped.map((s) => s.why)).toEqual([
      "archive pbs:backup/vzdump-lxc-120-2026_03_05-02_00_00.tar.zst is protected; unprotect it to let retention remove it",
    ]);
  });
});
