/**
 * After a crash in BackingUp (pure): did the backup recorded in currentStep happen? Proven from the
 * world only: the snapshot in `pct listsnapshot` with no snapshot lock left, or an archive whose
 * notes begin with the backup's name. A lock that Refit's own interrupted step left (its worker task
 * no longer runs) is cleared, never one that someone else's running task holds, so a container is
 * never left locked and no backup is taken twice.
 */
import type { BackupVolume } from "../../../src/pve/backup.js";
import type { SnapshotList } from "../../../src/pve/snapshots.js";
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
