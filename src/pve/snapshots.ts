import { guestCli, snapshotName, vmid as vmidArg, type GuestKind } from "./args.js";
import { unparseable, type ParseContext } from "./errors.js";

export function listSnapshotsArgv(kind: GuestKind, vmid: number): string[] {
  return [guestCli(kind), "listsnapshot", vmidArg(vmid)];
}

export interface CreateSnapshotOptions {
  readonly description?: string;
  /** VMs only: include RAM state. */
  readonly vmstate?: boolean;
}

export function createSnapshotArgv(
  kind: GuestKind,
  vmid: number,
  name: string,
  opts: CreateSnapshotOptions = {},
): string[] {
  const argv = [guestCli(kind), "snapshot", vmidArg(vmid), snapshotName(name)];
  if (opts.description !== undefined) argv.push("--description", opts.description);
  if (opts.vmstate && kind === "qemu") argv.push("--vmstate", "1");
  return argv;
}

export function deleteSnapshotArgv(
  kind: GuestKind,
  vmid: number,
  name: string,
  opts: { force?: boolean } = {},
): string[] {
  const argv = [guestCli(kind), "delsnapshot", vmidArg(vmid), snapshotName(name)];
  if (opts.force) argv.push("--force", "1");
  return argv;
}

export function rollbackSnapshotArgv(
  kind: GuestKind,
  vmid: number,
  name: string,
  opts: { start?: boolean } = {},
): string[] {
  const argv = [guestCli(kind), "rollback", vmidArg(vmid), snapshotName(name)];
  if (opts.start) argv.push("--start", "1");
  return argv;
}

export interface SnapshotEntry {
  readonly name: string;
  /** Snapshot this one was taken on top of (undefined for a root). */
  readonly parent: string | undefined;
  /** Local time as printed (`YYYY-MM-DD HH:MM:SS`); the CLI gives no time zone. */
  readonly time: string | undefined;
  /** First line of the description ("no-description" when none was set). */
  readonly description: string;
}

export interface SnapshotList {
  readonly snapshots: readonly SnapshotEntry[];
  /** The snapshot the running state descends from (the `current` entry's parent). */
  readonly currentParent: string | undefined;
  /** Whether the output had a `current` entry. */
  readonly hasCurrent: boolean;
}

/**
 * Parses `qm|pct listsnapshot <vmid>` (PVE::GuestHelpers::print_snapshot_tree):
 *
 *     `-> autodaily250101020000       2025-01-01 02:00:01     cv4pve-autosnap
 *      `-> Update_20250102_031500     2025-01-02 03:15:00     no-description
 *       `-> current                                           You are here!
 *
 * Children are indented further than their parent; the parent is the nearest line above with less
 * indentation. `current` is the guest's live state, not a snapshot.
 */
export function parseSnapshotList(text: string, ctx?: ParseContext): SnapshotList {
  const cmd = "qm|pct listsnapshot <vmid>";
  const snapshots: SnapshotEntry[] = [];
  const stack: { indent: number; name: string }[] = [];
  let currentParent: string | undefined;
  let hasCurrent = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = /^(\s*)`->\s(\S+)(.*)$/.exec(line);
    if (!m) unparseable(ctx, cmd, text, `"${line.trim()}" is not a snapshot tree line`);
    const indent = (m[1] ?? "").length;
    const name = m[2] ?? "";
    const rest = (m[3] ?? "").trim();
    while (stack.length > 0 && (stack[stack.length - 1]?.indent ?? 0) >= indent) stack.pop();
    const parent = stack[stack.length - 1]?.name;
    const timed = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\s+(.*))?$/.exec(rest);
    const time = timed?.[1];
    const description = (timed ? (timed[2] ?? "") : rest).trim();
    if (name === "current" && time === undefined) {
      hasCurrent = true;
      currentParent = parent;
    } else {
      snapshots.push({ name, parent, time, description });
    }
    stack.push({ indent, name });
  }
  return { snapshots, currentParent, hasCurrent };
}

/**
 * Snapshot name Refit uses: `refit-<plan>-<yyyyMMddHHmmss>` (UTC), within Proxmox's 40 characters.
 * The plan part is reduced to allowed characters and shortened when needed.
 */
export function refitSnapshotName(plan: string, epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const stamp = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  const safe = plan.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "plan";
  const room = 40 - "refit-".length - 1 - stamp.length;
  return snapshotName(`refit-${safe.slice(0, room).replace(/-+$/, "")}-${stamp}`);
}

/** Whether a snapshot was made by Refit for this plan (only those are pruned by retention). */
export function isRefitSnapshot(name: string, plan: string): boolean {
  const prefix = refitSnapshotName(plan, 0).slice(0, -"-19700101000000".length);
  return name.startsWith(`${prefix}-`) && /-\d{14}$/.test(name) && name.length === prefix.length + 15;
}
