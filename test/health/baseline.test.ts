import { describe, expect, it } from "vitest";
import type { HealthResult } from "../../src/api/guest-update.js";
import { baselineProbe, compareWithBaseline } from "../../src/health/baseline.js";
import { check, httpServer, io, RecordingClock } from "./support.js";

const at = "2026-01-01T00:00:00.000Z";
const r = (name: string, healthy: boolean): HealthResult => ({
  name,
  type: "http",
  healthy,
  at,
  ...(healthy ? {} : { message: `${name} down` }),
});

describe("compareWithBaseline", () => {
  it.each([
    // name, baseline, after, failed, preExisting
    ["all green before and after", [r("a", true)], [r("a", true)], [], []],
    ["broke with the update", [r("a", true)], [r("a", false)], ["a"], []],
    ["already broken before: pre-existing, no rollback", [r("a", false)], [r("a", false)], [], ["a"]],
    ["fixed by the update", [r("a", false)], [r("a", true)], [], []],
    ["no baseline for the check: its failure counts", [], [r("a", false)], ["a"], []],
    [
      "a baseline check not probed after counts as failed",
      [r("a", true), r("b", true)],
      [r("a", true)],
      ["b"],
      [],
    ],
    [
      "one new, one pre-existing",
      [r("a", true), r("b", false)],
      [r("a", false), r("b", false)],
      ["a"],
      ["b"],
    ],
  ])("%s", (_name, baseline, after, failed, preExisting) => {
    const c = compareWithBaseline(baseline, after);
    expect(c.failed).toEqual(failed);
    expect(c.preExisting).toEqual(preExisting);
    expect(c.healthy).toBe(failed.length === 0);
  });

  it("a check with compareWithBaseline false fails the update even when it failed before", () => {
    const c = compareWithBaseline(
      [r("a", false)],
      [r("a", false)],
      [{ name: "a", compareWithBaseline: false }],
    );
    expect(c.failed).toEqual(["a"]);
    expect(c.summary).toBe("failing since the update: a");
  });

  it("says in its summary which failures are pre-existing", () => {
    const c = compareWithBaseline([r("a", true), r("b", false)], [r("a", true), r("b", false)]);
    expect(c.summary).toBe("failing already before the update (pre-existing, no rollback): b");
    expect(compareWithBaseline([r("a", true)], [r("a", true)]).summary).toBe("all 1 health checks pass");
  });
});

describe("baselineProbe", () => {
  it("takes several samples an interval apart, without warm-up; one bad sample makes it failing", async () => {
    const server = await httpServer();
    try {
      const clock = new RecordingClock();
      const c = check({ type: "http", url: server.url(), warmUp: "1m", interval: "5s", retries: 0 });
      const good = await baselineProbe(c, { vmid: 120 }, io(clock));
      expect(good).toMatchObject({ healthy: true, attempts: 3 });
      expect(server.requests).toHaveLength(3);
      expect(clock.sleeps).toEqual([0, 5_000, 0, 5_000, 0]);
      server.queue = [{ status: 200 }, { status: 500 }];
      const flapping = await baselineProbe(c, { vmid: 120 }, io(clock));
      expect(flapping.healthy).toBe(false);
      expect(flapping.message).toMatch(/^1 of 3 baseline samples failed: GET .* answered 500/);
    } finally {
      await server.close();
    }
  });
});
