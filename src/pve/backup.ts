import { z } from "zod";
import { archiveRef, nodeName, storageId, vmid as vmidArg, type GuestKind } from "./args.js";
import { InvalidArgumentError, unparseable, type ParseContext } from "./errors.js";
import { parseJsonWith } from "./json.js";

export interface VzdumpOptions {
  readonly storage: string;
  /** Default "snapshot": the guest keeps running. */
  readonly mode?: "snapshot" | "suspend" | "stop";
  /** Default "zstd" (ignored by Proxmox Backup Server storages, which compress themselves). */
  readonly compress?: "zstd" | "gzip" | "lzo" | "0";
  /** Notes stored with the archive (`--notes-template`); how Refit recognises its own archives. */
  readonly notes?: string;
}

/** `vzdump <vmid> --mode snapshot --storage <s> --compress zstd [--notes-template <notes>]` */
export function vzdumpArgv(vmid: number, opts: VzdumpOptions): string[] {
  const argv = [
    "vzdump",
    vmidArg(vmid),
    "--mode",
    opts.mode ?? "snapshot",
    "--storage",
    storageId(opts.storage),
    "--compress",
    opts.compress ?? "zstd",
  ];
  if (opts.notes !== undefined) argv.push("--notes-template", notesTemplate(opts.notes));
  return argv;
}

/**
 * Literal notes as a vzdump notes template. PVE::VZDump's verify_notes_template refuses a line
 * feed, a backslash escape other than \n and \\, and {{variables}} other than cluster, guestname,
 * node and vmid; literal notes must use none of them.
 */
export function notesTemplate(notes: string): string {
  if (notes.length === 0 || /[\n\\]|\{\{/.test(notes))
    throw new InvalidArgumentError(
      `vzdump notes ${JSON.stringify(notes)} must be one non-empty line without "\\" or "{{".`,
      { notes },
    );
  return notes;
}

export interface RestoreOptions {
  readonly storage: string;
  /** Overwrite the existing guest with that vmid (a rollback restores over itself). Default true. */
  readonly force?: boolean;
}

/** `pct restore <vmid> <archive> --storage <s> --force 1` / `qmrestore <archive> <vmid> --storage <s> --force 1` */
export function restoreArgv(kind: GuestKind, vmid: number, archive: string, opts: RestoreOptions): string[] {
  const id = vmidArg(vmid);
  const ref = archiveRef(archive);
  const tail = ["--storage", storageId(opts.storage), ...(opts.force === false ? [] : ["--force", "1"])];
  return kind === "lxc" ? ["pct", "restore", id, ref, ...tail] : ["qmrestore", ref, id, ...tail];
}

export interface VzdumpArchive {
  /** What vzdump printed: a file path, or a PBS snapshot path (`ct/101/2025-01-01T02:00:00Z`). */
  readonly printed: string;
  readonly target: "file" | "pbs";
  /** Volume id usable by pct restore / qmrestore: `<storage>:backup/<name>`. */
  readonly volid: string;
}

/**
 * Finds the archive in vzdump's log: `INFO: creating vzdump archive '/var/lib/vz/dump/vzdump-lxc-101-….tar.zst'`
 * for file storages, `INFO: creating Proxmox Backup Server archive 'ct/101/2025-01-01T02:00:00Z'` for PBS.
 */
export function parseVzdumpArchive(text: string, storage: string, ctx?: ParseContext): VzdumpArchive {
  const file = /creating vzdump archive '([^']+)'/.exec(text)?.[1];
  if (file !== undefined) {
    const name = file.slice(file.lastIndexOf("/") + 1);
    return { printed: file, target: "file", volid: `${storage}:backup/${name}` };
  }
  const pbs = /creating Proxmox Backup Server archive '([^']+)'/.exec(text)?.[1];
  if (pbs !== undefined) return { printed: pbs, target: "pbs", volid: `${storage}:backup/${pbs}` };
  return unparseable(ctx, "vzdump <vmid> ...", text, "no `creating ... archive '...'` line");
}

/** `pvesh get /nodes/<node>/storage/<storage>/content --content backup --vmid <vmid>`: the guest's archives there. */
export function backupContentArgv(node: string, storage: string, vmid: number): string[] {
  return [
    "pvesh",
    "get",
    `/nodes/${nodeName(node)}/storage/${storageId(storage)}/content`,
    "--content",
    "backup",
    "--vmid",
    vmidArg(vmid),
    "--output-format",
    "json",
  ];
}

export interface BackupVolume {
  readonly volid: string;
  readonly vmid: number | undefined;
  /** Creation time, epoch seconds. */
  readonly ctime: number | undefined;
  /** The archive's notes (absent when none were set). */
  readonly notes: string | undefined;
  /** Protected archives cannot be removed until unprotected. */
  readonly protected: boolean;
  readonly size: number | undefined;
}

const contentSchema = z.array(
  z.looseObject({
    volid: z.string(),
    vmid: z.union([z.number(), z.string()]).optional(),
    ctime: z.union([z.number(), z.string()]).optional(),
    notes: z.string().optional(),
    protected: z.union([z.number(), z.boolean(), z.string()]).optional(),
    size: z.union([z.number(), z.string()]).optional(),
  }),
);

const num = (v: number | string | undefined): number | undefined => {
  const n = typeof v === "string" ? Number(v) : v;
  return n !== undefined && Number.isFinite(n) ? n : undefined;
};

/** Parses the storage content listing (PVE::API2::Storage::Content index). */
export function parseBackupContent(text: string, ctx?: ParseContext): BackupVolume[] {
  const rows = parseJsonWith(contentSchema, text, "pvesh get /nodes/<node>/storage/<storage>/content", ctx);
  return rows.map((r) => ({
    volid: r.volid,
    vmid: num(r.vmid),
    ctime: num(r.ctime),
    notes: r.notes,
    protected: r.protected === 1 || r.protected === true || r.protected === "1",
    size: num(r.size),
  }));
}

/** `pvesm free <volid>`: removes a backup archive (and its .notes and .log). */
export function freeVolumeArgv(volid: string): string[] {
  return ["pvesm", "free", archiveRef(volid)];
}
