/**
 * Which backup to take before a container's update (pure). The policy's mode decides, except that
 * a container that cannot be snapshotted falls back to vzdump when the policy names a fallback
 * storage, and is Blocked (nothing changed, a clear reason) when it does not.
 */
import type { BackupSpec } from "../../../src/api/backup.js";
import { backupName, snapshotDescription, vzdumpNotes } from "./naming.js";
import { describeVolume, snapshotBlockers, type ContainerVolume } from "./volumes.js";

export interface BackupContext {
  plan: string;
  cycle: string;
  vmid: number;
  /** The container's rootfs and mount points (volumes.ts containerVolumes). */
  volumes: readonly ContainerVolume[];
  now: number;
}

export type BackupChoice =
  | { kind: "snapshot"; name: string; description: string }
  | {
      kind: "vzdump";
      name: string;
      storage: string;
      notes: string;
      /** Set when this is the fallback for a container that cannot be snapshotted: why. */
      fallbackReason?: string;
      /** Volumes vzdump leaves out (mount points without backup=1, bind mounts): a restore does not bring them back. */
      notCovered: string[];
    }
  | { kind: "none" }
  | { kind: "blocked"; reason: "SnapshotUnsupported"; message: string };

export function chooseBackup(policy: BackupSpec, ctx: BackupContext): BackupChoice {
  if (policy.mode === "none") return { kind: "none" };
  const name = backupName(ctx.plan, ctx.now);
  if (policy.mode === "vzdump") return vzdump(name, policy.storage ?? "local", ctx);
  const blockers = snapshotBlockers(ctx.volumes);
  if (blockers.length === 0) return { kind: "snapshot", name, description: snapshotDescription(ctx) };
  const why = `CT ${ctx.vmid} cannot be snapshotted: ${blockers.map(describeVolume).join(", ")} ${blockers.length === 1 ? "does" : "do"} not support snapshots`;
  if (policy.fallbackStorage !== undefined)
    return { ...vzdump(name, policy.fallbackStorage, ctx), fallbackReason: why };
  return {
    kind: "blocked",
    reason: "SnapshotUnsupported",
    message: `${why}; set backup.fallbackStorage to take a vzdump instead, use backup mode vzdump, or move the volume to snapshot-capable storage (zfspool, lvmthin, rbd, btrfs)`,
  };
}

function vzdump(
  name: string,
  storage: string,
  ctx: BackupContext,
): Extract<BackupChoice, { kind: "vzdump" }> {
  return {
    kind: "vzdump",
    name,
    storage,
    notes: vzdumpNotes(name, ctx),
    notCovered: ctx.volumes.filter((v) => !v.backedUp).map(describeVolume),
  };
}
