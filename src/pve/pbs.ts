import { z } from "zod";
import { unparseable, type ParseContext } from "./errors.js";
import { optNumber, optString, parseJsonText, validateJson } from "./json.js";

export const PBS_VERSIONS_ARGV = ["proxmox-backup-manager", "versions", "--output-format", "json"] as const;
/** Without `--all`, only running tasks are listed. */
export const PBS_TASK_LIST_ARGV = [
  "proxmox-backup-manager",
  "task",
  "list",
  "--output-format",
  "json",
] as const;
export const PBS_SERVICES = ["proxmox-backup", "proxmox-backup-proxy"] as const;

export interface PbsPackageVersion {
  readonly package: string;
  readonly version: string;
  readonly extraInfo: string | undefined;
}

const versionRow = z.object({ Package: z.string(), Version: z.string(), ExtraInfo: optString });

/**
 * Parses `proxmox-backup-manager versions --output-format json` (`[{Package, Version, ExtraInfo}]`),
 * falling back to the text form `proxmox-backup-server 3.3.2-1 running version: 3.3.2`.
 */
export function parsePbsVersions(text: string, ctx?: ParseContext): PbsPackageVersion[] {
  const cmd = PBS_VERSIONS_ARGV.join(" ");
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    const value = parseJsonText(text, cmd, ctx);
    const rows = validateJson(z.array(versionRow), Array.isArray(value) ? value : [value], text, cmd, ctx);
    return rows.map((r) => ({ package: r.Package, version: r.Version, extraInfo: r.ExtraInfo }));
  }
  const out: PbsPackageVersion[] = [];
  for (const line of trimmed.split(/\r?\n/)) {
    const m = /^(\S+?):?\s+(\S+)(?:\s+(.*))?$/.exec(line.trim());
    if (m?.[1] && m[2]) out.push({ package: m[1], version: m[2], extraInfo: m[3] });
  }
  if (out.length === 0) unparseable(ctx, cmd, text, "no `<package> <version>` lines");
  return out;
}

export interface PbsTask {
  readonly upid: string;
  readonly workerType: string;
  readonly workerId: string | undefined;
  readonly user: string | undefined;
  readonly startTime: number | undefined;
  readonly endTime: number | undefined;
  readonly status: string | undefined;
  /** No end time and no status: still running. */
  readonly running: boolean;
}

const taskRow = z.object({
  upid: z.string(),
  worker_type: z.string(),
  worker_id: optString,
  user: optString,
  starttime: optNumber,
  endtime: optNumber,
  status: optString,
});

/** Parses `proxmox-backup-manager task list --output-format json` (TaskListItem rows). */
export function parsePbsTaskList(text: string, ctx?: ParseContext): PbsTask[] {
  const cmd = PBS_TASK_LIST_ARGV.join(" ");
  const rows = validateJson(z.array(taskRow), parseJsonText(text, cmd, ctx), text, cmd, ctx);
  return rows.map((r) => ({
    upid: r.upid,
    workerType: r.worker_type,
    workerId: r.worker_id,
    user: r.user,
    startTime: r.starttime,
    endTime: r.endtime,
    status: r.status,
    running: r.endtime === undefined && r.status === undefined,
  }));
}
