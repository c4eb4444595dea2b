import { z } from "zod";
import { guestCli, nodeName, positiveInt, vmid as vmidArg, type GuestKind } from "./args.js";
import type { ParseContext } from "./errors.js";
import { optNumber, optString, optional, optBool, parseJsonWith } from "./json.js";

export type PowerAction = "start" | "stop" | "shutdown" | "reboot";

/**
 * `qm|pct start|stop|shutdown|reboot <vmid> [--timeout n] [--forceStop 1]`. `qm reboot` is how a PBS VM is rebooted
 * from the hypervisor: a clean guest shutdown followed by a start.
 */
export function guestPowerArgv(
  kind: GuestKind,
  action: PowerAction,
  vmid: number,
  opts: { timeoutSec?: number; forceStop?: boolean } = {},
): string[] {
  const argv = [guestCli(kind), action, vmidArg(vmid)];
  // `start` takes --timeout too (VMs), but it means something else; only pass it where it is the wait.
  if (opts.timeoutSec !== undefined && action !== "start")
    argv.push("--timeout", positiveInt(opts.timeoutSec, "timeout"));
  // Only `shutdown` has --forceStop: a guest that ignores the request is stopped after the timeout.
  if (opts.forceStop && action === "shutdown") argv.push("--forceStop", "1");
  return argv;
}

export function guestStatusArgv(node: string, kind: GuestKind, vmid: number): string[] {
  return [
    "pvesh",
    "get",
    `/nodes/${nodeName(node)}/${kind}/${vmidArg(vmid)}/status/current`,
    "--output-format",
    "json",
  ];
}

export interface GuestStatus {
  /** "running" or "stopped". */
  readonly status: string;
  /** VMs: QMP status ("running", "paused", "prelaunch", ...). */
  readonly qmpstatus: string | undefined;
  readonly lock: string | undefined;
  readonly uptimeSeconds: number | undefined;
  readonly name: string | undefined;
  readonly haManaged: boolean;
  readonly haState: string | undefined;
}

const schema = z.object({
  status: z.string(),
  qmpstatus: optString,
  lock: optString,
  uptime: optNumber,
  name: optString,
  ha: optional(z.object({ managed: optBool, state: optString })),
});

/** Parses `pvesh get /nodes/<n>/<qemu|lxc>/<vmid>/status/current --output-format json`. */
export function parseGuestStatus(text: string, ctx?: ParseContext): GuestStatus {
  const d = parseJsonWith(
    schema,
    text,
    "pvesh get /nodes/<node>/<kind>/<vmid>/status/current --output-format json",
    ctx,
  );
  return {
    status: d.status,
    qmpstatus: d.qmpstatus,
    lock: d.lock,
    uptimeSeconds: d.uptime,
    name: d.name,
    haManaged: d.ha?.managed ?? false,
    haState: d.ha?.state,
  };
}
