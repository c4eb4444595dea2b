/**
 * Which GuestUpdatePolicies a plan's change wakes: only a new recorded selection (a cycle started,
 * or a conflict appeared or went), and then the policies named before and after; the plan's other
 * status writes (counts, phase) wake none, so one-container policies are not re-derived at every step.
 */
import { describe, expect, it } from "vitest";
import { policiesToWake } from "../../controller/guest-update-plan/policy-status.js";
import type { WatchEvent } from "../../controller/runtime/store.js";

type Status = {
  cycleTargets?: { vmid: number; policy?: string }[];
  conflicts?: { vmid: number; with: string[] }[];
  phase?: string;
};

function plan(status: Status): WatchEvent["object"] {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdatePlan",
    metadata: { name: "apps" },
    spec: {},
    status,
  } as unknown as WatchEvent["object"];
}

const names = (e: WatchEvent): string[] =>
  policiesToWake(e)
    .map((k) => k.name)
    .sort();

describe("policiesToWake", () => {
  const before = plan({
    cycleTargets: [{ vmid: 110, policy: "ct-110" }, { vmid: 112 }],
    phase: "Progressing",
  });

  it("a status write that keeps the selection wakes no policy", () => {
    const after = plan({
      cycleTargets: [{ vmid: 110, policy: "ct-110" }, { vmid: 112 }],
      phase: "Succeeded",
    });
    expect(names({ type: "MODIFIED", object: after, oldObject: before })).toEqual([]);
  });

  it("a new selection wakes the policies named before and after, conflicts included", () => {
    const after = plan({
      cycleTargets: [{ vmid: 111, policy: "ct-111" }],
      conflicts: [{ vmid: 113, with: ["GuestUpdatePolicy/a", "GuestUpdatePolicy/b"] }],
    });
    expect(names({ type: "MODIFIED", object: after, oldObject: before })).toEqual([
      "a",
      "b",
      "ct-110",
      "ct-111",
    ]);
  });

  it("a plan added or deleted wakes what it names", () => {
    expect(names({ type: "ADDED", object: before })).toEqual(["ct-110"]);
    expect(names({ type: "DELETED", object: before })).toEqual(["ct-110"]);
  });

  it("other kinds wake nothing", () => {
    const other = { ...before, kind: "HostPatchPlan" } as WatchEvent["object"];
    expect(names({ type: "ADDED", object: other })).toEqual([]);
  });
});
