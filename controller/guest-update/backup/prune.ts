/**
 * One pruning step at a time (pure), retried when the container is locked and never leaving it
 * locked: a `snapshot-delete` lock is cleared only when Refit's own recorded intent says it was
 * deleting that very snapshot and no delete task of the container still runs; any other lock is
 * someone else's work, waited for with a bound, after which pruning is left for the next run (an
 * update never fails because old backups could not be pruned).
 */
import { deleteArchiveStep, deleteSnapshotStep, unlockStep, type BackupStep } from "./commands.js";
import type { OwnedBackup } from "./retention.js";

/** How long pruning waits for someone else's lock before leaving it for the next run. */
export const PRUNE_LOCK_WAIT_MS = 10 * 60_000;
export const PRUNE_RETRY_MS = 30_000;

export interface PruneObservation {
  vmid: number;
  /** The container's Proxmox lock now, if any. */
  lock: string | undefined;
  /** Still to prune (retentionDecision.prune, re-derived from a fresh listing each time). */
  pending: readonly OwnedBackup[];
  /** The prune step Refit recorded before acting (status currentStep), if one is in flight. */
  intent: { ref: string } | undefined;
  /** A vzdelsnapshot task of this container still runs on the node. */
  deleteTaskRunning: boolean;
  /** When pruning first found the container locked (undefined: not waiting). */
  lockedSince: number | undefined;
  now: number;
}

export type PruneDecision =
  | { kind: "done" }
  | { kind: "act"; target: OwnedBackup; steps: BackupStep[]; why: string }
  | { kind: "wait"; reason: "Locked"; message: string; requeueAfterMs: number }
  | { kind: "giveUp"; reason: "PruneLocked"; message: string };

export function decidePrune(o: PruneObservation): PruneDecision {
  const next = o.pending[0];
  if (next === undefined) return { kind: "done" };
  // Removing an archive does not take the container's lock.
  if (next.kind === "vzdump")
    return {
      kind: "act",
      target: next,
      steps: [deleteArchiveStep(next.ref)],
      why: `prune archive ${next.ref}`,
    };
  if (o.lock === undefined)
    return {
      kind: "act",
      target: next,
      steps: [deleteSnapshotStep(o.vmid, next.ref)],
      why: `prune snapshot ${next.ref}`,
    };
  const ours =
    o.lock === "snapshot-delete" && o.intent !== undefined && o.pending.some((b) => b.ref === o.intent?.ref);
  if (ours && !o.deleteTaskRunning) {
    const target = o.pending.find((b) => b.ref === o.intent?.ref) ?? next;
    return {
      kind: "act",
      target,
      // --force finishes a half-done delete (snapstate=delete) even if a volume snapshot is already gone.
      steps: [unlockStep(o.vmid), deleteSnapshotStep(o.vmid, target.ref, true)],
      why: `CT ${o.vmid} was left locked (snapshot-delete) by Refit's interrupted delete of ${target.ref}: unlock and finish it`,
    };
  }
  const waited = o.lockedSince === undefined ? 0 : o.now - o.lockedSince;
  if (waited >= PRUNE_LOCK_WAIT_MS)
    return {
      kind: "giveUp",
      reason: "PruneLocked",
      message: `CT ${o.vmid} stayed locked (${o.lock}) for ${Math.round(waited / 60_000)} min; ${o.pending.length} old Refit backup(s) are left for the next run`,
    };
  return {
    kind: "wait",
    reason: "Locked",
    message: `pruning CT ${o.vmid} waits: the container is locked (${o.lock})${ours ? " by Refit's delete, which is still running" : ""}`,
    requeueAfterMs: PRUNE_RETRY_MS,
  };
}
