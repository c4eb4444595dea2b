import { z } from "zod";
import { nodeName, vmid as vmidArg, type GuestKind } from "./args.js";
import { InvalidArgumentError, type ParseContext } from "./errors.js";
import { parseJsonWith, splitTags } from "./json.js";
import type { StorageIndex } from "./resources.js";

export function guestConfigArgv(node: string, kind: GuestKind, vmid: number): string[] {
  return [
    "pvesh",
    "get",
    `/nodes/${nodeName(node)}/${kind}/${vmidArg(vmid)}/config`,
    "--output-format",
    "json",
  ];
}

export interface GuestDisk {
  /** Config key: scsi0, virtio1, efidisk0, rootfs, mp0, unused0, ... */
  readonly key: string;
  /** Volume as written in the config, e.g. `local-lvm:vm-100-disk-0`. */
  readonly volume: string;
  readonly storage: string | undefined;
  /** True only when the storage is known and marked shared. */
  readonly shared: boolean;
  /** False when the storage is missing from the resource list (treated as local). */
  readonly storageKnown: boolean;
  readonly cdrom: boolean;
}

export type LocalDeviceKind =
  | "pci"
  | "usb"
  | "serial"
  | "parallel"
  | "host-disk"
  | "host-cdrom"
  | "bind-mount"
  | "device-mount"
  | "device"
  | "lxc-raw";

/** Something tying the guest to this host's hardware or file system: it cannot simply move. */
export interface LocalDevice {
  readonly key: string;
  readonly value: string;
  readonly kind: LocalDeviceKind;
}

export interface GuestConfig {
  readonly kind: GuestKind;
  readonly vmid: number;
  /** VM `name` or CT `hostname`. */
  readonly name: string | undefined;
  /** backup, migrate, snapshot, snapshot-delete, rollback, suspended, ... */
  readonly lock: string | undefined;
  readonly template: boolean;
  readonly onboot: boolean;
  readonly memoryMiB: number | undefined;
  readonly tags: readonly string[];
  readonly disks: readonly GuestDisk[];
  /** Disks on storage that is not shared (or not known to be): migrating them copies data. */
  readonly localDisks: readonly GuestDisk[];
  readonly localDevices: readonly LocalDevice[];
  /** The whole config as pvesh printed it. */
  readonly raw: Readonly<Record<string, unknown>>;
}

const QEMU_DISK = /^(?:ide|sata|scsi|virtio)\d+$|^efidisk\d+$|^tpmstate\d+$|^unused\d+$/;
const LXC_DISK = /^rootfs$|^mp\d+$|^unused\d+$/;
// Raw LXC keys that reach into the host: device access and host mounts.
const LXC_RAW_LOCAL = /^lxc\.(?:cgroup2?\.devices\.|mount\.entry|mount\.fstab|mount\.auto)/;

const configSchema = z.record(z.string(), z.unknown());

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function truthy(v: unknown): boolean {
  return v === 1 || v === true || v === "1";
}

// The volume is the first comma-separated part unless the config spells it `file=...`.
function volumeOf(value: string): string {
  const parts = value.split(",");
  const file = parts.find((p) => p.startsWith("file=") || p.startsWith("volume="));
  if (file !== undefined) return file.slice(file.indexOf("=") + 1);
  return parts[0] ?? "";
}

const CMD = "pvesh get /nodes/<node>/<qemu|lxc>/<vmid>/config --output-format json";

/**
 * Parses a guest config and works out what ties it to its node. `storages` comes from
 * /cluster/resources; a storage missing from it counts as local (it cannot be proven shared).
 */
export function parseGuestConfig(
  kind: GuestKind,
  vmid: number,
  text: string,
  storages: StorageIndex,
  ctx?: ParseContext,
): GuestConfig {
  const raw = parseJsonWith(configSchema, text, CMD, ctx);
  const disks: GuestDisk[] = [];
  const localDevices: LocalDevice[] = [];
  const diskKey = kind === "qemu" ? QEMU_DISK : LXC_DISK;
  for (const [key, v] of Object.entries(raw)) {
    const value = str(v);
    if (value === undefined) {
      if (key === "lxc" && Array.isArray(v)) localDevices.push(...rawLxcDevices(v));
      continue;
    }
    if (diskKey.test(key)) {
      const volume = volumeOf(value);
      const cdrom = /(?:^|,)media=cdrom(?:,|$)/.test(value);
      if (volume === "" || volume === "none") continue;
      if (volume === "cdrom") {
        localDevices.push({ key, value, kind: "host-cdrom" });
        continue;
      }
      if (volume.startsWith("/")) {
        const deviceKind: LocalDeviceKind =
          kind === "qemu" ? "host-disk" : volume.startsWith("/dev/") ? "device-mount" : "bind-mount";
        localDevices.push({ key, value, kind: deviceKind });
        continue;
      }
      const storage = /^([A-Za-z][A-Za-z0-9._-]*):/.exec(volume)?.[1];
      const known = storage !== undefined && storages.has(storage);
      disks.push({
        key,
        volume,
        storage,
        shared: known && storages.get(storage) === true,
        storageKnown: known,
        cdrom,
      });
      continue;
    }
    const device = localDeviceKind(kind, key, value);
    if (device !== undefined) localDevices.push({ key, value, kind: device });
  }
  const memory = Number(str(raw.memory));
  return {
    kind,
    vmid,
    name: str(kind === "qemu" ? raw.name : raw.hostname),
    lock: str(raw.lock),
    template: truthy(raw.template),
    onboot: truthy(raw.onboot),
    memoryMiB: Number.isFinite(memory) && memory > 0 ? memory : undefined,
    tags: splitTags(str(raw.tags)),
    disks,
    localDisks: disks.filter((d) => !d.shared),
    localDevices,
    raw,
  };
}

function localDeviceKind(kind: GuestKind, key: string, value: string): LocalDeviceKind | undefined {
  if (kind === "qemu") {
    if (/^hostpci\d+$/.test(key)) return "pci";
    // A SPICE USB redirect lives in the viewer, not the host.
    if (/^usb\d+$/.test(key)) return /^spice(?:,|$)/.test(value) ? undefined : "usb";
    if (/^serial\d+$/.test(key)) return value === "socket" ? undefined : "serial";
    if (/^parallel\d+$/.test(key)) return "parallel";
    return undefined;
  }
  if (/^dev\d+$/.test(key)) return "device";
  if (LXC_RAW_LOCAL.test(key)) return "lxc-raw";
  return undefined;
}

// pvesh prints raw `lxc.*` lines as `"lxc": [["lxc.cgroup2.devices.allow", "c 188:* rwm"], ...]`.
function rawLxcDevices(entries: unknown[]): LocalDevice[] {
  const out: LocalDevice[] = [];
  for (const e of entries) {
    if (!Array.isArray(e)) continue;
    const [k, v] = e as unknown[];
    if (typeof k === "string" && LXC_RAW_LOCAL.test(k))
      out.push({ key: k, value: str(v) ?? "", kind: "lxc-raw" });
  }
  return out;
}

const CD_DRIVE = /^(?:ide[0-3]|sata[0-5]|scsi(?:[0-9]|[12][0-9]|30))$/;
// A volume id `storage:iso/name.iso`; no commas (the value is a property string) and no options.
const CD_VOLUME = /^[A-Za-z][A-Za-z0-9._-]*:[^\s,=]+$/;

/**
 * `qm set <vmid> --ide2 none,media=cdrom` ejects the CD, `--ide2 local:iso/x.iso,media=cdrom` puts
 * it back (qemu-server changes the medium of a running VM at once). `volume` undefined ejects.
 */
export function cdromArgv(vmid: number, drive: string, volume?: string): string[] {
  if (!CD_DRIVE.test(drive))
    throw new InvalidArgumentError(`"${drive}" is not a CD drive (ide0-3, sata0-5, scsi0-30).`, { drive });
  if (volume !== undefined && !CD_VOLUME.test(volume))
    throw new InvalidArgumentError(`"${volume}" is not a CD image volume id (storage:iso/name.iso).`, {
      volume,
    });
  return ["qm", "set", vmidArg(vmid), `--${drive}`, `${volume ?? "none"},media=cdrom`];
}
