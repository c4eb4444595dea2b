/**
 * Retention (pure): which of Refit's OWN backups of this plan and container to prune. A snapshot is
 * Refit's when its name is `refit-<this plan>-<stamp>`; an archive when its notes begin with such a
 * name and it belongs to this vmid. Nothing else is ever listed for pruning.
 */
import type { RetentionSpec } from "../../../src/api/backup.js";
import { parseDuration } from "../../../src/api/primitives.js";
import type { BackupVolume } from "../../../src/pve/backup.js";
import type { SnapshotList } from "../../../src/pve/snapshots.js";
import { archiveBackupName, backupTakenAt, isRefitSnapshot } from "./naming.js";

export interface OwnedBackup {
  kind: "snapshot" | "vzdump";
  /** The Refit name (snapshot name, or the name the archive's notes begin with). */
  name: string;
  /** What deletes it: the snapshot name, or the archive's volid. */
  ref: string;
  takenAt: number;
  /** A protected archive cannot be removed; retention leaves it and says so. */
  protected: boolean;
}

export function ownSnapshots(list: SnapshotList, plan: string): OwnedBackup[] {
  const owned: OwnedBackup[] = [];
  for (const s of list.snapshots) {
    if (!isRefitSnapshot(s.name, plan)) continue;
    const takenAt = backupTakenAt(s.name);
    if (takenAt !== undefined)
      owned.push({ kind: "snapshot", name: s.name, ref: s.name, takenAt, protected: false });
  }
  return owned;
}

export function ownArchives(volumes: readonly BackupVolume[], plan: string, vmid: number): OwnedBackup[] {
  const owned: OwnedBackup[] = [];
  for (const v of volumes) {
    if (v.vmid !== vmid) continue;
    const name = archiveBackupName(v.notes, plan);
    const takenAt = name === undefined ? undefined : backupTakenAt(name);
    if (name !== undefined && takenAt !== undefined)
      owned.push({ kind: "vzdump", name, ref: v.volid, takenAt, protected: v.protected });
  }
  return owned;
}

export interface RetentionDecision {
  /** Oldest first, so an interrupted prune always leaves the newest backups. */
  prune: OwnedBackup[];
  kept: OwnedBackup[];
  /** Would be pruned but cannot be (protected archives): for status, not an error. */
  skipped: { backup: OwnedBackup; why: string }[];
}

/**
 * Keeps the newest `keepLast`, then drops any older than `maxAge` even among those. `keep` names
 * are never pruned: the backup of the update in flight, or one a Manual rollback still needs.
 */
export function backupsToPrune(
  owned: readonly OwnedBackup[],
  retention: RetentionSpec,
  now: number,
  keep: readonly string[] = [],
): RetentionDecision {
  const maxAge = retention.maxAge === undefined ? undefined : parseDuration(retention.maxAge);
  const newestFirst = [...owned].sort((a, b) => b.takenAt - a.takenAt || (a.ref < b.ref ? 1 : -1));
  const decision: RetentionDecision = { prune: [], kept: [], skipped: [] };
  newestFirst.forEach((b, i) => {
    const tooOld = maxAge !== undefined && now - b.takenAt > maxAge;
    const wanted = keep.includes(b.name) || keep.includes(b.ref) || (i < retention.keepLast && !tooOld);
    if (wanted) decision.kept.push(b);
    else if (b.protected)
      decision.skipped.push({
        backup: b,
        why: `archive ${b.ref} is protected; unprotect it to let retention remove it`,
      });
    else decision.prune.push(b);
  });
  decision.prune.reverse();
  return decision;
}
