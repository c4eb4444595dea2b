import { archiveRef, storageId, vmid as vmidArg, type GuestKind } from "./args.js";
import { unparseable, type ParseContext } from "./errors.js";

export interface VzdumpOptions {
  readonly storage: string;
  /** Default "snapshot": the guest keeps running. */
  readonly mode?: "snapshot" | "suspend" | "stop";
  /** Default "zstd" (ignored by Proxmox Backup Server storages, which compress themselves). */
  readonly compress?: "zstd" | "gzip" | "lzo" | "0";
}

/** `vzdump <vmid> --mode snapshot --storage <s> --compress zstd` */
export function vzdumpArgv(vmid: number, opts: VzdumpOptions): string[] {
  return [
    "vzdump",
    vmidArg(vmid),
    "--mode",
    opts.mode ?? "snapshot",
    "--storage",
    storageId(opts.storage),
    "--compress",
    opts.compress ?? "zstd",
  ];
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
