import { z } from "zod";
import { nodeName, vmid as vmidArg } from "./args.js";
import type { ParseContext } from "./errors.js";
import { optString, optional, parseJsonWith, perlBool } from "./json.js";

/**
 * `pvesh get /nodes/<node>/qemu/<vmid>/migrate`: qemu-server's migrate_vm_precondition, what the
 * GUI's migrate dialog asks before it offers a target. Format and quirks: REFERENCE-local-resources.md
 * (allowed nodes appear in `not_allowed_nodes` too, as `{}`).
 */
export function migratePreconditionArgv(node: string, vmid: number): string[] {
  return [
    "pvesh",
    "get",
    `/nodes/${nodeName(node)}/qemu/${vmidArg(vmid)}/migrate`,
    "--output-format",
    "json",
  ];
}

export interface PreconditionDisk {
  readonly volid: string;
  readonly cdrom: boolean;
  readonly unused: boolean;
  readonly drive: string | undefined;
}

export interface MigratePrecondition {
  readonly running: boolean;
  readonly allowedNodes: readonly string[];
  /** node → why it may not take the VM (only nodes with a reason). */
  readonly notAllowed: Readonly<Record<string, string>>;
  /** Volumes not on shared storage, CD images included. */
  readonly localDisks: readonly PreconditionDisk[];
  /** Devices that pin the VM to its node: hostpci0, usb1, serial0, ... */
  readonly localResources: readonly string[];
}

const nodeBlockers = z.looseObject({
  unavailable_storages: optional(z.array(z.string())),
  "unavailable-resources": optional(z.array(z.string())),
  "blocking-ha-resources": optional(z.array(z.looseObject({ sid: z.string(), cause: optString }))),
});

const schema = z.looseObject({
  running: perlBool,
  allowed_nodes: optional(z.array(z.string())),
  not_allowed_nodes: optional(z.record(z.string(), nodeBlockers)),
  local_disks: optional(
    z.array(
      z.looseObject({
        volid: z.string(),
        cdrom: optional(perlBool),
        is_unused: optional(perlBool),
        drivename: optString,
      }),
    ),
  ),
  local_resources: optional(z.array(z.string())),
});

const CMD = "pvesh get /nodes/<node>/qemu/<vmid>/migrate --output-format json";

function reason(b: z.output<typeof nodeBlockers>): string | undefined {
  const parts = [
    ...(b.unavailable_storages?.length
      ? [`storage ${b.unavailable_storages.join(", ")} not available there`]
      : []),
    ...(b["unavailable-resources"]?.length
      ? [`no mapping for ${b["unavailable-resources"].join(", ")}`]
      : []),
    ...(b["blocking-ha-resources"]?.length
      ? [
          `HA rules block it (${b["blocking-ha-resources"].map((r) => `${r.sid}${r.cause ? ` ${r.cause}` : ""}`).join(", ")})`,
        ]
      : []),
  ];
  return parts.length > 0 ? parts.join("; ") : undefined;
}

export function parseMigratePrecondition(text: string, ctx?: ParseContext): MigratePrecondition {
  const raw = parseJsonWith(schema, text, CMD, ctx);
  const notAllowed: Record<string, string> = {};
  for (const [node, b] of Object.entries(raw.not_allowed_nodes ?? {})) {
    const why = reason(b);
    if (why !== undefined) notAllowed[node] = why;
  }
  return {
    running: raw.running,
    allowedNodes: raw.allowed_nodes ?? [],
    notAllowed,
    localDisks: (raw.local_disks ?? []).map((d) => ({
      volid: d.volid,
      cdrom: d.cdrom === true,
      unused: d.is_unused === true,
      drive: d.drivename,
    })),
    localResources: raw.local_resources ?? [],
  };
}
