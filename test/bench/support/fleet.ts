import type { FleetInput } from "../../../src/sim/index.js";

/**
 * A cluster of `count` identical PVE nodes (pve01, pve02, …), each with one pending kernel and
 * pve-manager update so `apt-get -s dist-upgrade` has real work to print.
 */
export function generatedFleet(count: number): FleetInput {
  const width = String(count).length < 2 ? 2 : String(count).length;
  return {
    clusters: [
      {
        name: "bench",
        nodes: Array.from({ length: count }, (_, i) => ({
          name: `pve${String(i + 1).padStart(width, "0")}`,
          ip: `10.20.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}`,
          kernel: {
            running: "6.8.12-9-pve",
            installed: ["6.8.12-9-pve"],
            candidate: "6.8.12-10-pve",
          },
          packages: { "pve-manager": { installed: "8.4.1", candidate: "8.4.2" } },
        })),
      },
    ],
  };
}
