import { z } from "zod";
import { nodeName } from "./args.js";
import type { ParseContext } from "./errors.js";
import { numeric, optBool, optNumber, optString, optional, parseJsonWith } from "./json.js";

export function nodeStatusArgv(node: string): string[] {
  return ["pvesh", "get", `/nodes/${nodeName(node)}/status`, "--output-format", "json"];
}

export interface Usage {
  readonly used: number | undefined;
  readonly total: number | undefined;
  readonly free: number | undefined;
}

export interface NodeStatus {
  /** e.g. "pve-manager/8.4.1/2a5fa54a8503f96d". */
  readonly pveversion: string | undefined;
  /** The running kernel's release (what `uname -r` prints), from `current-kernel.release` or `kversion`. */
  readonly kernelRelease: string | undefined;
  readonly kversion: string | undefined;
  readonly uptimeSeconds: number | undefined;
  /** 1, 5 and 15 minute load averages (pvesh prints them as strings). */
  readonly loadavg: readonly number[];
  /** 0..1 fraction of all CPUs. */
  readonly cpu: number | undefined;
  readonly cpus: number | undefined;
  readonly memory: Usage;
  readonly swap: Usage;
  readonly rootfs: Usage & { readonly avail: number | undefined };
  readonly bootMode: string | undefined;
  readonly secureboot: boolean | undefined;
}

const usage = optional(z.object({ used: optNumber, total: optNumber, free: optNumber, avail: optNumber }));

const schema = z.object({
  pveversion: optString,
  kversion: optString,
  "current-kernel": optional(z.object({ release: optString })),
  uptime: optNumber,
  loadavg: optional(z.array(numeric)),
  cpu: optNumber,
  cpuinfo: optional(z.object({ cpus: optNumber })),
  memory: usage,
  swap: usage,
  rootfs: usage,
  "boot-info": optional(z.object({ mode: optString, secureboot: optBool })),
});

const CMD = "pvesh get /nodes/<node>/status --output-format json";

/** Parses `pvesh get /nodes/<node>/status --output-format json`; every field is optional. */
export function parseNodeStatus(text: string, ctx?: ParseContext): NodeStatus {
  const d = parseJsonWith(schema, text, CMD, ctx);
  // kversion: "Linux 6.8.12-9-pve #1 SMP ..." (older releases); the release is the second word.
  const fromKversion = /^\S+\s+(\S+?)(?:#|\s|$)/.exec(d.kversion ?? "")?.[1];
  const u = (x: z.output<typeof usage>): Usage => ({ used: x?.used, total: x?.total, free: x?.free });
  return {
    pveversion: d.pveversion,
    kernelRelease: d["current-kernel"]?.release ?? fromKversion,
    kversion: d.kversion,
    uptimeSeconds: d.uptime,
    loadavg: d.loadavg ?? [],
    cpu: d.cpu,
    cpus: d.cpuinfo?.cpus,
    memory: u(d.memory),
    swap: u(d.swap),
    rootfs: { ...u(d.rootfs), avail: d.rootfs?.avail },
    bootMode: d["boot-info"]?.mode,
    secureboot: d["boot-info"]?.secureboot,
  };
}
