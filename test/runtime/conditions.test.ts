import { describe, expect, it } from "vitest";
import {
  clearReconciling,
  clearStalled,
  conditionProblems,
  getCondition,
  isReady,
  setReady,
  setReconciling,
  setStalled,
  type StatusWithConditions,
} from "../../controller/runtime/conditions.js";
import { condition } from "../../src/api/meta.js";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const T1 = T0 + 60_000;
const T2 = T0 + 120_000;

describe("conditions", () => {
  it("setReady adds Ready with observedGeneration on the condition and on the status", () => {
    const s: StatusWithConditions = {};
    setReady(s, { status: "True", reason: "UpToDate", message: "all nodes patched" }, 3, T0);
    expect(s.observedGeneration).toBe(3);
    expect(s.conditions).toEqual([
      {
        type: "Ready",
        status: "True",
        reason: "UpToDate",
        message: "all nodes patched",
        lastTransitionTime: "2026-03-01T10:00:00.000Z",
        observedGeneration: 3,
      },
    ]);
    // What the helpers write is what the API schema accepts.
    for (const c of s.conditions ?? []) expect(condition.safeParse(c).success).toBe(true);
  });

  it("lastTransitionTime moves only when the status flips, not when reason or message change", () => {
    const s: StatusWithConditions = {};
    setReady(s, { status: "False", reason: "Upgrading", message: "pve1" }, 1, T0);
    setReady(s, { status: "False", reason: "Rebooting", message: "pve1 rebooting" }, 2, T1);
    let ready = getCondition(s, "Ready");
    expect(ready?.lastTransitionTime).toBe(new Date(T0).toISOString());
    expect(ready?.reason).toBe("Rebooting");
    expect(ready?.message).toBe("pve1 rebooting");
    expect(ready?.observedGeneration).toBe(2);
    setReady(s, { status: "True", reason: "Succeeded" }, 2, T2);
    ready = getCondition(s, "Ready");
    expect(ready?.lastTransitionTime).toBe(new Date(T2).toISOString());
    expect(ready?.message).toBe("");
  });

  it("Reconciling and Stalled are present only while True; False removes them", () => {
    const s: StatusWithConditions = {};
    setReady(s, { status: "False", reason: "Upgrading" }, 1, T0);
    setReconciling(s, { reason: "Upgrading", message: "apt dist-upgrade on pve1" }, 1, T0);
    setStalled(s, { reason: "ReturnTimeout", message: "pve1 did not come back" }, 1, T0);
    expect(s.conditions?.map((c) => [c.type, c.status])).toEqual([
      ["Ready", "False"],
      ["Reconciling", "True"],
      ["Stalled", "True"],
    ]);
    setReconciling(s, { status: "False", reason: "Done" }, 1, T1);
    expect(getCondition(s, "Reconciling")).toBeUndefined();
    setStalled(s, { status: "Unknown", reason: "Unknown" }, 1, T1);
    expect(getCondition(s, "Stalled")).toBeUndefined();
    expect(s.conditions?.map((c) => c.type)).toEqual(["Ready"]);
  });

  it("clearReconciling and clearStalled remove the condition and leave Ready", () => {
    const s: StatusWithConditions = {};
    setReconciling(s, { reason: "Progressing" }, 1, T0);
    setStalled(s, { reason: "GateClosed" }, 1, T0);
    clearReconciling(s);
    clearStalled(s);
    expect(s.conditions?.map((c) => c.type)).toEqual(["Ready"]);
  });

  it("setting Reconciling on a status without Ready adds Ready=Unknown, so Ready is always present", () => {
    const s: StatusWithConditions = {};
    setReconciling(s, { reason: "Starting", message: "first look at the cluster" }, 1, T0);
    expect(getCondition(s, "Ready")).toMatchObject({
      status: "Unknown",
      reason: "Starting",
      observedGeneration: 1,
    });
    expect(conditionProblems(s)).toEqual([]);
  });

  it.each(["upgrade failed", "upgradeFailed", "Upgrade-Failed", "", "Upgrade failed"])(
    "refuses reason %j, which is not one CamelCase word",
    (reason) => {
      const s: StatusWithConditions = {};
      expect(() => setReady(s, { status: "False", reason }, 1, T0)).toThrow(/CamelCase/);
      expect(() => setReconciling(s, { reason }, 1, T0)).toThrow(/CamelCase/);
      expect(() => setStalled(s, { reason }, 1, T0)).toThrow(/CamelCase/);
      expect(s.conditions ?? []).toEqual([]);
    },
  );

  it("isReady needs Ready=True, and with a generation, one computed for that generation", () => {
    const s: StatusWithConditions = {};
    expect(isReady(s)).toBe(false);
    setReady(s, { status: "True", reason: "UpToDate" }, 4, T0);
    expect(isReady(s)).toBe(true);
    expect(isReady(s, 4)).toBe(true);
    expect(isReady(s, 5)).toBe(false);
    setReady(s, { status: "False", reason: "Blocked" }, 5, T1);
    expect(isReady(s, 5)).toBe(false);
  });

  it("conditionProblems names each broken kstatus rule", () => {
    expect(conditionProblems({})).toEqual(["Ready condition is missing"]);
    const broken: StatusWithConditions = {
      conditions: [
        { type: "Reconciling", status: "False", reason: "Done", message: "", lastTransitionTime: "x" },
        {
          type: "Ready",
          status: "True",
          reason: "not camel",
          message: "",
          lastTransitionTime: "x",
          observedGeneration: 1,
        },
      ],
    };
    expect(conditionProblems(broken)).toEqual([
      "Reconciling is False; it must be removed instead",
      "Reconciling has no observedGeneration",
      'Ready reason "not camel" is not CamelCase',
      "status.observedGeneration is missing",
    ]);
  });
});
