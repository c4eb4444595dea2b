/**
 * Issue 8, end to end over SSH against the simulator: every node's packages are downloaded ahead
 * (the later nodes install from their cache), node k+1 starts its upgrade and evacuation while node
 * k's guests move back, and no node ever goes down before the node before it was verified.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import type { HistoryEntry } from "../../controller/reports/history.js";
import type { HostPatch } from "../../src/api/host-patch.js";
import { placement, simDesiredState } from "../support/sim-desired.js";
import { readFileSync } from "node:fs";
import { runOnce } from "../support/run-once.js";

const FLEET = join(import.meta.dirname, "fleets", "overlap.yaml");
// A long waitMs: a node waiting for its turn is woken by its sibling's change, not by its next look.
const TIMING = { pollMs: 1_000, waitMs: 600_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const PLAN = `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata: { name: pve-nodes }
spec:
  clusterRef: { name: pve-lab }
  targets: { nodes: ["pve*"] }
  evacuation: { maxParallelMigrations: 2 }
`;

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function historyOf(state: string, host: string): HistoryEntry[] {
  const text = readFileSync(join(state, "history", "HostPatch", `pve-lab-${host}.jsonl`), "utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as HistoryEntry);
}

function at(entries: HistoryEntry[], step: string, outcome: string): number {
  const e = entries.find((x) => x.step === step && x.outcome === outcome);
  if (!e)
    throw new Error(
      `no ${step} ${outcome} in ${JSON.stringify(entries.map((x) => `${x.step} ${x.outcome}`))}`,
    );
  return Date.parse(e.at);
}

describe("prefetch and overlap in a rolling patch of 3 HA nodes", () => {
  it("installs the later nodes from their cache, overlaps node k+1 with node k's return, and reboots k+1 only after k was verified", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const home = placement(sim.snapshot());
    const desired = simDesiredState(sim, PLAN);
    const { code, state, ...run } = await runOnce({ desired, clock, timing: TIMING });
    const patches = run.patches as unknown as HostPatch[];
    const byHost = Object.fromEntries(patches.map((p) => [String(p.spec.host), p.status]));
    expect({
      code,
      phases: patches.map((p) => [p.spec.host, p.status?.phase, p.status?.message]),
    }).toMatchObject({
      code: 0,
    });
    expect(Object.values(byHost).map((s) => s?.phase)).toEqual(["Succeeded", "Succeeded", "Succeeded"]);

    // Prefetch: the nodes that waited downloaded ahead; their upgrade fetched nothing.
    expect(byHost.pve1?.prefetch).toBeUndefined();
    expect(byHost.pve2?.prefetch?.state).toBe("Done");
    expect(byHost.pve3?.prefetch?.state).toBe("Done");
    const commands = sim.history().commands;
    const downloads = commands.filter(
      (c) => c.via === "unit" && c.command.startsWith("apt-get -y --download-only"),
    );
    expect(downloads.map((c) => c.host).sort(), JSON.stringify(downloads)).toEqual(["pve2", "pve3"]);

    // Every node went down once, and only after the node before it was verified.
    const reboots = sim.history().reboots;
    expect(reboots.map((r) => r.host)).toEqual(["pve1", "pve2", "pve3"]);
    const h = {
      pve1: historyOf(state, "pve1"),
      pve2: historyOf(state, "pve2"),
      pve3: historyOf(state, "pve3"),
    };
    const rebootOf = (host: string): number => reboots.find((r) => r.host === host)!.at;
    expect(rebootOf("pve2")).toBeGreaterThan(at(h.pve1, "verify", "done"));
    expect(rebootOf("pve3")).toBeGreaterThan(at(h.pve2, "verify", "done"));

    // Overlap: node k+1's upgrade started before node k's guests were all back.
    expect(at(h.pve2, "upgrade", "started")).toBeLessThan(at(h.pve1, "patch", "done"));
    expect(at(h.pve3, "upgrade", "started")).toBeLessThan(at(h.pve2, "patch", "done"));

    // Never more migrations at once in the cluster than the plan allows, both ways together.
    const intervals = patches.flatMap((p) =>
      [...(p.status?.migrations ?? []), ...(p.status?.migrationsToUndo ?? [])].map((m) => [
        Date.parse(m.startedAt ?? ""),
        Date.parse(m.finishedAt ?? ""),
      ]),
    );
    const most = Math.max(
      ...intervals.map(([s]) => intervals.filter(([a, b]) => a! <= s! && s! < b!).length),
    );
    expect(most).toBeLessThanOrEqual(2);
    expect(placement(sim.snapshot())).toEqual(home);
  });
});
