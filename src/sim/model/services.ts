import type { ServiceActive } from "./state.js";

/**
 * What systemd says about a service unit beyond its state: the unit's Description (from the
 * packages' unit files: pve-manager services/*.service, pve-ha-manager debian/*.service, …) and
 * the SubState that goes with an ActiveState.
 */
const DESCRIPTIONS: Record<string, string> = {
  "pve-cluster": "The Proxmox VE cluster filesystem",
  pvedaemon: "PVE API Daemon",
  pveproxy: "PVE API Proxy Server",
  pvestatd: "PVE Status Daemon",
  pvescheduler: "Proxmox VE scheduler",
  spiceproxy: "PVE SPICE Proxy Server",
  corosync: "Corosync Cluster Engine",
  "pve-ha-crm": "PVE Cluster HA Resource Manager Daemon",
  "pve-ha-lrm": "PVE Local HA Resource Manager Daemon",
  "pve-firewall": "Proxmox VE firewall",
  ssh: "OpenBSD Secure Shell server",
  cron: "Regular background program processing daemon",
  chrony: "chrony, an NTP client/server",
  "zfs-zed": "ZFS Event Daemon (zed)",
  "systemd-journald": "Journal Service",
  "proxmox-backup": "Proxmox Backup API Server",
  "proxmox-backup-proxy": "Proxmox Backup API Proxy Server",
};

/** A unit's Description; systemd falls back to the unit name. */
export function serviceDescription(name: string): string {
  return DESCRIPTIONS[name] ?? name;
}

export function serviceSubState(active: ServiceActive): string {
  switch (active) {
    case "active":
      return "running";
    case "failed":
      return "failed";
    case "activating":
      return "start";
    case "deactivating":
      return "stop-sigterm";
    default:
      return "dead";
  }
}
