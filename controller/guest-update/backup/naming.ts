/**
 * How Refit marks its own backups, so retention prunes only those: snapshots by name
 * (`refit-<plan>-<yyyyMMddHHmmss>`, src/pve/snapshots.ts), vzdump archives by notes that begin
 * with that name (an archive's own file name says nothing about who made it).
 */
import { isRefitSnapshot, refitSnapshotName } from "../../../src/pve/snapshots.js";

export function backupName(plan: string, epochMs: number): string {
  return refitSnapshotName(plan, epochMs);
}

/** The snapshot's description: who took it, why, and that Refit's retention will remove it. */
export function snapshotDescription(o: { plan: string; cycle: string; vmid: number }): string {
  return `Taken by Refit before updating CT ${o.vmid} (GuestUpdatePlan ${o.plan}, cycle ${o.cycle}); pruned by Refit's retention.`;
}

/**
 * vzdump's --notes-template: the name first, so listings identify the archive. PVE::VZDump refuses a
 * template with a line feed, a backslash escape other than \n and \\, or a {{variable}} other than
 * cluster, guestname, node and vmid; plan and cycle names cannot contain any of those.
 */
export function vzdumpNotes(name: string, o: { plan: string; cycle: string; vmid: number }): string {
  return `${name} taken by Refit before updating CT ${o.vmid} (GuestUpdatePlan ${o.plan}, cycle ${o.cycle})`;
}

/** The Refit name an archive's notes begin with, if they do (for this plan only). */
export function archiveBackupName(notes: string | undefined, plan: string): string | undefined {
  const first = (notes ?? "").trim().split(/\s+/)[0] ?? "";
  return isRefitSnapshot(first, plan) ? first : undefined;
}

/** When a Refit backup was taken, from the UTC stamp in its name (listsnapshot prints local time without a zone). */
export function backupTakenAt(name: string): number | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export { isRefitSnapshot };
