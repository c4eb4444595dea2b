/**
 * `refit run --once` reads each plan's `status.outcome`, not condition reasons: which outcomes let it
 * stop, with which exit code, and whose statuses count.
 */
import { describe, expect, it } from "vitest";
import { onceOutcome } from "../../controller/cli/commands/run.js";
import type { ObjectStore } from "../../controller/runtime/store.js";
import type { RefitObject } from "../../src/api/kinds.js";
import type { PlanOutcomeState } from "../../src/api/host-patch-plan.js";

const SINCE = Date.parse("2026-03-07T02:00:00Z");
const AFTER = new Date(SINCE + 1000).toISOString();

function plan(name: string, state: PlanOutcomeState | undefined, at = AFTER, message = "why"): RefitObject {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "HostPatchPlan",
    metadata: { name },
    spec: {},
    status: {
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "Why",
          message,
          lastTransitionTime: at,
          observedGeneration: 1,
        },
      ],
      ...(state ? { outcome: { state, generation: 1, at } } : {}),
    },
  } as unknown as RefitObject;
}

function storeOf(objects: RefitObject[]): ObjectStore {
  return {
    list: (kind: string) => Promise.resolve(objects.filter((o) => o.kind === kind)),
  } as unknown as ObjectStore;
}

const seenAll = (...names: string[]): Set<string> => new Set(names.map((n) => `/${n}`));

describe("run --once from status.outcome", () => {
  it.each([
    ["Converged", 0, "converged"],
    ["OutsideWindow", 0, "OutsideWindow"],
    ["Suspended", 0, "Suspended"],
    ["NotHandled", 0, "not handled"],
    ["Stalled", 1, "stalled"],
    ["Blocked", 1, "blocked"],
    ["Halted", 3, "halted"],
  ] as const)("%s settles with exit %d", async (state, code, label) => {
    const out = await onceOutcome(storeOf([plan("a", state)]), SINCE, {
      killSwitchPresent: true,
      seen: seenAll("a"),
    });
    expect(out).toEqual({ done: true, code, summary: [`HostPatchPlan/a: ${label} (why)`] });
  });

  it.each(["Progressing", "Waiting", "Failing", undefined] as const)("%s is not settled", async (state) => {
    const out = await onceOutcome(storeOf([plan("a", state)]), SINCE, { seen: seenAll("a") });
    expect(out).toEqual({ done: false });
  });

  it("halted wins over failed, failed over converged", async () => {
    const plans = [plan("a", "Converged"), plan("b", "Stalled"), plan("c", "Halted")];
    expect(await onceOutcome(storeOf(plans), SINCE, { seen: seenAll("a", "b", "c") })).toMatchObject({
      done: true,
      code: 3,
    });
    expect(await onceOutcome(storeOf(plans.slice(0, 2)), SINCE, { seen: seenAll("a", "b") })).toMatchObject({
      code: 1,
    });
  });

  it("a plan this run has not reconciled yet keeps it waiting, whatever its status says", async () => {
    const plans = [plan("a", "Converged"), plan("b", "Converged")];
    expect(await onceOutcome(storeOf(plans), SINCE, { seen: seenAll("a") })).toEqual({ done: false });
  });

  it("without `seen`, only outcomes decided since the run began count", async () => {
    const old = new Date(SINCE - 1000).toISOString();
    expect(await onceOutcome(storeOf([plan("a", "Halted", old)]), SINCE)).toEqual({ done: false });
    expect(await onceOutcome(storeOf([plan("a", "Halted")]), SINCE)).toMatchObject({ done: true, code: 3 });
  });

  it("a Halted outcome does not count once the kill switch is gone", async () => {
    const out = await onceOutcome(storeOf([plan("a", "Halted")]), SINCE, {
      killSwitchPresent: false,
      seen: seenAll("a"),
    });
    expect(out).toEqual({ done: false });
  });

  it("GuestUpdatePlans settle on their own outcome, like host patch plans", async () => {
    const guest = { ...plan("apps", "Converged"), kind: "GuestUpdatePlan" } as RefitObject;
    const waiting = { ...plan("apps", "Progressing"), kind: "GuestUpdatePlan" } as RefitObject;
    const seen = { seen: seenAll("a"), guestSeen: seenAll("apps") };
    expect(await onceOutcome(storeOf([plan("a", "Converged"), waiting]), SINCE, seen)).toEqual({
      done: false,
    });
    const out = await onceOutcome(storeOf([plan("a", "Converged"), guest]), SINCE, seen);
    expect(out).toMatchObject({
      done: true,
      code: 0,
      summary: ["HostPatchPlan/a: converged (why)", "GuestUpdatePlan/apps: converged (why)"],
    });
  });

  it("a partial run (--plan) waits for its one guest plan only", async () => {
    const guest = { ...plan("apps", "Stalled"), kind: "GuestUpdatePlan" } as RefitObject;
    const out = await onceOutcome(storeOf([plan("a", undefined), guest]), SINCE, {
      guestSeen: seenAll("apps"),
      only: "apps",
    });
    expect(out).toMatchObject({ done: true, code: 1, summary: ["GuestUpdatePlan/apps: stalled (why)"] });
  });
});
