/**
 * Overlap (issue 8): while node k's guests move back (Restoring: k is back and verified), node k+1
 * may upgrade and evacuate, within the cluster's migration lanes and memory counting guests in
 * flight; k+1 never goes down before k is verified, and maxUnavailable still counts nodes out.
 */
import { describe, expect, it } from "vitest";
import type { HostPatch, HostPatchPhase } from "../../src/api/host-patch.js";
import { PHASES } from "../../controller/host-patch/flow.js";
import type { MovesInFlight } from "../../controller/host-patch/observation.js";
import type { Migration, Transition } from "../../controller/host-patch/transition.js";
import {
  movesInFlight,
  patchedInCycle,
  siblingPhasesToWake,
  turnOf,
  wakesSiblings,
} from "../../controller/host-patch/turn.js";
import { returnOrder } from "../../controller/host-patch/in-flight.js";
import { cluster, context, evacGuest, guest, obs, status } from "./support.js";

const GiB = 1024 ** 3;

function hp(
  host: string,
  phase?: HostPatchPhase,
  over: Partial<NonNullable<HostPatch["status"]>> = {},
): HostPatch {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "HostPatch",
    metadata: { name: `nodes-${host}` },
    spec: { planRef: { name: "nodes" }, clusterRef: { name: "lab" }, host, profile: "pve", cycle: "c1" },
    ...(phase ? { status: { phase, ...over } } : {}),
  };
}

const back = (vmid: number, from: string, to: string, state: Migration["state"]): Migration => ({
  vmid,
  type: "qemu",
  from,
  to,
  mode: "ha",
  state,
});

describe("whose turn: node k+1 while node k is at each phase", () => {
  const phases: [HostPatchPhase, boolean][] = [
    ["Upgrading", false],
    ["Evacuating", false],
    ["Rebooting", false],
    ["AwaitingReturn", false],
    ["Verifying", false],
    ["Restoring", true],
    ["Succeeded", true],
  ];
  for (const [phase, ok] of phases)
    it(`pve1 ${phase}: pve2 ${ok ? "may start" : "waits"} (never goes down before pve1 is verified)`, () => {
      const me = hp("pve2", "Preflight");
      expect(turnOf(me, [hp("pve1", phase), me, hp("pve3", "Preflight")], 1, undefined).ok).toBe(ok);
    });

  it("maxUnavailable still counts the nodes that are out: pve3 waits while pve2 upgrades beside pve1's return", () => {
    const me = hp("pve3", "Preflight");
    const t = turnOf(me, [hp("pve1", "Restoring"), hp("pve2", "Upgrading"), me], 1, undefined);
    expect(t).toMatchObject({ ok: false });
    expect(t.ok ? "" : t.message).toContain("pve2 (Upgrading)");
  });

  it("a node whose guests move back counts as patched: a preferred target", () => {
    const me = hp("pve2", "Evacuating");
    expect(patchedInCycle(me, [hp("pve1", "Restoring"), me])).toEqual(["pve1"]);
  });

  it("collects the other nodes' moves that have not ended, and the lanes the running ones take", () => {
    const me = hp("pve2", "Upgrading");
    const k = hp("pve1", "Restoring", {
      migrationsToUndo: [
        back(101, "pve3", "pve1", "Running"),
        back(102, "pve2", "pve1", "Planned"),
        back(103, "pve3", "pve1", "Done"),
      ],
    });
    const m = movesInFlight(me, [k, me]);
    expect(m.lanes).toBe(1);
    expect(m.moves.map((x) => x.vmid)).toEqual([101, 102]);
  });
});

describe("Evacuating beside the previous node's return", () => {
  const planning = status({ phase: "Evacuating", rebootDecision: { required: true, reasons: ["kernel"] } });
  const inFlight = (...moves: MovesInFlight["moves"]): MovesInFlight => ({
    lanes: moves.filter((m) => m.running).length,
    moves,
  });

  it("plans around a guest the previous node's return still takes off this node (never moved twice), and reboots only once it left", () => {
    const returning = {
      vmid: 102,
      from: "pve1",
      to: "pve2",
      running: true,
      back: true,
      owner: "pve2",
      ha: false,
    };
    const ctx = context({ status: planning, movesInFlight: inFlight(returning) });
    const t: Transition = PHASES.Evacuating.decide(
      ctx,
      obs({
        cluster: cluster({ guests: [guest(100, "pve1"), guest(102, "pve1")] }),
        guests: [evacGuest(100), evacGuest(102)],
      }),
    );
    expect(t.kind).toBe("act");
    expect(t.kind === "act" && t.patch?.migrations?.map((m) => m.vmid)).toEqual([100]);

    const moved = status({
      phase: "Evacuating",
      rebootDecision: { required: true, reasons: ["kernel"] },
      migrations: [{ vmid: 100, type: "qemu", from: "pve1", to: "pve3", mode: "online", state: "Done" }],
    });
    const world = obs({ cluster: cluster({ guests: [guest(100, "pve3"), guest(102, "pve1")] }) });
    const held = PHASES.Evacuating.decide(
      context({ status: moved, movesInFlight: inFlight(returning) }),
      world,
    );
    expect(held.kind).toBe("wait");
    expect(held.kind === "wait" && held.message).toContain(
      "waiting for the guests of pve2 to finish moving (102 pve1 -> pve2) off pve1 before the reboot",
    );
    const gone = PHASES.Evacuating.decide(
      context({ status: moved, movesInFlight: inFlight() }),
      obs({ cluster: cluster({ guests: [guest(100, "pve3"), guest(102, "pve2")] }) }),
    );
    expect(gone).toMatchObject({ kind: "goto", phase: "Rebooting" });
  });

  it("does not plan while another node's guest is on its way to this node (it would land on a node about to go down)", () => {
    const ctx = context({
      status: planning,
      movesInFlight: inFlight({
        vmid: 150,
        from: "pve3",
        to: "pve1",
        running: true,
        back: true,
        owner: "pve1x",
        ha: false,
      }),
    });
    const t = PHASES.Evacuating.decide(
      ctx,
      obs({
        cluster: cluster({ guests: [guest(100, "pve1"), guest(150, "pve3")] }),
        guests: [evacGuest(100)],
      }),
    );
    expect(t.kind).toBe("wait");
    expect(t.kind === "wait" && t.message).toContain(
      "waiting for the guests of pve1x to finish moving (150 pve3 -> pve1)",
    );
    expect(t.kind === "wait" && t.patch?.migrations).toBeUndefined();
  });

  it("counts the memory of guests on their way to a target as used there", () => {
    const ctx = context({
      status: planning,
      movesInFlight: inFlight({
        vmid: 150,
        from: "pve3",
        to: "pve2",
        running: true,
        back: true,
        owner: "pve2",
        ha: false,
      }),
    });
    const o = obs({
      cluster: cluster({
        guests: [guest(100, "pve1", { maxmem: 30 * GiB }), guest(150, "pve3", { maxmem: 25 * GiB })],
      }),
      guests: [evacGuest(100, { memoryBytes: 30 * GiB })],
    });
    const t = PHASES.Evacuating.decide(ctx, o);
    expect(t.kind === "act" && t.patch?.migrations?.map((m) => [m.vmid, m.to])).toEqual([[100, "pve3"]]);
  });

  it("starts only as many migrations as the lanes the other node's returns leave", () => {
    const ctx = context({
      status: status({
        phase: "Evacuating",
        currentStep: { name: "evacuate", id: "c1-evacuate", startedAt: "t" },
        rebootDecision: { required: true, reasons: ["kernel"] },
        migrations: [
          { vmid: 100, type: "qemu", from: "pve1", to: "pve3", mode: "online", state: "Planned" },
          { vmid: 101, type: "qemu", from: "pve1", to: "pve3", mode: "online", state: "Planned" },
        ],
      }),
      movesInFlight: inFlight({
        vmid: 150,
        from: "pve3",
        to: "pve2",
        running: true,
        back: true,
        owner: "pve2",
        ha: false,
      }),
    });
    const t = PHASES.Evacuating.decide(
      ctx,
      obs({ cluster: cluster({ guests: [guest(100, "pve1"), guest(101, "pve1")] }) }),
    );
    expect(t.kind).toBe("act");
    expect(t.kind === "act" && t.patch?.migrations?.map((m) => m.state)).toEqual(["Running", "Planned"]);
  });
});

describe("wake on events: which sibling changes wake the other HostPatches of the cluster", () => {
  const k = hp("pve1", "Verifying");
  it("a phase change (node k verified) wakes them", () => {
    expect(wakesSiblings(k, hp("pve1", "Restoring"))).toBe(true);
  });
  it("a migration that ended (a lane free, a guest gone) wakes them", () => {
    const running = hp("pve1", "Restoring", { migrationsToUndo: [back(101, "pve2", "pve1", "Running")] });
    const done = hp("pve1", "Restoring", { migrationsToUndo: [back(101, "pve2", "pve1", "Done")] });
    expect(wakesSiblings(running, done)).toBe(true);
  });
  it("a prefetch that ended (a slot free) wakes them", () => {
    const rec = { jobId: "j", startedAt: "t", state: "Running" as const };
    expect(
      wakesSiblings(
        hp("pve3", "Preflight", { prefetch: rec }),
        hp("pve3", "Preflight", { prefetch: { ...rec, state: "Done" } }),
      ),
    ).toBe(true);
  });
  it("a new message or timestamp alone does not (no reconcile storms)", () => {
    expect(
      wakesSiblings(hp("pve1", "Restoring", { message: "a" }), hp("pve1", "Restoring", { message: "b" })),
    ).toBe(false);
  });
});

describe("wake on events: whom a change wakes, by their phase", () => {
  it("a phase change wakes those waiting for their turn or to plan an evacuation, not those mid-job", () => {
    const w = siblingPhasesToWake(hp("pve1", "Verifying"), hp("pve1", "Restoring"));
    expect([...w].sort()).toEqual(["Evacuating", "Preflight"]);
  });
  it("a finished migration wakes those evacuating or moving guests back", () => {
    const running = hp("pve1", "Restoring", { migrationsToUndo: [back(101, "pve2", "pve1", "Running")] });
    const done = hp("pve1", "Restoring", { migrationsToUndo: [back(101, "pve2", "pve1", "Done")] });
    expect([...siblingPhasesToWake(running, done)].sort()).toEqual(["Evacuating", "Restoring"]);
  });
  it("returns go first from the node to be patched next, containers first", () => {
    const r = (vmid: number, from: string, type: "qemu" | "lxc") => ({ vmid, from, type });
    const order = returnOrder(
      [r(101, "pve3", "qemu"), r(102, "pve2", "qemu"), r(201, "pve2", "lxc"), r(103, "pve4", "qemu")],
      ["pve4"],
    );
    expect(order.map((m) => m.vmid)).toEqual([201, 102, 101, 103]);
  });
});

describe("lanes: guests going home yield to the next node's evacuation", () => {
  it("a Restoring node starts no return while another node's evacuation waits for a lane", () => {
    const ctx = context({
      status: status({
        phase: "Restoring",
        rebootDecision: { required: true, reasons: ["kernel"] },
        migrationsToUndo: [back(101, "pve3", "pve1", "Planned")],
      }),
      movesInFlight: {
        lanes: 1,
        moves: [
          { vmid: 110, from: "pve2", to: "pve3", running: true, back: false, owner: "pve2", ha: false },
          { vmid: 111, from: "pve2", to: "pve3", running: false, back: false, owner: "pve2", ha: false },
        ],
      },
    });
    const t = PHASES.Restoring.decide(
      ctx,
      obs({ cluster: cluster({ guests: [guest(101, "pve3", { hastate: "started" })] }) }),
    );
    expect(t.kind).toBe("wait");
    const free = context({ ...ctx, movesInFlight: { lanes: 1, moves: [ctx.movesInFlight!.moves[0]!] } });
    const t2 = PHASES.Restoring.decide(
      free,
      obs({ cluster: cluster({ guests: [guest(101, "pve3", { hastate: "started" })] }) }),
    );
    expect(t2.kind).toBe("act");
  });
});
