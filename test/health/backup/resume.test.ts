import { describe, expect, it } from "vitest";
import {
  resumeBackup,
  resumeRollback,
  type BackupResumeObservation,
} from "../../../controller/guest-update/backup/resume.js";
import { parseSnapshotList } from "../../../src/pve/snapshots.js";

const name = "refit-apps-20260304050607";
const withOurs = parseSnapshotList(
  `\`-> ${name}      2026-03-04 05:06:07     Taken by Refit\n \`-> current                    You are here!\n`,
);
const without = parseSnapshotList("`-> current                    You are here!\n");
const ourArchive = {
  volid: "pbs:backup/vzdump-lxc-120-x.tar.zst",
  vmid: 120,
  ctime: 1,
  notes: `${name} taken by Refit`,
  protected: false,
  size: 1,
};
const base: BackupResumeObservation = {
  vmid: 120,
  plan: "apps",
  intent: { kind: "snapshot", name },
  lock: undefined,
  snapshots: without,
  archives: [],
  taskRunning: false,
};

const row = (o: Partial<BackupResumeObservation>) => {
  const r = resumeBackup({ ...base, ...o });
  return r.kind === "cleanup"
    ? [r.kind, r.steps.map((s) => s.argv.join(" "))]
    : r.kind === "taken"
      ? [r.kind, r.volid]
      : [r.kind];
};

describe("resumeBackup after a crash in BackingUp", () => {
  it.each([
    ["snapshot listed, no lock: taken, never taken twice", { snapshots: withOurs }, ["taken", undefined]],
    ["snapshot missing, no lock: take it", {}, ["notTaken"]],
    [
      "snapshot lock while the worker runs: wait",
      { snapshots: withOurs, lock: "snapshot", taskRunning: true },
      ["inProgress"],
    ],
    [
      "our half-made snapshot and its lock, no worker: unlock and remove it, then retake",
      { snapshots: withOurs, lock: "snapshot" },
      ["cleanup", ["pct unlock 120", `pct delsnapshot 120 ${name} --force 1`]],
    ],
    ["a snapshot lock that is not ours: wait, never unlock", { lock: "snapshot" }, ["inProgress"]],
    [
      "another lock (backup) with our snapshot listed: taken",
      { snapshots: withOurs, lock: "backup" },
      ["taken", undefined],
    ],
    [
      "vzdump archive with our notes: taken, with its volid",
      { intent: { kind: "vzdump", name }, archives: [ourArchive] },
      ["taken", ourArchive.volid],
    ],
    [
      "an archive with other notes is not ours: back up",
      { intent: { kind: "vzdump", name }, archives: [{ ...ourArchive, notes: "nightly" }] },
      ["notTaken"],
    ],
    [
      "vzdump still running: wait",
      { intent: { kind: "vzdump", name }, lock: "backup", taskRunning: true },
      ["inProgress"],
    ],
    [
      "vzdump interrupted, lock left, no task: unlock, back up again",
      { intent: { kind: "vzdump", name }, lock: "backup" },
      ["cleanup", ["pct unlock 120"]],
    ],
  ] as const)("%s", (_case, o, expected) => {
    expect(row(o as Partial<BackupResumeObservation>)).toEqual(expected);
  });
});

describe("resumeRollback after a crash in RollingBack", () => {
  const since = Date.parse("2026-03-04T06:00:00Z");
  const task = (type: string, startSec: number, status: string | undefined) => ({
    upid: `UPID:pve1:1:1:${startSec.toString(16)}:${type}:120:root@pam:`,
    node: "pve1",
    type,
    id: "120",
    user: "root@pam",
    startTime: startSec,
    endTime: status === undefined ? undefined : startSec + 5,
    status,
    running: status === undefined,
  });
  const after = since / 1000 + 10;
  const snapshotIntent = { kind: "snapshot" as const, name };
  const restoreIntent = { kind: "vzdump" as const, volid: "pbs:backup/vzdump-lxc-120-x.tar.zst" };
  const rb = (o: Partial<Parameters<typeof resumeRollback>[0]>) => {
    const r = resumeRollback({
      vmid: 120,
      intent: snapshotIntent,
      since,
      lock: undefined,
      tasks: [],
      running: true,
      ...o,
    });
    return "steps" in r ? [r.kind, r.steps.map((s) => s.argv.join(" "))] : [r.kind];
  };

  it.each([
    [
      "our rollback task finished OK, container running: done",
      { tasks: [task("vzrollback", after, "OK")] },
      ["done", []],
    ],
    [
      "finished OK but stopped: start it",
      { tasks: [task("vzrollback", after, "OK")], running: false },
      ["done", ["pct start 120"]],
    ],
    ["still running: wait", { tasks: [task("vzrollback", after, undefined)] }, ["inProgress"]],
    ["failed: say so", { tasks: [task("vzrollback", after, "snapshot 'x' does not exist")] }, ["failed"]],
    [
      "an older rollback task is not this one: run it",
      { tasks: [task("vzrollback", since / 1000 - 3600, "OK")] },
      ["notDone"],
    ],
    ["lock rollback left, no task: unlock, run again", { lock: "rollback" }, ["cleanup", ["pct unlock 120"]]],
    ["someone's backup lock: not ours to clear", { lock: "backup" }, ["notDone"]],
    [
      "restore proven by its vzrestore task",
      { intent: restoreIntent, tasks: [task("vzrestore", after, "OK")], running: false },
      ["done", ["pct start 120"]],
    ],
    [
      "restore interrupted with lock create: unlock, run again",
      { intent: restoreIntent, lock: "create" },
      ["cleanup", ["pct unlock 120"]],
    ],
  ] as const)("%s", (_case, o, expected) => {
    expect(rb(o as Partial<Parameters<typeof resumeRollback>[0]>)).toEqual(expected);
  });
});
