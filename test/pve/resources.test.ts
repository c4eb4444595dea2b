import { describe, expect, it } from "vitest";
import { UnparseableOutputError } from "../../src/pve/errors.js";
import { guestsOnNode, haServiceId, parseClusterResources, storageIndex } from "../../src/pve/resources.js";
import { fixture } from "./helpers.js";

describe("parseClusterResources", () => {
  it("reads every row type of the exporter fixture and keeps pool and sdn rows as other (§1b)", () => {
    const r = parseClusterResources(fixture("cluster-resources.exporter.json.out"));
    expect(r.nodes.map((n) => [n.node, n.status, n.maxmem])).toEqual([
      ["pve1", "online", 17179869184],
      ["pve2", "online", 17179869184],
    ]);
    expect(r.guests).toHaveLength(2);
    expect(r.guests[0]).toMatchObject({
      type: "qemu",
      vmid: 100,
      node: "pve1",
      name: "vm100",
      status: "running",
      template: false,
      tags: ["web", "prod"],
      hastate: "started",
      lock: "backup",
      maxmem: 2147483648,
    });
    expect(r.guests[1]).toMatchObject({ type: "lxc", vmid: 101, node: "pve2", status: "stopped", tags: [] });
    expect(r.storages).toEqual([
      expect.objectContaining({
        storage: "local",
        node: "pve1",
        shared: false,
        content: ["vztmpl", "backup", "iso"],
      }),
      expect.objectContaining({ storage: "ceph", node: "pve1", shared: true, status: "unknown" }),
    ]);
    expect(r.other.map((o) => o.type)).toEqual(["pool", "sdn"]);
  });

  it("keeps guests of an offline node (status unknown, no metrics) and unknown row types", () => {
    const r = parseClusterResources(fixture("cluster-resources.offline-node.json.out"));
    expect(r.nodes.find((n) => n.node === "pve3")).toMatchObject({ status: "offline", maxmem: undefined });
    expect(guestsOnNode(r, "pve3").map((g) => [g.vmid, g.status, g.name, g.mem])).toEqual([
      [103, "unknown", undefined, undefined],
      [104, "unknown", undefined, undefined],
    ]);
    expect(guestsOnNode(r, "pve3")[0]?.pool).toBe("prod");
    expect(r.guests.find((g) => g.vmid === 9000)?.template).toBe(true);
    expect(r.other.map((o) => o.type)).toEqual(["network", "future-thing"]);
  });

  it("accepts Perl booleans in any spelling and numbers as strings", () => {
    const r = parseClusterResources(
      JSON.stringify([
        { type: "storage", id: "storage/pve1/nfs", shared: "1", content: "backup" },
        { type: "qemu", id: "qemu/205", node: "pve1", template: true, maxmem: "1024", status: "running" },
      ]),
    );
    expect(r.storages[0]).toMatchObject({ storage: "nfs", node: "pve1", shared: true });
    expect(r.guests[0]).toMatchObject({ vmid: 205, template: true, maxmem: 1024 });
  });

  it("refuses a guest row without node or vmid rather than dropping a guest", () => {
    expect(() => parseClusterResources(JSON.stringify([{ type: "lxc", id: "lxc/x" }]))).toThrow(
      UnparseableOutputError,
    );
    expect(() => parseClusterResources(JSON.stringify([{ type: "qemu", id: "qemu/100" }]))).toThrow(
      /vmid or node/,
    );
    expect(() => parseClusterResources("[{]")).toThrow(/expected JSON/);
  });

  it("indexes storages as shared when any node says so", () => {
    const r = parseClusterResources(fixture("cluster-resources.exporter.json.out"));
    const idx = storageIndex(r);
    expect(idx.get("ceph")).toBe(true);
    expect(idx.get("local")).toBe(false);
    expect(idx.has("local-lvm")).toBe(false);
  });

  it("names HA services like ha-manager does", () => {
    expect(haServiceId("qemu", 100)).toBe("vm:100");
    expect(haServiceId("lxc", 101)).toBe("ct:101");
  });
});
