import { readFileSync } from "node:fs";
import type { NotificationEvent } from "../../../src/notify/index.js";

export const beforeReboot: NotificationEvent = {
  id: "HostPatchPlan/pve-nodes/BeforeReboot/pve2/c1",
  event: "BeforeReboot",
  severity: "info",
  plan: { kind: "HostPatchPlan", name: "pve-nodes" },
  cluster: "homelab",
  hosts: ["pve2"],
  summary: "Rebooting pve2 into kernel 6.8.12-9-pve after 14 package upgrades",
  details: {
    pveVersion: "pve-manager/8.4.1/2a5fa54a8503f96d",
    zfs: "all pools are healthy",
    rootUsedPercent: 41,
    clusterQuorate: true,
    packages: ["proxmox-kernel-6.8 6.8.12-9", "pve-manager 8.4.1"],
    rebootReason: "running kernel 6.8.12-8-pve is not the newest installed 6.8.12-9-pve",
    intent: { step: "reboot", bootIdBefore: "0e6f6c2a-1d9b-4b8e-9a53-7f2b1c3d4e5f" },
  },
  at: "2026-01-01T02:03:04.000Z",
};

export const refitUserAgent = `refit/${(JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version}`;
