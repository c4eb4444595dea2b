import { describe, expect, it } from "vitest";
import {
  decidePrune,
  PRUNE_LOCK_WAIT_MS,
  type PruneObservation,
} from "../../../controller/guest-update/backup/prune.js";
import type { OwnedBackup } from "../../../controller/guest-update/backup/retention.js";

const snap = (ref: string): OwnedBackup => ({
  kind: "snapshot",
  name: ref,
  ref,
  takenAt: 0,
  protected: false,
});
const old = snap("refit-apps-20260301020000");
const older = snap("refit-apps-20260201020000");
const archive: OwnedBackup = {
  kind: "vzdump",
  name: "refit-apps-20260101020000",
  ref: "pbs:backup/vzdump-lxc-120-2026_01_01-02_00_00.tar.zst",
  takenAt: 0,
  protected: false,
};
const now = Date.parse("2026-03-10T12:00:00Z");
const base: PruneObservation = {
  vmid: 120,
  lock: undefined,
  pending: [older, old],
  intent: undefined,
  deleteTaskRunning: false,
  lockedSince: undefined,
  now,
};

/** The decision as a row: kind, then the argv of its steps or its message. */
const row = (o: Partial<PruneObservation>) => {
  const d = decidePrune({ ...base, ...o });
  return d.kind === "act"
    ? [d.kind, d.steps.map((s) => s.argv.join(" "))]
    : d.kind === "done"
      ? [d.kind]
      : [d.kind, d.message];
};

describe("decidePrune", () => {
  it.each([
    ["nothing left", { pending: [] }, ["done"]],
    ["unlocked: delete the oldest first", {}, ["act", ["pct delsnapshot 120 refit-apps-20260201020000"]]],
    [
      "an archive is removed whatever the container's lock",
      { pending: [archive], lock: "backup" },
      ["act", ["pvesm free pbs:backup/vzdump-lxc-120-2026_01_01-02_00_00.tar.zst"]],
    ],
    [
      "someone's backup holds the lock: wait",
      { lock: "backup", lockedSince: now - 60_000 },
      ["wait", "pruning CT 120 waits: the container is locked (backup)"],
    ],
    [
      "someone's lock for too long: leave it for the next run",
      { lock: "migrate", lockedSince: now - PRUNE_LOCK_WAIT_MS },
      [
        "giveUp",
        "CT 120 stayed locked (migrate) for 10 min; 2 old Refit backup(s) are left for the next run",
      ],
    ],
    [
      "Refit's own interrupted delete left snapshot-delete: unlock and finish it with --force",
      { lock: "snapshot-delete", intent: { ref: old.ref } },
      ["act", ["pct unlock 120", "pct delsnapshot 120 refit-apps-20260301020000 --force 1"]],
    ],
    [
      "Refit's delete still runs: wait, do not unlock",
      { lock: "snapshot-delete", intent: { ref: old.ref }, deleteTaskRunning: true },
      [
        "wait",
        "pruning CT 120 waits: the container is locked (snapshot-delete) by Refit's delete, which is still running",
      ],
    ],
    [
      "snapshot-delete without Refit's intent is someone else's: wait",
      { lock: "snapshot-delete" },
      ["wait", "pruning CT 120 waits: the container is locked (snapshot-delete)"],
    ],
    [
      "snapshot-delete with an intent for a snapshot not ours to prune: wait",
      { lock: "snapshot-delete", intent: { ref: "before-upgrade" } },
      ["wait", "pruning CT 120 waits: the container is locked (snapshot-delete)"],
    ],
  ] as const)("%s", (_case, o, expected) => {
    expect(row(o as Partial<PruneObservation>)).toEqual(expected);
  });
});
