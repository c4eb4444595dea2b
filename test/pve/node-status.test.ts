import { describe, expect, it } from "vitest";
import { nodeStatusArgv, parseNodeStatus } from "../../src/pve/node-status.js";
import { fixture } from "./helpers.js";

describe("parseNodeStatus", () => {
  it("reads version, kernel, memory, rootfs, uptime and string load averages (§2)", () => {
    const s = parseNodeStatus(fixture("node-status.proxcenter.json.out"));
    expect(s).toMatchObject({
      pveversion: "pve-manager/8.4.1/2a5fa54a8503f96d",
      kernelRelease: "6.8.12-9-pve",
      uptimeSeconds: 26641937,
      loadavg: [2.07, 2.34, 2.06],
      cpus: 64,
      memory: { used: 183114829717, total: 270138515456, free: 87023685739 },
      rootfs: { used: 12673380352, total: 20939620352, avail: 7176613888, free: 8266240000 },
      bootMode: "efi",
      secureboot: false,
    });
  });

  it("reads a PVE 9 node", () => {
    const s = parseNodeStatus(fixture("node-status.pve9.json.out"));
    expect(s).toMatchObject({ kernelRelease: "6.14.8-2-pve", secureboot: true, loadavg: [0.12, 0.2, 0.18] });
  });

  it("falls back to kversion for the kernel and tolerates missing fields", () => {
    const s = parseNodeStatus(
      JSON.stringify({ kversion: "Linux 6.8.12-9-pve#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9" }),
    );
    expect(s.kernelRelease).toBe("6.8.12-9-pve");
    expect(s.memory).toEqual({ used: undefined, total: undefined, free: undefined });
    expect(s.loadavg).toEqual([]);
  });

  it("refuses an array or garbage", () => {
    expect(() => parseNodeStatus("[]")).toThrow(/unexpected JSON shape/);
    expect(() => parseNodeStatus(JSON.stringify({ loadavg: ["high"] }))).toThrow(/loadavg/);
  });

  it("builds the pvesh path from a validated node name", () => {
    expect(nodeStatusArgv("pve1")).toEqual(["pvesh", "get", "/nodes/pve1/status", "--output-format", "json"]);
    expect(() => nodeStatusArgv("--help")).toThrow(/not a valid Proxmox node name/);
    expect(() => nodeStatusArgv("pve1/../cluster")).toThrow(/not a valid Proxmox node name/);
  });
});
