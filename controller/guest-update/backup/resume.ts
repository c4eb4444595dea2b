/**
 * After a crash in BackingUp (pure): did the backup recorded in currentStep happen? Proven from the
 * world only: the snapshot in `pct listsnapshot` with no snapshot lock left, or an archive whose
 * notes begin with the backup's name. A lock that Refit's own interrupted step left (its worker task
 * no longer runs) is cleared, never one that someone else's running task holds, so a container is
 * never left locked and no backup is taken twice.
 */
import type { BackupVolume } from "../../../src/pve/backup.js";
import type { SnapshotList } from "../../../src/pve/snapshots.js";
import type { PveTask } from "../../../src/pve/tasks.js";
import { PveTimeouts } from "../../../src/pve/timeouts.js";
import { deleteSnapshotStep, unlockStep, type BackupStep } from "./commands.js";
import { archiveBackupName } from "./naming.js";

export interface BackupResumeObservation {
  vmid: number;
  plan: string;
  /** What currentStep recorded before acting: the kind and the name chosen then. */
  intent: { kind: "snapshot" | "vzdump"; name: string };
  lock: string | undefined;
  snapshots: SnapshotList;
  /** The archives of this vmid on the backup's storage (vzdump only). */
  archives: readonly BackupVolume[];
  /**
   * A vzsnapshot (snapshot) or vzdump (vzdump) task still runs on the node for this vmid; for
   * vzdump also one with an empty id (a job over several guests names none), so the lock of a
   * scheduled backup job is never taken for Refit's.
   */
  taskRunning: boolean;
}

export type BackupResume =
  | { kind: "taken"; volid?: string }
  | { kind: "inProgress"; message: string }
  | { kind: "cleanup"; steps: BackupStep[]; message: string }
  | { kind: "notTaken" };

export function resumeBackup(o: BackupResumeObservation): BackupResume {
  return o.intent.kind === "snapshot" ? resumeSnapshot(o) : resumeVzdump(o);
}

function resumeSnapshot(o: BackupResumeObservation): BackupResume {
  const { name } = o.intent;
  const listed = o.snapshots.snapshots.some((s) => s.name === name);
  if (o.lock !== "snapshot") return listed ? { kind: "taken" } : { kind: "notTaken" };
  if (o.taskRunning)
    return { kind: "inProgress", message: `snapshot ${name} of CT ${o.vmid} is still being taken` };
  // The snapshot lock and our half-made snapshot, and no worker: pve-guest-common's prepare wrote
  // both; the commit never ran. Remove the half-made one, then take it again.
  if (listed)
    return {
      kind: "cleanup",
      steps: [unlockStep(o.vmid), deleteSnapshotStep(o.vmid, name, true)],
      message: `snapshot ${name} of CT ${o.vmid} was interrupted (lock snapshot, no task): unlock, remove it, take it again`,
    };
  return {
    kind: "inProgress",
    message: `CT ${o.vmid} is locked (snapshot) by a snapshot that is not Refit's ${name}`,
  };
}

function resumeVzdump(o: BackupResumeObservation): BackupResume {
  const { name } = o.intent;
  const archive = o.archives.find((a) => a.vmid === o.vmid && archiveBackupName(a.notes, o.plan) === name);
  if (archive) return { kind: "taken", volid: archive.volid };
  if (o.lock !== "backup") return { kind: "notTaken" };
  if (o.taskRunning)
    return { kind: "inProgress", message: `vzdump of CT ${o.vmid} (${name}) is still running` };
  return {
    kind: "cleanup",
    steps: [unlockStep(o.vmid)],
    message: `vzdump ${name} of CT ${o.vmid} was interrupted (lock backup, no vzdump task, no archive): unlock, back up again`,
  };
}

export interface RollbackResumeObservation {
  vmid: number;
  /** What currentStep recorded: the snapshot rolled back to, or the archive restored. */
  intent: { kind: "snapshot"; name: string } | { kind: "vzdump"; volid: string };
  /** When the step was recorded (currentStep.startedAt), epoch ms: older tasks are not this one. */
  since: number;
  lock: string | undefined;
  /** The container's tasks (guestTasksArgv, parseTaskList). */
  tasks: readonly PveTask[];
  running: boolean;
}

export type RollbackResume =
  | { kind: "done"; steps: BackupStep[] }
  | { kind: "inProgress"; message: string }
  | { kind: "failed"; message: string }
  | { kind: "cleanup"; steps: BackupStep[]; message: string }
  | { kind: "notDone" };

/**
 * After a crash in RollingBack (pure): the rollback is proven by its worker task (vzrollback for a
 * snapshot, vzrestore for an archive) started after the step was recorded and finished OK; the
 * container's contents cannot prove it (the update's snapshot is `current`'s parent before and after).
 * A lock its dead worker left (rollback, create) is cleared and the step run again: both are
 * repeatable from scratch.
 */
export function resumeRollback(o: RollbackResumeObservation): RollbackResume {
  const type = o.intent.kind === "snapshot" ? "vzrollback" : "vzrestore";
  const what =
    o.intent.kind === "snapshot"
      ? `rollback of CT ${o.vmid} to ${o.intent.name}`
      : `restore of CT ${o.vmid} from ${o.intent.volid}`;
  const mine = o.tasks
    .filter((t) => t.type === type && t.id === String(o.vmid) && (t.startTime ?? 0) * 1000 >= o.since - 1000)
    .sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0));
  const last = mine[0];
  if (last?.running) return { kind: "inProgress", message: `${what} is still running` };
  if (last?.status === "OK") return { kind: "done", steps: o.running ? [] : [startStep(o.vmid)] };
  if (last !== undefined)
    return { kind: "failed", message: `${what} failed: ${last.status ?? "unknown status"}` };
  const leftLock = o.intent.kind === "snapshot" ? "rollback" : "create";
  if (o.lock === leftLock)
    return {
      kind: "cleanup",
      steps: [unlockStep(o.vmid)],
      message: `${what} was interrupted (lock ${leftLock}, no task): unlock and run it again`,
    };
  return { kind: "notDone" };
}

function startStep(vmid: number): BackupStep {
  return { id: "start", argv: ["pct", "start", String(vmid)], timeoutMs: PveTimeouts.guestPower, job: false };
}
