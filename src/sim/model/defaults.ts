/** What a freshly installed PVE 8.4 node, PBS 3.4 VM and Debian 12 system carry, unless the fleet says otherwise. */

export const DEBIAN_ORIGIN = "Debian:12.10/stable";
export const DEBIAN_SECURITY_ORIGIN = "Debian-Security:12/stable-security";
export const PVE_ORIGIN = "Proxmox:bookworm/pve-no-subscription";
export const PBS_ORIGIN = "Proxmox:bookworm/pbs-no-subscription";

const DEBIAN_NAMES =
  /^(lib|openssh|openssl|bash|coreutils|systemd|dpkg|apt|tzdata|curl|wget|ca-certificates|base-files|nginx|postgresql|python3|perl|vim|sudo)/;

export function defaultOrigin(pkg: string, kind: "pve" | "pbs" | "debian"): string {
  if (
    /^(libpve|pve-|proxmox-|qemu-server|corosync|zfs|libzfs|libnvpair|libuutil|spl|lxc-pve|lxcfs|novnc-pve|ceph)/.test(
      pkg,
    ) &&
    !/^libpve-rs/.test(pkg)
  )
    return kind === "pbs" && pkg.startsWith("proxmox-backup") ? PBS_ORIGIN : PVE_ORIGIN;
  if (kind === "pbs" && /^proxmox-backup/.test(pkg)) return PBS_ORIGIN;
  if (DEBIAN_NAMES.test(pkg))
    return pkg.startsWith("openssl") || pkg.startsWith("libssl") ? DEBIAN_SECURITY_ORIGIN : DEBIAN_ORIGIN;
  return kind === "debian" ? DEBIAN_ORIGIN : PVE_ORIGIN;
}

export const PVE_PACKAGES: Record<string, string> = {
  "proxmox-ve": "8.4.0",
  "pve-manager": "8.4.1",
  "qemu-server": "8.3.12",
  "pve-container": "5.2.6",
  "pve-ha-manager": "4.0.7",
  "libpve-common-perl": "8.3.1",
  "libpve-storage-perl": "8.3.6",
  "pve-cluster": "8.1.0",
  "proxmox-kernel-helper": "8.1.1",
  corosync: "3.1.9-pve1",
  "zfsutils-linux": "2.2.7-pve2",
  "pve-qemu-kvm": "9.2.0-5",
  "lxc-pve": "6.0.0-1",
  "openssh-server": "1:9.2p1-2+deb12u5",
  libc6: "2.36-9+deb12u10",
  libssl3: "3.0.15-1~deb12u1",
  systemd: "252.36-1~deb12u1",
};

export const PBS_PACKAGES: Record<string, string> = {
  "proxmox-backup-server": "3.4.1-1",
  "proxmox-backup-client": "3.4.1-1",
  "proxmox-kernel-helper": "8.1.1",
  "openssh-server": "1:9.2p1-2+deb12u5",
  libc6: "2.36-9+deb12u10",
  libssl3: "3.0.15-1~deb12u1",
  systemd: "252.36-1~deb12u1",
};

export const DEBIAN_PACKAGES: Record<string, string> = {
  "openssh-server": "1:9.2p1-2+deb12u5",
  libc6: "2.36-9+deb12u10",
  libssl3: "3.0.15-1~deb12u1",
  systemd: "252.36-1~deb12u1",
};

export const PVE_SERVICES = [
  "pve-cluster",
  "pvedaemon",
  "pveproxy",
  "pvestatd",
  "corosync",
  "pve-ha-lrm",
  "pve-ha-crm",
  "pve-firewall",
  "pvescheduler",
  "ssh",
  "cron",
  "zfs-zed",
  "chrony",
];
export const PBS_SERVICES = ["proxmox-backup", "proxmox-backup-proxy", "ssh", "cron", "chrony"];
export const DEBIAN_SERVICES = ["ssh", "cron", "systemd-journald"];

/** Fixed commit hashes `pveversion` prints for known versions; others get a stable hash of the version. */
export const PVE_MANAGER_HASHES: Record<string, string> = {
  "8.4.1": "2a5fa54a8503f96d",
};

export const CPU_MODEL = "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz";
