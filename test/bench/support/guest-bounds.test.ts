/**
 * The guest update benchmark's bounds (guest-bounds.ts beside this file): the figures the bench
 * prints its ratios against, so a wrong bound would make every verdict wrong.
 */
import { describe, expect, it } from "vitest";
import { containerSeconds, effectiveConcurrency, lowerBound, sequentialMakespan } from "./guest-bounds.js";

const WORK = {
  snapshotSeconds: 2,
  aptUpdateSeconds: 4,
  aptPackageSeconds: 3,
  pendingPackages: 2,
  restartedServices: 2,
  warmUpSeconds: 5,
};

describe("guest update bench bounds", () => {
  it("one container's work is snapshot + apt-get update + packages + restarts + warm-up", () => {
    expect(containerSeconds(WORK)).toBe(2 + 4 + 2 * 3 + 2 * 0.5 + 5);
  });

  it("5 nodes x 3 per node is more than maxParallel 8, so 8 run at once", () => {
    expect(effectiveConcurrency([40, 40, 40, 40, 40], { maxParallel: 8, maxPerNode: 3 })).toBe(8);
  });

  it("the per-node cap limits a fleet on few nodes", () => {
    expect(effectiveConcurrency([40, 40], { maxParallel: 8, maxPerNode: 3 })).toBe(6);
    expect(effectiveConcurrency([40, 1], { maxParallel: 8, maxPerNode: 3 })).toBe(4);
  });

  it("200 containers of 18 s at 8 at once: 450 s; one at a time: 3600 s", () => {
    const perNode = [40, 40, 40, 40, 40];
    expect(lowerBound(18, perNode, { maxParallel: 8, maxPerNode: 3 })).toBe(450);
    expect(sequentialMakespan(18, 200)).toBe(3600);
  });

  it("the busiest node bounds the makespan when its cap is the narrower one", () => {
    // 100 on one node at 3 at once: 600 s, although 8 lanes in all would need only 300 s.
    expect(lowerBound(18, [100, 10, 10, 10, 3], { maxParallel: 8, maxPerNode: 3 })).toBe(600);
  });
});
