import { z } from "zod";
import { unparseable, type ParseContext } from "./errors.js";
import { optBool, optNumber, optString, parseJsonWith, splitTags } from "./json.js";
import type { GuestKind } from "./args.js";

export const CLUSTER_RESOURCES_ARGV = [
  "pvesh",
  "get",
  "/cluster/resources",
  "--output-format",
  "json",
] as const;
const CMD = CLUSTER_RESOURCES_ARGV.join(" ");

export interface NodeResource {
  readonly type: "node";
  readonly node: string;
  /** "online", "offline" or "unknown". */
  readonly status: string;
  readonly cpu: number | undefined;
  readonly maxcpu: number | undefined;
  readonly mem: number | undefined;
  readonly maxmem: number | undefined;
  readonly disk: number | undefined;
  readonly maxdisk: number | undefined;
  readonly uptime: number | undefined;
}

export interface GuestResource {
  readonly type: GuestKind;
  readonly vmid: number;
  readonly node: string;
  readonly name: string | undefined;
  /** "running", "stopped", "paused", or "unknown" when the guest's node is offline. */
  readonly status: string;
  readonly template: boolean;
  readonly tags: readonly string[];
  readonly pool: string | undefined;
  /** HA state ("started", "stopped", ...); present only for HA-managed guests. */
  readonly hastate: string | undefined;
  readonly lock: string | undefined;
  readonly cpu: number | undefined;
  readonly maxcpu: number | undefined;
  readonly mem: number | undefined;
  readonly maxmem: number | undefined;
  readonly disk: number | undefined;
  readonly maxdisk: number | undefined;
  readonly uptime: number | undefined;
}

export interface StorageResource {
  readonly type: "storage";
  readonly node: string;
  readonly storage: string;
  readonly shared: boolean;
  readonly status: string | undefined;
  readonly plugintype: string | undefined;
  readonly content: readonly string[];
  readonly disk: number | undefined;
  readonly maxdisk: number | undefined;
}

/** Any other row (`pool`, `sdn`, `network`, `openvz`, future types): kept, never a crash. */
export interface OtherResource {
  readonly type: string;
  readonly id: string | undefined;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface ClusterResources {
  readonly nodes: readonly NodeResource[];
  readonly guests: readonly GuestResource[];
  readonly storages: readonly StorageResource[];
  readonly other: readonly OtherResource[];
}

const metrics = {
  cpu: optNumber,
  maxcpu: optNumber,
  mem: optNumber,
  maxmem: optNumber,
  disk: optNumber,
  maxdisk: optNumber,
  uptime: optNumber,
};

const nodeRow = z.object({ id: optString, node: optString, status: optString, ...metrics });
const guestRow = z.object({
  id: optString,
  vmid: optNumber,
  node: optString,
  name: optString,
  status: optString,
  template: optBool,
  tags: optString,
  pool: optString,
  hastate: optString,
  lock: optString,
  ...metrics,
});
const storageRow = z.object({
  id: optString,
  node: optString,
  storage: optString,
  shared: optBool,
  status: optString,
  plugintype: optString,
  content: optString,
  disk: optNumber,
  maxdisk: optNumber,
});
const rows = z.array(z.looseObject({ type: z.string() }));

// Row ids are "<type>/<node>/<storage>", "qemu/<vmid>", "node/<node>": a fallback when a field is missing.
function idPart(id: string | undefined, index: number): string | undefined {
  const part = id?.split("/")[index];
  return part === undefined || part === "" ? undefined : part;
}

/**
 * Parses `pvesh get /cluster/resources --output-format json`. Missing metrics are undefined; a guest
 * on an offline node (`status: "unknown"`, no metrics) is kept. A node or guest row without an
 * identity is an error, not a skip: silently dropping a guest could let a node look empty.
 */
export function parseClusterResources(text: string, ctx?: ParseContext): ClusterResources {
  const all = parseJsonWith(rows, text, CMD, ctx);
  const nodes: NodeResource[] = [];
  const guests: GuestResource[] = [];
  const storages: StorageResource[] = [];
  const other: OtherResource[] = [];
  for (const row of all) {
    switch (row.type) {
      case "node": {
        const r = nodeRow.safeParse(row);
        const node = r.success ? (r.data.node ?? idPart(r.data.id, 1)) : undefined;
        if (!r.success || node === undefined)
          unparseable(ctx, CMD, text, "a node row has no readable node name");
        nodes.push({ type: "node", node, status: r.data.status ?? "unknown", ...pickMetrics(r.data) });
        break;
      }
      case "qemu":
      case "lxc": {
        const r = guestRow.safeParse(row);
        const vmid = r.success ? (r.data.vmid ?? numberOrUndefined(idPart(r.data.id, 1))) : undefined;
        const node = r.success ? r.data.node : undefined;
        if (!r.success || vmid === undefined || node === undefined) {
          unparseable(ctx, CMD, text, `a ${row.type} row has no readable vmid or node`);
        }
        const d = r.data;
        guests.push({
          type: row.type,
          vmid,
          node,
          name: d.name,
          status: d.status ?? "unknown",
          template: d.template ?? false,
          tags: splitTags(d.tags),
          pool: d.pool,
          hastate: d.hastate,
          lock: d.lock,
          ...pickMetrics(d),
        });
        break;
      }
      case "storage": {
        const r = storageRow.safeParse(row);
        const storage = r.success ? (r.data.storage ?? idPart(r.data.id, 2)) : undefined;
        const node = r.success ? (r.data.node ?? idPart(r.data.id, 1)) : undefined;
        if (!r.success || storage === undefined || node === undefined) {
          unparseable(ctx, CMD, text, "a storage row has no readable storage id or node");
        }
        storages.push({
          type: "storage",
          node,
          storage,
          shared: r.data.shared ?? false,
          status: r.data.status,
          plugintype: r.data.plugintype,
          content: (r.data.content ?? "").split(",").filter((c) => c.length > 0),
          disk: r.data.disk,
          maxdisk: r.data.maxdisk,
        });
        break;
      }
      default:
        other.push({ type: row.type, id: typeof row.id === "string" ? row.id : undefined, raw: row });
    }
  }
  return { nodes, guests, storages, other };
}

function numberOrUndefined(s: string | undefined): number | undefined {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
}

function pickMetrics(d: {
  cpu: number | undefined;
  maxcpu: number | undefined;
  mem: number | undefined;
  maxmem: number | undefined;
  disk: number | undefined;
  maxdisk: number | undefined;
  uptime: number | undefined;
}) {
  return {
    cpu: d.cpu,
    maxcpu: d.maxcpu,
    mem: d.mem,
    maxmem: d.maxmem,
    disk: d.disk,
    maxdisk: d.maxdisk,
    uptime: d.uptime,
  };
}

/** Storage id → shared. A storage is shared if any node's row says so. */
export type StorageIndex = ReadonlyMap<string, boolean>;

export function storageIndex(resources: ClusterResources): StorageIndex {
  const index = new Map<string, boolean>();
  for (const s of resources.storages) index.set(s.storage, (index.get(s.storage) ?? false) || s.shared);
  return index;
}

/** Guests (templates included) that the resource list places on `node`. */
export function guestsOnNode(resources: ClusterResources, node: string): GuestResource[] {
  return resources.guests.filter((g) => g.node === node);
}

/** `vm:<id>` / `ct:<id>`: the HA service id of a guest. */
export function haServiceId(kind: GuestKind, id: number | string): string {
  return `${kind === "qemu" ? "vm" : "ct"}:${id}`;
}
