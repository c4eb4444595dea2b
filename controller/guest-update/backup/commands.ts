/**
 * The argv of every backup step, with its timeout and whether it runs as a remote job (a transient
 * unit on the node: vzdump and restore take long and must survive an SSH drop). Built only from
 * src/pve's validated argv builders.
 */
import { freeVolumeArgv, restoreArgv, vzdumpArgv } from "../../../src/pve/backup.js";
import { vmid as vmidArg } from "../../../src/pve/args.js";
import {
  createSnapshotArgv,
  deleteSnapshotArgv,
  listSnapshotsArgv,
  rollbackSnapshotArgv,
} from "../../../src/pve/snapshots.js";
import { PveTimeouts } from "../../../src/pve/timeouts.js";
import { backupContentArgv } from "../../../src/pve/backup.js";
import type { BackupChoice } from "./choose.js";

export interface BackupStep {
  /** For logs, status and job names: snapshot, vzdump, delsnapshot, unlock, stop, restore, start, rollback. */
  id: string;
  argv: string[];
  timeoutMs: number;
  job: boolean;
}

const step = (id: string, argv: string[], timeoutMs: number, job = false): BackupStep => ({
  id,
  argv,
  timeoutMs,
  job,
});

/** The one step that takes the chosen backup; none for mode none or a Blocked container. */
export function takeBackupSteps(vmid: number, choice: BackupChoice, timeoutMs?: number): BackupStep[] {
  switch (choice.kind) {
    case "snapshot":
      return [
        step(
          "snapshot",
          createSnapshotArgv("lxc", vmid, choice.name, { description: choice.description }),
          timeoutMs ?? PveTimeouts.snapshot,
        ),
      ];
    case "vzdump":
      return [
        step(
          "vzdump",
          vzdumpArgv(vmid, { storage: choice.storage, mode: "snapshot", notes: choice.notes }),
          timeoutMs ?? PveTimeouts.backup,
          true,
        ),
      ];
    case "none":
    case "blocked":
      return [];
  }
}

/** Proves a snapshot exists (crash-resume after BackingUp) and feeds retention. */
export function listSnapshotsStep(vmid: number): BackupStep {
  return step("listsnapshot", listSnapshotsArgv("lxc", vmid), PveTimeouts.api);
}

/** Proves an archive exists and feeds retention. */
export function listArchivesStep(node: string, storage: string, vmid: number): BackupStep {
  return step("list-archives", backupContentArgv(node, storage, vmid), PveTimeouts.api);
}

export function deleteSnapshotStep(vmid: number, name: string, force = false): BackupStep {
  return step("delsnapshot", deleteSnapshotArgv("lxc", vmid, name, { force }), PveTimeouts.snapshot);
}

export function deleteArchiveStep(volid: string): BackupStep {
  return step("free", freeVolumeArgv(volid), PveTimeouts.api);
}

/** Clears a lock Refit's own interrupted step left (never someone else's: see prune.ts). */
export function unlockStep(vmid: number): BackupStep {
  return step("unlock", ["pct", "unlock", vmidArg(vmid)], PveTimeouts.api);
}

/** `pct rollback` stops a running container itself (pve-container __snapshot_rollback_vm_stop); --start brings it back. */
export function rollbackSteps(vmid: number, name: string): BackupStep[] {
  return [step("rollback", rollbackSnapshotArgv("lxc", vmid, name, { start: true }), PveTimeouts.snapshot)];
}

/**
 * Restore over the container itself: pct restore refuses a running container ("can't overwrite
 * running container"), so stop, restore with --force to the rootfs storage (without --storage every
 * volume would go to 'local'), start.
 */
export function restoreSteps(vmid: number, volid: string, storage: string): BackupStep[] {
  const id = vmidArg(vmid);
  return [
    step("stop", ["pct", "stop", id], PveTimeouts.guestPower),
    step("restore", restoreArgv("lxc", vmid, volid, { storage, force: true }), PveTimeouts.backup, true),
    step("start", ["pct", "start", id], PveTimeouts.guestPower),
  ];
}
