/**
 * What of a container a backup covers, and whether `pct snapshot` can take it. pve-container's
 * has_feature('snapshot') asks every volume (rootfs and each mpN, bind mounts included) and
 * PVE::Storage::volume_has_feature answers no for a host path and, for container volumes (raw or
 * subvol), yes only on zfspool, lvmthin, rbd and btrfs (dir, nfs, cifs and lvm snapshot qcow2 only).
 * vzdump --mode snapshot asks only the volumes it backs up: rootfs and mount points with backup=1.
 */
import type { GuestConfig } from "../../../src/pve/guest-config.js";
import type { ClusterResources } from "../../../src/pve/resources.js";

/** Storage plugin types on which a container volume can be snapshotted. */
export const SNAPSHOT_STORAGE_TYPES: ReadonlySet<string> = new Set(["zfspool", "lvmthin", "rbd", "btrfs"]);

export interface ContainerVolume {
  /** rootfs, mp0, … */
  key: string;
  /** `local-zfs:subvol-120-disk-0`, or a host path for a bind or device mount. */
  volume: string;
  storage?: string;
  /** `pct snapshot` can snapshot it. */
  snapshots: boolean;
  /** vzdump includes it (rootfs always; a mount point only with backup=1). */
  backedUp: boolean;
}

/**
 * The container's volumes from its parsed config, with the storages' plugin types (from
 * /cluster/resources `plugintype`). A storage of unknown type counts as not snapshot-capable: a
 * snapshot that cannot be proven possible is not attempted.
 */
export function containerVolumes(
  config: GuestConfig,
  storageTypes: ReadonlyMap<string, string | undefined>,
): ContainerVolume[] {
  const volumes: ContainerVolume[] = [];
  for (const d of config.disks) {
    if (!/^(rootfs|mp\d+)$/.test(d.key)) continue;
    const type = d.storage === undefined ? undefined : storageTypes.get(d.storage);
    volumes.push({
      key: d.key,
      volume: d.volume,
      ...(d.storage !== undefined ? { storage: d.storage } : {}),
      snapshots: type !== undefined && SNAPSHOT_STORAGE_TYPES.has(type),
      backedUp: d.key === "rootfs" || mountPointBackedUp(config.raw[d.key]),
    });
  }
  for (const dev of config.localDevices)
    if (dev.kind === "bind-mount" || dev.kind === "device-mount")
      volumes.push({
        key: dev.key,
        volume: dev.value.split(",")[0] ?? dev.value,
        snapshots: false,
        backedUp: false,
      });
  return volumes;
}

function mountPointBackedUp(value: unknown): boolean {
  return typeof value === "string" && /(?:^|,)backup=(?:1|yes|on|true)(?:,|$)/.test(value);
}

/** The volumes that stop `pct snapshot` (empty: it can be snapshotted). */
export function snapshotBlockers(volumes: readonly ContainerVolume[]): ContainerVolume[] {
  return volumes.filter((v) => !v.snapshots);
}

/** For messages: `mp0 (/srv/data, a bind mount)`, `mp1 on storage 'nfs-media'`. */
export function describeVolume(v: ContainerVolume): string {
  if (v.storage === undefined) return `${v.key} (${v.volume}, a host path)`;
  return `${v.key} on storage '${v.storage}'`;
}

/** Storage id → plugin type, from /cluster/resources (the same storage on every node has one type). */
export function storageTypes(resources: ClusterResources): Map<string, string | undefined> {
  const types = new Map<string, string | undefined>();
  for (const s of resources.storages)
    if (!types.has(s.storage) || s.plugintype) types.set(s.storage, s.plugintype);
  return types;
}

/** Where `pct restore` puts the volumes back: the rootfs storage (without --storage it would be 'local'). */
export function rootfsStorage(volumes: readonly ContainerVolume[]): string | undefined {
  return volumes.find((v) => v.key === "rootfs")?.storage;
}
