import { describe, expect, it } from "vitest";
import {
  planEvacuation,
  type EvacGuest,
  type EvacNode,
  type EvacOptions,
} from "../../controller/host-patch/evacuation-plan.js";

/** Local resources that Proxmox refuses to migrate (src/pve/REFERENCE-local-resources.md). */

const GiB = 1024 ** 3;
const opts: EvacOptions = { mode: "Migrate", headroomPercent: 10, withLocalDisks: true, unmovable: "Block" };
const guest = (vmid: number, over: Partial<EvacGuest> = {}): EvacGuest => ({
  vmid,
  type: "qemu",
  status: "running",
  memoryBytes: 2 * GiB,
  haManaged: false,
  template: false,
  localDisks: 0,
  localDevices: [],
  ...over,
});
const node = (name: string, over: Partial<EvacNode> = {}): EvacNode => ({
  name,
  online: true,
  maintenance: false,
  memTotalBytes: 64 * GiB,
  memUsedBytes: 8 * GiB,
  patched: false,
  ...over,
});
const cluster = [node("pve1"), node("pve2"), node("pve3")];
const ISO = { drive: "ide2", volume: "local:iso/debian-12.iso" };

describe("evacuation planning: local resources", () => {
  it("a VM with a local CD image is unmovable (even with withLocalDisks): Block stops before anything moves", () => {
    const plan = planEvacuation("pve1", [guest(100), guest(101, { localMedia: [ISO] })], cluster, opts);
    expect(plan.moves).toEqual([]);
    expect(plan.blocked).toMatchObject({ reason: "UnmovableGuest" });
    expect(plan.blocked?.message).toContain(
      "VM 101 has a local CD image (ide2: local:iso/debian-12.iso); eject it or set evacuation.ejectLocalMedia",
    );
  });

  it("with ejectLocalMedia the VM moves, and the plan says which images to eject", () => {
    const plan = planEvacuation("pve1", [guest(101, { localMedia: [ISO] })], cluster, {
      ...opts,
      ejectLocalMedia: true,
    });
    expect(plan.blocked).toBeUndefined();
    expect(plan.moves).toMatchObject([{ vmid: 101, mode: "online", ejectMedia: [ISO] }]);
  });

  it("never targets a node the precondition disallows; with none allowed the guest is unmovable", () => {
    const some = planEvacuation(
      "pve1",
      [guest(102, { notAllowedNodes: { pve2: "storage nfs-a not available there" } })],
      cluster,
      opts,
    );
    expect(some.moves).toMatchObject([{ vmid: 102, to: "pve3" }]);
    const none = planEvacuation(
      "pve1",
      [
        guest(102, {
          notAllowedNodes: {
            pve2: "storage nfs-a not available there",
            pve3: "storage nfs-a not available there",
          },
        }),
      ],
      cluster,
      { ...opts, unmovable: "Skip" },
    );
    expect(none.moves).toEqual([]);
    expect(none.stays).toMatchObject([
      {
        vmid: 102,
        reason:
          "Proxmox allows no other node (pve2: storage nfs-a not available there; pve3: storage nfs-a not available there)",
      },
    ]);
  });

  it("spreading never moves a guest onto a node the precondition disallows", () => {
    const plan = planEvacuation(
      "pve1",
      [guest(103), guest(104, { notAllowedNodes: { pve3: "storage x not available there" } })],
      [node("pve1"), node("pve2", { memUsedBytes: 0 }), node("pve3", { memUsedBytes: 40 * GiB })],
      opts,
    );
    expect(plan.moves.find((m) => m.vmid === 104)?.to).toBe("pve2");
  });

  it("an unreadable precondition fails closed: the guest is not proven movable", () => {
    const plan = planEvacuation(
      "pve1",
      [guest(105, { preconditionError: "pvesh failed: ipcc_send_rec[1] failed" })],
      cluster,
      { ...opts, unmovable: "Shutdown" },
    );
    expect(plan.moves).toEqual([]);
    expect(plan.shutdowns).toMatchObject([
      { vmid: 105, reason: "cannot be proven movable: pvesh failed: ipcc_send_rec[1] failed" },
    ]);
  });

  it("in HAMaintenance mode an HA guest that HA could not move falls under the policy too", () => {
    const plan = planEvacuation(
      "pve1",
      [guest(106, { haManaged: true, localMedia: [ISO] }), guest(107, { haManaged: true })],
      cluster,
      { ...opts, mode: "HAMaintenance" },
    );
    expect(plan.viaHa).toEqual([]);
    expect(plan.blocked?.message).toContain("VM 106 has a local CD image");
  });

  it("containers are planned as restarts: HA-managed ones through HA, the others with pct migrate --restart", () => {
    const plan = planEvacuation(
      "pve1",
      [guest(200, { type: "lxc", haManaged: true }), guest(201, { type: "lxc" }), guest(108)],
      cluster,
      opts,
    );
    expect(plan.moves.map((m) => [m.vmid, m.mode, m.restart ?? false]).sort()).toEqual([
      [108, "online", false],
      [200, "ha", true],
      [201, "restart", true],
    ]);
    const ha = planEvacuation("pve1", [guest(200, { type: "lxc", haManaged: true })], cluster, {
      ...opts,
      mode: "HAMaintenance",
    });
    expect(ha.viaHa[0]?.reason).toMatch(/a restart: HA stops the container, moves it, starts it/);
  });
});
