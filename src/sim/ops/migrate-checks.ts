import { cdromDrives, localCdroms, localDisks, localResources, storageOf } from "../model/guest-config.js";
import type { ClusterState, GuestState, StorageState } from "../model/state.js";

/**
 * What qemu-server checks before and while it migrates a VM, and what its precondition endpoint
 * (`GET /nodes/<n>/qemu/<vmid>/migrate`) answers. Facts and messages: src/pve/REFERENCE-local-resources.md.
 */

/** Every volume the config references: disks and CD drives (not `none`). */
function volumes(g: GuestState): { key: string; volume: string; cdrom: boolean; sizeBytes?: number }[] {
  return [
    ...g.disks.map((d) => ({ key: d.key, volume: d.volume, cdrom: false, sizeBytes: d.sizeBytes })),
    ...cdromDrives(g)
      .filter((c) => c.volume !== "none")
      .map((c) => ({ key: c.key, volume: c.volume, cdrom: true })),
  ];
}

function storage(c: ClusterState, name: string | undefined): StorageState | undefined {
  return c.storages.find((s) => s.name === name);
}

function availableOn(s: StorageState | undefined, node: string): boolean {
  return !s?.nodes || s.nodes.includes(node);
}

/** check_storage_availability (migrate_vm, before the worker): the first storage the target lacks. */
export function storageUnavailable(c: ClusterState, g: GuestState, target: string): string | undefined {
  for (const v of volumes(g)) {
    const sid = storageOf(v.volume);
    if (sid !== undefined && !availableOn(storage(c, sid), target))
      return `storage '${sid}' is not available on node '${target}'`;
  }
  return undefined;
}

/** QemuMigrate::prepare: passthrough and host devices stop a running VM (and a stopped one without force). */
export function localDeviceBlocker(g: GuestState, running: boolean, force: boolean): string | undefined {
  const res = localResources(g);
  if (res.length === 0 || (!running && force)) return undefined;
  return `can't migrate VM which uses local devices: ${res.join(", ")}`;
}

/**
 * QemuMigrate::scan_local_volumes: the per-volume warnings that abort phase 1 ("can't migrate VM -
 * check log"): a local CD image, the host's CD drive, an attached local disk of a running VM without
 * with-local-disks. Empty when the volumes allow the move.
 */
export function volumeProblems(
  c: ClusterState,
  g: GuestState,
  running: boolean,
  withLocalDisks: boolean,
): string[] {
  const out: string[] = [];
  for (const cd of localCdroms(g, c.storages)) {
    out.push(
      cd.volume === "cdrom"
        ? "can't migrate local cdrom drive"
        : `can't migrate local disk '${cd.volume}': local cdrom image`,
    );
  }
  if (running && !withLocalDisks)
    for (const d of localDisks(g, c.storages))
      out.push(
        `can't migrate local disk '${d.volume}': can't live migrate attached local disks without with-local-disks option`,
      );
  return out;
}

/** The JSON of `pvesh get /nodes/<n>/qemu/<vmid>/migrate` (migrate_vm_precondition). */
export function migratePrecondition(c: ClusterState, g: GuestState): Record<string, unknown> {
  const notAllowed: Record<string, Record<string, unknown>> = {};
  const allowed: string[] = [];
  for (const node of c.nodes.filter((n) => n !== g.node)) {
    // check_local_storage_availability returns a (possibly empty) hash for every node, and the
    // endpoint copies it as is: allowed nodes appear in not_allowed_nodes too, as `{}`.
    const missing = [
      ...new Set(
        volumes(g)
          .map((v) => storageOf(v.volume))
          .filter((sid): sid is string => sid !== undefined && !availableOn(storage(c, sid), node)),
      ),
    ].sort();
    notAllowed[node] = missing.length > 0 ? { unavailable_storages: missing } : {};
    if (missing.length === 0) allowed.push(node);
  }
  const local = volumes(g).filter((v) => {
    if (v.volume === "cdrom") return true;
    return !storage(c, storageOf(v.volume))?.shared;
  });
  return {
    running: g.status === "running" ? 1 : 0,
    allowed_nodes: allowed,
    not_allowed_nodes: notAllowed,
    local_disks: local.map((v) => ({
      volid: v.volume,
      cdrom: v.cdrom ? 1 : 0,
      is_unused: /^unused\d+$/.test(v.key) ? 1 : 0,
      is_attached: /^unused\d+$/.test(v.key) ? 0 : 1,
      drivename: v.key,
      ...(v.sizeBytes !== undefined ? { size: v.sizeBytes } : {}),
    })),
    local_resources: localResources(g),
    "mapped-resources": [],
    "mapped-resource-info": {},
    "has-dbus-vmstate": 1,
  };
}
