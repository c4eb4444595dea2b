import { describe, expect, it } from "vitest";
import { MutexTable } from "../../src/schedule/mutex.js";

const PVE = "HostPatchPlan/pve-nodes";
const PBS = "HostPatchPlan/pbs";
const APPS = "GuestUpdatePlan/apps";

describe("MutexTable", () => {
  it("gives a free mutex to the first plan and refuses others while it is held", () => {
    const m = new MutexTable();
    expect(m.acquire("infrastructure", PVE, 0)).toEqual({ acquired: true, holder: PVE });
    expect(m.acquire("infrastructure", PBS, 1)).toEqual({ acquired: false, holder: PVE, ahead: [] });
    expect(m.holderOf("infrastructure")).toBe(PVE);
  });

  it("is idempotent for the holder", () => {
    const m = new MutexTable();
    m.acquire("infrastructure", PVE, 0);
    expect(m.acquire("infrastructure", PVE, 50)).toEqual({ acquired: true, holder: PVE });
    expect(m.holders()).toEqual([{ name: "infrastructure", holderKey: PVE, sinceMs: 0 }]);
  });

  it("keeps different names independent", () => {
    const m = new MutexTable();
    expect(m.acquire("infrastructure", PVE, 0).acquired).toBe(true);
    expect(m.acquire("compose", APPS, 0).acquired).toBe(true);
    expect(m.holderOf("compose")).toBe(APPS);
  });

  it("is FIFO: after a release only the waiter that asked first may take it", () => {
    const m = new MutexTable();
    m.acquire("infrastructure", PVE, 0);
    m.acquire("infrastructure", PBS, 10);
    m.acquire("infrastructure", APPS, 20);
    // PBS asking again keeps its place; APPS asking again does not jump ahead.
    m.acquire("infrastructure", APPS, 30);
    m.acquire("infrastructure", PBS, 40);
    expect(m.waitersOf("infrastructure")).toEqual([PBS, APPS]);

    expect(m.release("infrastructure", PVE)).toEqual({ released: true, next: PBS });
    expect(m.acquire("infrastructure", APPS, 50)).toEqual({
      acquired: false,
      holder: undefined,
      ahead: [PBS],
    });
    expect(m.acquire("infrastructure", PBS, 60)).toEqual({ acquired: true, holder: PBS });
    expect(m.waitersOf("infrastructure")).toEqual([APPS]);
    expect(m.release("infrastructure", PBS)).toEqual({ released: true, next: APPS });
    expect(m.acquire("infrastructure", APPS, 70).acquired).toBe(true);
  });

  it("a plan that first asks after a release queues behind the earlier waiter", () => {
    const m = new MutexTable();
    m.acquire("x", PVE, 0);
    m.acquire("x", PBS, 5);
    m.release("x", PVE);
    expect(m.acquire("x", APPS, 6)).toEqual({ acquired: false, holder: undefined, ahead: [PBS] });
  });

  it("breaks ties in first-ask time by key, not by call order", () => {
    const a = new MutexTable();
    a.acquire("x", "holder", 0);
    a.acquire("x", "b-plan", 5);
    a.acquire("x", "a-plan", 5);
    expect(a.waitersOf("x")).toEqual(["a-plan", "b-plan"]);
  });

  it("does not release for a plan that does not hold it", () => {
    const m = new MutexTable();
    m.acquire("x", PVE, 0);
    m.acquire("x", PBS, 1);
    expect(m.release("x", PBS)).toEqual({ released: false, next: PBS });
    expect(m.holderOf("x")).toBe(PVE);
    expect(m.release("unknown", PBS)).toEqual({ released: false, next: undefined });
  });

  it("forget removes a deleted plan from the queue so the next waiter is not blocked by it", () => {
    const m = new MutexTable();
    m.acquire("x", PVE, 0);
    m.acquire("x", PBS, 1);
    m.acquire("x", APPS, 2);
    expect(m.forget(PBS)).toEqual([]);
    m.release("x", PVE);
    expect(m.acquire("x", APPS, 3).acquired).toBe(true);
  });

  it("forget releases what the plan holds, everywhere or for one name", () => {
    const m = new MutexTable();
    m.acquire("x", PVE, 0);
    m.acquire("y", PVE, 0);
    m.acquire("x", PBS, 1);
    expect(m.forget(PVE, "x")).toEqual([{ name: "x", next: PBS }]);
    expect(m.holderOf("y")).toBe(PVE);
    expect(m.forget(PVE)).toEqual([{ name: "y", next: undefined }]);
    expect(m.holders()).toEqual([]);
  });

  it("optionally drops waiters that stopped asking", () => {
    const m = new MutexTable({ waiterTimeoutMs: 600_000 });
    m.acquire("x", PVE, 0);
    m.acquire("x", PBS, 1000); // PBS asks once and never again
    m.acquire("x", APPS, 2000);
    m.release("x", PVE);
    expect(m.acquire("x", APPS, 300_000).acquired).toBe(false);
    expect(m.acquire("x", APPS, 700_000).acquired).toBe(true);
  });

  it("restores holders recorded in status after a restart", () => {
    const m = new MutexTable();
    m.acquire("stale", "someone", 0);
    const r = m.restore([
      { name: "infrastructure", holderKey: PVE, sinceMs: 100 },
      { name: "compose", holderKey: APPS, sinceMs: 200 },
    ]);
    expect(r.conflicts).toEqual([]);
    expect(m.holderOf("infrastructure")).toBe(PVE);
    expect(m.holderOf("compose")).toBe(APPS);
    expect(m.holderOf("stale")).toBeUndefined();
    expect(m.acquire("infrastructure", PBS, 300)).toEqual({ acquired: false, holder: PVE, ahead: [] });
    expect(m.holders()).toEqual([
      { name: "compose", holderKey: APPS, sinceMs: 200 },
      { name: "infrastructure", holderKey: PVE, sinceMs: 100 },
    ]);
  });

  it("restores a double claim deterministically: the earliest keeps it, the other is reported and waits first", () => {
    const m = new MutexTable();
    const r = m.restore([
      { name: "infrastructure", holderKey: PBS, sinceMs: 200 },
      { name: "infrastructure", holderKey: PVE, sinceMs: 100 },
    ]);
    expect(m.holderOf("infrastructure")).toBe(PVE);
    expect(r.conflicts).toEqual([{ name: "infrastructure", holderKey: PBS, sinceMs: 200 }]);
    m.acquire("infrastructure", APPS, 150);
    expect(m.waitersOf("infrastructure")).toEqual([APPS, PBS]);
  });
});
