import { nodeName, positiveInt, storageId, vmid as vmidArg } from "./args.js";

export interface VmMigrateOptions {
  /** Live migration of a running VM (ignored by qm for a stopped VM). Default true. */
  readonly online?: boolean;
  /** Copy local disks along (needed when any disk is on non-shared storage). */
  readonly withLocalDisks?: boolean;
  /** Target storage for local disks (a single id maps every source storage to it). */
  readonly targetStorage?: string;
  readonly bwlimitKiB?: number;
}

/** `qm migrate <vmid> <target> --online 1 [--with-local-disks 1] [--targetstorage s] [--bwlimit n]` */
export function qmMigrateArgv(vmid: number, target: string, opts: VmMigrateOptions = {}): string[] {
  const argv = [
    "qm",
    "migrate",
    vmidArg(vmid),
    nodeName(target),
    "--online",
    opts.online === false ? "0" : "1",
  ];
  if (opts.withLocalDisks) argv.push("--with-local-disks", "1");
  if (opts.targetStorage !== undefined) argv.push("--targetstorage", storageId(opts.targetStorage));
  if (opts.bwlimitKiB !== undefined) argv.push("--bwlimit", positiveInt(opts.bwlimitKiB, "bwlimit"));
  return argv;
}

export interface CtMigrateOptions {
  /**
   * Shut the container down, move it, start it on the target (containers cannot live-migrate:
   * "lxc live migration is currently not implemented"). Default true.
   */
  readonly restart?: boolean;
  /** Shutdown timeout in seconds for restart mode (pct's default is 180). */
  readonly timeoutSec?: number;
  readonly targetStorage?: string;
  readonly bwlimitKiB?: number;
}

/** `pct migrate <vmid> <target> --restart 1 [--timeout n] [--target-storage s] [--bwlimit n]` */
export function pctMigrateArgv(vmid: number, target: string, opts: CtMigrateOptions = {}): string[] {
  const argv = ["pct", "migrate", vmidArg(vmid), nodeName(target)];
  if (opts.restart !== false) argv.push("--restart", "1");
  if (opts.timeoutSec !== undefined) argv.push("--timeout", positiveInt(opts.timeoutSec, "timeout"));
  if (opts.targetStorage !== undefined) argv.push("--target-storage", storageId(opts.targetStorage));
  if (opts.bwlimitKiB !== undefined) argv.push("--bwlimit", positiveInt(opts.bwlimitKiB, "bwlimit"));
  return argv;
}

export { haMigrateArgv } from "./ha.js";
