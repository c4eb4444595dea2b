import { z } from "zod";
import { nodeName, vmid as vmidArg } from "./args.js";
import type { ParseContext } from "./errors.js";
import { optNumber, optString, parseJsonWith } from "./json.js";

export function activeTasksArgv(node: string): string[] {
  return ["pvesh", "get", `/nodes/${nodeName(node)}/tasks`, "--source", "active", "--output-format", "json"];
}

/**
 * A guest's tasks on a node, running and finished (`--source all`), newest first. `qm migrate`
 * prints no UPID (the CLI runs the worker in the foreground and prints its log), so a migration's
 * task is found here: type qmigrate/vzmigrate, id = vmid, started after the migration was begun.
 */
export function guestTasksArgv(node: string, vmid: number): string[] {
  return [
    "pvesh",
    "get",
    `/nodes/${nodeName(node)}/tasks`,
    "--source",
    "all",
    "--vmid",
    vmidArg(vmid),
    "--limit",
    "50",
    "--output-format",
    "json",
  ];
}

export interface PveTask {
  readonly upid: string;
  readonly node: string | undefined;
  /** Worker type: qmigrate, vzdump, qmstart, hamigrate, aptupdate, ... */
  readonly type: string | undefined;
  /** The object the task works on (often a vmid), if any. */
  readonly id: string | undefined;
  readonly user: string | undefined;
  readonly startTime: number | undefined;
  readonly endTime: number | undefined;
  /** Absent while running; "OK", "WARNINGS: n" or an error text when finished. */
  readonly status: string | undefined;
  readonly running: boolean;
}

const row = z.object({
  upid: z.string(),
  node: optString,
  type: optString,
  id: optString,
  user: optString,
  starttime: optNumber,
  endtime: optNumber,
  status: optString,
});

const CMD = "pvesh get /nodes/<node>/tasks --source active --output-format json";

/**
 * Parses the active task list. Fields missing from a row are filled from its UPID
 * (`UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`). A row is running unless it carries
 * an end time or a final status; finished rows can linger in the active list briefly.
 */
export function parseTaskList(text: string, ctx?: ParseContext): PveTask[] {
  return parseJsonWith(z.array(row), text, CMD, ctx).map((r) => {
    const upid = parseUpid(r.upid);
    const finished = r.endtime !== undefined || (r.status !== undefined && r.status !== "running");
    return {
      upid: r.upid,
      node: r.node ?? upid?.node,
      type: r.type ?? upid?.type,
      id: r.id ?? upid?.id,
      user: r.user ?? upid?.user,
      startTime: r.starttime ?? upid?.startTime,
      endTime: r.endtime,
      status: r.status === "running" ? undefined : r.status,
      running: !finished,
    };
  });
}

export interface Upid {
  readonly node: string;
  readonly pid: number;
  readonly startTime: number;
  readonly type: string;
  readonly id: string;
  readonly user: string;
}

/** Splits a PVE UPID; undefined if it does not have that shape. */
export function parseUpid(upid: string): Upid | undefined {
  const m = /^UPID:([^:]+):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,}):([0-9A-Fa-f]{8}):([^:]*):([^:]*):([^:]*):/.exec(
    upid,
  );
  if (!m) return undefined;
  return {
    node: m[1] ?? "",
    pid: parseInt(m[2] ?? "0", 16),
    startTime: parseInt(m[4] ?? "0", 16),
    type: m[5] ?? "",
    id: m[6] ?? "",
    user: m[7] ?? "",
  };
}

export function runningTasks(tasks: readonly PveTask[]): PveTask[] {
  return tasks.filter((t) => t.running);
}

/** Worker types of a migration (qemu-server `qmigrate`, pve-container `vzmigrate`). */
export function migrationTaskType(type: "qemu" | "lxc"): string {
  return type === "qemu" ? "qmigrate" : "vzmigrate";
}

/**
 * The migration task of a guest begun at `sinceSec` (epoch seconds, the controller's clock; `slackSec`
 * allows for clock skew between controller and node and the second granularity of starttime): by
 * `upid` when it is known, else the newest task of that type and vmid started since then.
 */
export function findMigrationTask(
  tasks: readonly PveTask[],
  want: { type: "qemu" | "lxc"; vmid: number; sinceSec: number; upid?: string; slackSec?: number },
): PveTask | undefined {
  if (want.upid !== undefined) return tasks.find((t) => t.upid === want.upid);
  const type = migrationTaskType(want.type);
  const since = want.sinceSec - (want.slackSec ?? 30);
  return tasks
    .filter((t) => t.type === type && t.id === String(want.vmid) && (t.startTime ?? 0) >= since)
    .sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0))[0];
}
