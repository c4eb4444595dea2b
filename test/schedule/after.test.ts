import { describe, expect, it } from "vitest";
import { afterGate, type AfterOther, type AfterPlan } from "../../src/schedule/after.js";

// One Saturday cycle: the window opened at 00:00Z; PVE runs first, then PBS, then the control node.
const windowOpened = Date.parse("2026-01-03T00:00:00Z");
const pve: AfterPlan = { kind: "HostPatchPlan", name: "pve-nodes", after: [] };
const pbs: AfterPlan = {
  kind: "HostPatchPlan",
  name: "pbs",
  after: [{ kind: "HostPatchPlan", name: "pve-nodes" }],
};
const control: AfterPlan = {
  kind: "HostPatchPlan",
  name: "control",
  after: [{ kind: "HostPatchPlan", name: "pbs" }],
};

const other = (plan: AfterPlan, extra: Partial<AfterOther> = {}): AfterOther => ({
  kind: plan.kind,
  name: plan.name,
  ...extra,
});

describe("afterGate", () => {
  it("allows a plan with no predecessors", () => {
    expect(afterGate(pve, [], windowOpened)).toEqual({ allowed: true });
  });

  it("waits while a predecessor is progressing", () => {
    expect(afterGate(pbs, [other(pve, { phase: "Progressing" })], windowOpened)).toEqual({
      allowed: false,
      reason: "WaitingForPlan",
      blockers: ["HostPatchPlan/pve-nodes"],
      message: "HostPatchPlan/pbs waits: HostPatchPlan/pve-nodes is still progressing",
    });
  });

  it("waits while a predecessor is progressing even if it finished an earlier cycle in this window", () => {
    const r = afterGate(
      pbs,
      [other(pve, { phase: "Progressing", cycleFinishedAt: "2026-01-03T00:30:00.000Z" })],
      windowOpened,
    );
    expect(r).toMatchObject({ allowed: false, reason: "WaitingForPlan" });
  });

  it("proceeds once the predecessor finished a cycle after this cycle began", () => {
    const r = afterGate(
      pbs,
      [other(pve, { phase: "Succeeded", cycleFinishedAt: "2026-01-03T01:10:00.000Z" })],
      windowOpened,
    );
    expect(r).toEqual({ allowed: true });
  });

  it("counts a finish exactly at the cycle start", () => {
    const r = afterGate(
      pbs,
      [other(pve, { phase: "Idle", cycleFinishedAt: "2026-01-03T00:00:00.000Z" })],
      windowOpened,
    );
    expect(r.allowed).toBe(true);
  });

  it("does not count last week's finish", () => {
    const r = afterGate(
      pbs,
      [other(pve, { phase: "Succeeded", cycleFinishedAt: "2025-12-27T02:00:00.000Z" })],
      windowOpened,
    );
    expect(r).toMatchObject({ allowed: false, reason: "WaitingForPlan" });
    if (!r.allowed)
      expect(r.message).toBe(
        "HostPatchPlan/pbs waits: HostPatchPlan/pve-nodes last finished a cycle at 2025-12-27T02:00:00.000Z, " +
          "before this cycle began at 2026-01-03T00:00:00.000Z (phase Succeeded)",
      );
  });

  it("waits for a predecessor that never finished a cycle, naming its phase", () => {
    const r = afterGate(pbs, [other(pve, { phase: "OutsideWindow" })], windowOpened);
    expect(r).toMatchObject({
      allowed: false,
      reason: "WaitingForPlan",
      message:
        "HostPatchPlan/pbs waits: HostPatchPlan/pve-nodes has not finished a cycle (phase OutsideWindow)",
    });
  });

  it("fails closed on an unreadable finish time", () => {
    const r = afterGate(
      pbs,
      [other(pve, { phase: "Succeeded", cycleFinishedAt: "yesterday" })],
      windowOpened,
    );
    expect(r).toMatchObject({ allowed: false, reason: "WaitingForPlan" });
    if (!r.allowed) expect(r.message).toContain('unreadable cycle finish time "yesterday"');
  });

  it("blocks on a stalled predecessor, by flag or by phase, naming it", () => {
    const byPhase = afterGate(pbs, [other(pve, { phase: "Stalled" })], windowOpened);
    expect(byPhase).toEqual({
      allowed: false,
      reason: "PredecessorStalled",
      blockers: ["HostPatchPlan/pve-nodes"],
      message:
        "HostPatchPlan/pbs runs after HostPatchPlan/pve-nodes, which is stalled; fix and resume it first",
    });
    const byFlag = afterGate(
      pbs,
      [other(pve, { phase: "Succeeded", stalled: true, cycleFinishedAt: "2026-01-03T01:00:00.000Z" })],
      windowOpened,
    );
    expect(byFlag).toMatchObject({ reason: "PredecessorStalled" });
  });

  it("reports a stalled predecessor ahead of one still running", () => {
    const plan: AfterPlan = {
      kind: "GuestUpdatePlan",
      name: "compose",
      after: [
        { kind: "GuestUpdatePlan", name: "apps" },
        { kind: "HostPatchPlan", name: "pve-nodes" },
      ],
    };
    const r = afterGate(
      plan,
      [{ kind: "GuestUpdatePlan", name: "apps", phase: "Progressing" }, other(pve, { phase: "Stalled" })],
      windowOpened,
    );
    expect(r).toMatchObject({ reason: "PredecessorStalled", blockers: ["HostPatchPlan/pve-nodes"] });
  });

  it("fails closed on a predecessor that no longer exists", () => {
    expect(afterGate(pbs, [], windowOpened)).toEqual({
      allowed: false,
      reason: "PredecessorMissing",
      blockers: ["HostPatchPlan/pve-nodes"],
      message:
        "HostPatchPlan/pbs runs after HostPatchPlan/pve-nodes, which does not exist; create it or remove it from after",
    });
  });

  it("matches predecessors by kind and name", () => {
    const r = afterGate(
      pbs,
      [
        {
          kind: "GuestUpdatePlan",
          name: "pve-nodes",
          phase: "Succeeded",
          cycleFinishedAt: "2026-01-03T01:00:00.000Z",
        },
      ],
      windowOpened,
    );
    expect(r).toMatchObject({ reason: "PredecessorMissing" });
  });

  it("orders PVE before PBS before the control node through one cycle", () => {
    const world: Record<string, AfterOther> = {
      pve: other(pve, { phase: "Progressing", cycleFinishedAt: "2025-12-27T03:00:00.000Z" }),
      pbs: other(pbs, { phase: "Succeeded", cycleFinishedAt: "2025-12-27T03:30:00.000Z" }),
      control: other(control, { phase: "Succeeded", cycleFinishedAt: "2025-12-27T03:45:00.000Z" }),
    };
    const allowed = (p: AfterPlan): boolean => afterGate(p, Object.values(world), windowOpened).allowed;
    expect([allowed(pve), allowed(pbs), allowed(control)]).toEqual([true, false, false]);
    world.pve = other(pve, { phase: "Succeeded", cycleFinishedAt: "2026-01-03T01:00:00.000Z" });
    world.pbs = other(pbs, { phase: "Progressing", cycleFinishedAt: "2025-12-27T03:30:00.000Z" });
    expect([allowed(pbs), allowed(control)]).toEqual([true, false]);
    world.pbs = other(pbs, { phase: "Succeeded", cycleFinishedAt: "2026-01-03T01:40:00.000Z" });
    expect(allowed(control)).toBe(true);
  });
});
