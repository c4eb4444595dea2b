/**
 * The guest update benchmark's fleet (issue 9, "Performance"): 200 LXC containers on 5 simulated
 * nodes, 40 each, every one with 2 apt packages pending, two services and an HTTP health endpoint
 * that is green while both run. Built in code so the bench needs no fixture file.
 */
import type { FleetInput } from "../../../src/sim/index.js";

export const GUEST_NODES = ["pve1", "pve2", "pve3", "pve4", "pve5"];
export const CONTAINERS = 200;
export const FIRST_VMID = 1000;
/** The two packages with a newer candidate in every container's lists; curl is up to date. */
export const PENDING: Record<string, { installed: string; candidate: string }> = {
  nginx: { installed: "1.22.1-9", candidate: "1.22.1-9+deb12u1" },
  openssl: { installed: "3.0.15-1~deb12u1", candidate: "3.0.16-1~deb12u1" },
};
/** What the plan restarts after the runners (systemctl restart, one at a time). */
export const RESTARTED = ["nginx.service", "app.service"];

/** Simulated seconds (src/sim/fleet-schema.ts timing): what the per-container work is made of. */
export const GUEST_TIMING = {
  snapshotSeconds: 2,
  aptUpdateSeconds: 4,
  aptPackageSeconds: 3,
} as const;

export interface BenchContainer {
  vmid: number;
  node: string;
}

/** Container i runs on node i mod 5, so each node holds 40 and the plan's order interleaves them. */
export function benchContainers(): BenchContainer[] {
  return Array.from({ length: CONTAINERS }, (_, i) => ({
    vmid: FIRST_VMID + i,
    node: GUEST_NODES[i % GUEST_NODES.length]!,
  }));
}

export function guestFleet(): FleetInput {
  return {
    timing: GUEST_TIMING,
    clusters: [
      {
        name: "pve-lab",
        storages: [
          { name: "local", type: "dir", content: ["iso", "vztmpl", "backup"] },
          { name: "local-zfs", type: "zfspool", content: ["images", "rootdir"] },
        ],
        nodes: GUEST_NODES.map((name, i) => ({
          name,
          ip: `192.168.80.${i + 11}`,
          memoryGiB: 256,
          cpus: 32,
          kernel: { running: "6.8.12-10-pve", installed: ["6.8.12-10-pve"] },
          packages: { "pve-manager": "8.4.2" },
        })),
        guests: benchContainers().map((c) => ({
          vmid: c.vmid,
          type: "lxc" as const,
          name: `app${c.vmid}`,
          node: c.node,
          memoryMiB: 512,
          tags: ["bench"],
          onboot: true,
          disks: [{ storage: "local-zfs", sizeGiB: 8 }],
          container: {
            ostype: "debian" as const,
            ecosystems: {
              apt: { packages: { ...PENDING, curl: "7.88.1-10+deb12u8" } },
            },
            services: { nginx: { state: "active" as const }, app: { state: "active" as const } },
            health: [{ name: "web", kind: "http" as const, path: "/healthz", services: ["nginx", "app"] }],
          },
        })),
      },
    ],
  };
}
