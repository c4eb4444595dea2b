import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  planEvacuation,
  type EvacGuest,
  type EvacNode,
  type EvacOptions,
} from "../../controller/host-patch/evacuation-plan.js";

const GiB = 1024 ** 3;
const opts: EvacOptions = { mode: "Migrate", headroomPercent: 10, withLocalDisks: true, unmovable: "Block" };

function guest(vmid: number, over: Partial<EvacGuest> = {}): EvacGuest {
  return {
    vmid,
    type: "qemu",
    status: "running",
    memoryBytes: 2 * GiB,
    haManaged: false,
    template: false,
    localDisks: 0,
    localDevices: [],
    ...over,
  };
}

function node(name: string, over: Partial<EvacNode> = {}): EvacNode {
  return {
    name,
    online: true,
    maintenance: false,
    memTotalBytes: 64 * GiB,
    memUsedBytes: 8 * GiB,
    patched: false,
    ...over,
  };
}

const cluster = [node("pve1"), node("pve2"), node("pve3")];

describe("evacuation planning", () => {
  it("live-migrates VMs, restart-migrates containers, moves HA guests through HA, leaves stopped guests and templates", () => {
    const plan = planEvacuation(
      "pve1",
      [
        guest(100),
        guest(101, { type: "lxc" }),
        guest(102, { haManaged: true }),
        guest(103, { status: "stopped" }),
        guest(104, { template: true, status: "stopped" }),
        guest(105, { localDisks: 1 }),
      ],
      cluster,
      opts,
    );
    expect(plan.blocked).toBeUndefined();
    const modes = Object.fromEntries(plan.moves.map((m) => [m.vmid, m.mode]));
    expect(modes).toEqual({ 100: "online", 101: "restart", 102: "ha", 105: "online" });
    expect(plan.moves.find((m) => m.vmid === 105)?.withLocalDisks).toBe(true);
    expect(plan.stays.map((s) => s.vmid).sort()).toEqual([103, 104]);
    expect(plan.moves.every((m) => m.to !== "pve1")).toBe(true);
  });

  it("spreads guests instead of piling them onto one node", () => {
    const plan = planEvacuation("pve1", [guest(100), guest(101), guest(102), guest(103)], cluster, opts);
    const targets = plan.moves.map((m) => m.to);
    expect(new Set(targets)).toEqual(new Set(["pve2", "pve3"]));
    expect(targets.filter((t) => t === "pve2")).toHaveLength(2);
  });

  it("prefers nodes already patched this cycle, but still never moves everything onto one node", () => {
    const nodes = [node("pve1"), node("pve2", { patched: true }), node("pve3")];
    const plan = planEvacuation("pve1", [guest(100), guest(101), guest(102)], nodes, opts);
    const onPatched = plan.moves.filter((m) => m.to === "pve2").length;
    expect(onPatched).toBe(2);
    expect(plan.moves.filter((m) => m.to === "pve3")).toHaveLength(1);
  });

  it("keeps the memory headroom on every target", () => {
    // pve2 has 64 GiB, 8 used: with 10% headroom 49.6 GiB can be placed; pve3 is nearly full.
    const nodes = [node("pve1"), node("pve2"), node("pve3", { memUsedBytes: 57 * GiB })];
    const plan = planEvacuation(
      "pve1",
      [guest(100, { memoryBytes: 30 * GiB }), guest(101, { memoryBytes: 16 * GiB })],
      nodes,
      opts,
    );
    expect(plan.moves.map((m) => m.to)).toEqual(["pve2", "pve2"]);
    const tooBig = planEvacuation("pve1", [guest(100, { memoryBytes: 50 * GiB })], nodes, opts);
    expect(tooBig.blocked?.reason).toBe("InsufficientMemory");
    expect(tooBig.blocked?.message).toMatch(
      /VM 100 needs 50\.0 GiB but the most any other node has free beyond the 10% headroom is 49\.6 GiB/,
    );
    expect(tooBig.moves).toEqual([]);
  });

  it("never targets offline nodes or nodes in maintenance", () => {
    const nodes = [
      node("pve1"),
      node("pve2", { online: false }),
      node("pve3", { maintenance: true }),
      node("pve4"),
    ];
    const plan = planEvacuation("pve1", [guest(100), guest(101)], nodes, opts);
    expect(plan.moves.map((m) => m.to)).toEqual(["pve4", "pve4"]);
    const alone = planEvacuation("pve1", [guest(100)], [node("pve1")], opts);
    expect(alone.blocked?.message).toContain("there is no other online node");
  });

  it("blocks before anything moves when a guest cannot move and the policy is Block", () => {
    const plan = planEvacuation(
      "pve1",
      [guest(100), guest(101, { localDevices: ["hostpci0"] })],
      cluster,
      opts,
    );
    expect(plan.blocked).toEqual({
      reason: "UnmovableGuest",
      message:
        "cannot evacuate pve1: VM 101 uses local devices (hostpci0). Nothing was moved (evacuation.unmovable is Block)",
    });
    expect(plan.moves).toEqual([]);
  });

  it("treats locked guests and VMs with local disks (when not allowed) as unmovable", () => {
    const locked = planEvacuation("pve1", [guest(100, { lock: "backup" })], cluster, opts);
    expect(locked.blocked?.message).toContain("VM 100 is locked (backup)");
    const disks = planEvacuation("pve1", [guest(100, { localDisks: 2 })], cluster, {
      ...opts,
      withLocalDisks: false,
    });
    expect(disks.blocked?.message).toContain("has local disks and evacuation.withLocalDisks is false");
  });

  it("shuts unmovable guests down with policy Shutdown and leaves them with policy Skip", () => {
    const guests = [guest(100), guest(101, { localDevices: ["usb0"], name: "dongle" })];
    const shut = planEvacuation("pve1", guests, cluster, { ...opts, unmovable: "Shutdown" });
    expect(shut.moves.map((m) => m.vmid)).toEqual([100]);
    expect(shut.shutdowns).toEqual([
      { vmid: 101, type: "qemu", name: "dongle", reason: "uses local devices (usb0)" },
    ]);
    const skip = planEvacuation("pve1", guests, cluster, { ...opts, unmovable: "Skip" });
    expect(skip.stays.map((s) => s.vmid)).toEqual([101]);
  });

  it("follows the evacuation modes Shutdown and None", () => {
    expect(
      planEvacuation("pve1", [guest(100)], cluster, { ...opts, mode: "Shutdown" }).shutdowns.map(
        (s) => s.vmid,
      ),
    ).toEqual([100]);
    const none = planEvacuation("pve1", [guest(100)], cluster, { ...opts, mode: "None" });
    expect(none.moves).toEqual([]);
    expect(none.stays[0]?.reason).toBe("evacuation mode None");
  });

  it("for any fleet: every placement fits, no guest is planned twice, and Block means nothing moves", () => {
    const guestArb = fc.record({
      vmid: fc.integer({ min: 100, max: 999 }),
      type: fc.constantFrom("qemu" as const, "lxc" as const),
      status: fc.constantFrom("running", "stopped", "paused"),
      memoryBytes: fc.integer({ min: 1, max: 48 }).map((g) => g * GiB),
      haManaged: fc.boolean(),
      template: fc.boolean(),
      localDisks: fc.integer({ min: 0, max: 2 }),
      localDevices: fc.constantFrom([], [], [], ["hostpci0"]),
    });
    const nodeArb = fc.record({
      online: fc.boolean(),
      maintenance: fc.boolean(),
      memTotalBytes: fc.integer({ min: 16, max: 256 }).map((g) => g * GiB),
      used: fc.double({ min: 0, max: 1, noNaN: true }),
      patched: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(guestArb, { selector: (g) => g.vmid, maxLength: 12 }),
        fc.array(nodeArb, { minLength: 1, maxLength: 5 }),
        fc.constantFrom("Block" as const, "Shutdown" as const, "Skip" as const),
        fc.integer({ min: 0, max: 30 }),
        (guests, rawNodes, unmovable, headroomPercent) => {
          const nodes: EvacNode[] = rawNodes.map((n, i) => ({
            name: `pve${i + 1}`,
            online: n.online,
            maintenance: n.maintenance,
            memTotalBytes: n.memTotalBytes,
            memUsedBytes: Math.floor(n.memTotalBytes * n.used),
            patched: n.patched,
          }));
          const plan = planEvacuation("pve1", guests, nodes, { ...opts, unmovable, headroomPercent });
          if (plan.blocked) {
            expect(plan.moves).toEqual([]);
            expect(plan.shutdowns).toEqual([]);
            return;
          }
          const seen = [...plan.moves, ...plan.shutdowns, ...plan.stays].map((x) => x.vmid);
          expect(new Set(seen).size).toBe(seen.length);
          expect(seen.sort()).toEqual(guests.map((g) => g.vmid).sort());
          for (const t of nodes) {
            const load = plan.moves.filter((m) => m.to === t.name).reduce((s, m) => s + m.memoryBytes, 0);
            if (load === 0) continue;
            expect(t.name).not.toBe("pve1");
            expect(t.online && !t.maintenance).toBe(true);
            expect(t.memUsedBytes + load).toBeLessThanOrEqual(
              t.memTotalBytes * (1 - headroomPercent / 100) + 1,
            );
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
