import { createHash } from "node:crypto";
import type { GuestState } from "./state.js";

/** A guest's configuration as `/nodes/<n>/<type>/<vmid>/config` returns it and `qm config` prints it. */

export function macAddress(guest: GuestState, nic = 0): string {
  const seed = (guest.macSeed + nic * 131) >>> 0;
  const b = [(seed >> 16) & 0xff, (seed >> 8) & 0xff, seed & 0xff];
  return ["BC", "24", "11", ...b.map((x) => x.toString(16).toUpperCase().padStart(2, "0"))].join(":");
}

function uuidFrom(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const gib = (bytes: number): string =>
  bytes % 1024 ** 3 === 0 ? `${bytes / 1024 ** 3}G` : `${Math.round(bytes / 1024 ** 2)}M`;

export function guestConfig(guest: GuestState): Record<string, string | number> {
  const cfg: Record<string, string | number> = {};
  if (guest.type === "qemu") {
    const first = guest.disks[0];
    cfg.boot = `order=${first ? `${first.key};` : ""}net0`;
    cfg.cores = guest.cores;
    cfg.cpu = "x86-64-v2-AES";
    cfg.memory = String(Math.round(guest.memoryBytes / 1024 ** 2));
    cfg.meta = `creation-qemu=9.0.2,ctime=${1735000000 + (guest.vmid % 1000)}`;
    cfg.name = guest.name;
    cfg.net0 = `virtio=${macAddress(guest)},bridge=vmbr0,firewall=1`;
    cfg.numa = 0;
    cfg.ostype = "l26";
    cfg.scsihw = "virtio-scsi-single";
    cfg.smbios1 = `uuid=${uuidFrom(`smbios-${guest.vmid}`)}`;
    cfg.sockets = 1;
    cfg.vmgenid = uuidFrom(`vmgenid-${guest.vmid}`);
    for (const d of guest.disks) cfg[d.key] = `${d.volume},iothread=1,size=${gib(d.sizeBytes)}`;
    if (guest.hostName) cfg.agent = "1";
  } else {
    cfg.arch = "amd64";
    cfg.cores = guest.cores;
    cfg.features = "nesting=1";
    cfg.hostname = guest.name;
    cfg.memory = Math.round(guest.memoryBytes / 1024 ** 2);
    cfg.net0 = `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${macAddress(guest)},ip=dhcp,type=veth`;
    cfg.ostype = guest.contents?.ostype ?? "debian";
    for (const d of guest.disks)
      cfg[d.key] =
        d.key === "rootfs"
          ? `${d.volume},size=${gib(d.sizeBytes)}`
          : `${d.volume},mp=/mnt/${d.key},size=${gib(d.sizeBytes)}`;
    cfg.swap = 512;
    if (!guest.privileged) cfg.unprivileged = 1;
  }
  for (const dev of guest.devices) cfg[dev.key] = dev.value;
  if (guest.onboot) cfg.onboot = 1;
  if (guest.tags.length > 0) cfg.tags = guest.tags.join(";");
  if (guest.lock) cfg.lock = guest.lock;
  if (guest.parent) cfg.parent = guest.parent;
  if (guest.template) cfg.template = 1;
  const digest = createHash("sha1").update(JSON.stringify(cfg)).digest("hex");
  return { ...cfg, digest };
}

/** Local disks: on a storage that is not shared (these need `--with-local-disks` to live-migrate). */
export function localDisks(
  guest: GuestState,
  storages: { name: string; shared: boolean }[],
): GuestState["disks"] {
  return guest.disks.filter((d) => !storages.find((s) => s.name === d.storage)?.shared);
}

/**
 * What qemu-server's check_local_resources lists for a VM (src/pve/REFERENCE-local-resources.md):
 * usbN (not a SPICE redirect), hostpciN, serialN (not `socket`), parallelN, virtiofsN. The simulator
 * has no resource mappings, so every one of them blocks a live migration.
 */
export function localResources(guest: GuestState): string[] {
  if (guest.type !== "qemu") return [];
  return guest.devices
    .filter(({ key, value }) => {
      if (/^usb\d+$/.test(key)) return !/^(?:host=)?spice(?:,|$)/i.test(value);
      if (/^serial\d+$/.test(key)) return value !== "socket";
      return /^(?:hostpci|parallel|virtiofs)\d+$/.test(key);
    })
    .map((d) => d.key);
}

/** A CD drive in the config: `ide2: local:iso/x.iso,media=cdrom`, `ide2: none,media=cdrom`, `cdrom`. */
export interface CdromDrive {
  key: string;
  /** `local:iso/x.iso`, `none`, or `cdrom` (the host's physical drive). */
  volume: string;
}

export function cdromDrives(guest: GuestState): CdromDrive[] {
  return guest.devices
    .filter((d) => /^(?:ide|sata|scsi)\d+$/.test(d.key) && /(?:^|,)media=cdrom(?:,|$)/.test(d.value))
    .map((d) => ({ key: d.key, volume: d.value.split(",")[0] ?? "none" }));
}

/** The storage of a volume id (`local:iso/x.iso` → `local`). */
export function storageOf(volume: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9._-]*):/.exec(volume)?.[1];
}

/** CD images that keep a VM from migrating: on a storage that is not shared, or the host's drive. */
export function localCdroms(guest: GuestState, storages: { name: string; shared: boolean }[]): CdromDrive[] {
  return cdromDrives(guest).filter((c) => {
    if (c.volume === "none") return false;
    if (c.volume === "cdrom") return true;
    const s = storageOf(c.volume);
    return !storages.find((x) => x.name === s)?.shared;
  });
}
