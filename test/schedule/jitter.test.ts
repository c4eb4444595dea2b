import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jitterMs } from "../../src/schedule/jitter.js";

describe("jitterMs", () => {
  it("is stable: the same key and cycle give the same delay, across releases too", () => {
    // Pinned values: a change here would reshuffle every running fleet's start times after an upgrade.
    expect(jitterMs("GuestUpdate/apps-101", "20260103-0000", 120_000)).toBe(
      jitterMs("GuestUpdate/apps-101", "20260103-0000", 120_000),
    );
    expect([
      jitterMs("GuestUpdate/apps-101", "20260103-0000", 120_000),
      jitterMs("GuestUpdate/apps-102", "20260103-0000", 120_000),
      jitterMs("GuestUpdate/apps-101", "20260110-0000", 120_000),
    ]).toEqual(PINNED);
  });

  it("stays within [0, maxMs] and is a whole number of milliseconds", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 2 ** 40 }), (key, cycle, max) => {
        const j = jitterMs(key, cycle, max);
        expect(Number.isInteger(j)).toBe(true);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(j).toBeLessThanOrEqual(max);
      }),
    );
  });

  it("is 0 when there is no jitter, and floors a fractional bound", () => {
    expect(jitterMs("a", "b", 0)).toBe(0);
    expect(jitterMs("a", "b", 0.9)).toBe(0);
    fc.assert(fc.property(fc.string(), (k) => jitterMs(k, "c", 1.5) <= 1));
  });

  it("spreads targets over the range instead of moving them in lock step", () => {
    const delays = Array.from({ length: 400 }, (_, i) => jitterMs(`GuestUpdate/app-${i}`, "cycle-1", 1000));
    const buckets = [0, 0, 0, 0];
    for (const d of delays) buckets[Math.min(3, Math.floor(d / 250))]! += 1;
    // Deterministic input, so this is a fixed check, not a flaky statistical one.
    for (const b of buckets) expect(b).toBeGreaterThan(60);
    expect(new Set(delays).size).toBeGreaterThan(300);
  });

  it("gives a target a different delay in a different cycle", () => {
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const changed = keys.filter((k) => jitterMs(k, "c1", 1_000_000) !== jitterMs(k, "c2", 1_000_000));
    expect(changed.length).toBeGreaterThan(45);
  });

  it("keeps key and cycle apart", () => {
    expect(jitterMs("ab", "c", 1_000_000)).not.toBe(jitterMs("a", "bc", 1_000_000));
  });

  it("rejects a negative or non-finite bound", () => {
    expect(() => jitterMs("a", "b", -1)).toThrow(RangeError);
    expect(() => jitterMs("a", "b", Number.NaN)).toThrow(RangeError);
    expect(() => jitterMs("a", "b", Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

/** Computed independently: sha256(key NUL cycle), first 48 bits as a fraction of maxMs + 1 (Python hashlib). */
const PINNED = [13425, 31246, 118944];
