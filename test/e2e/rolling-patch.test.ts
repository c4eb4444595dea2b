import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { runOnce } from "../support/run-once.js";
import { placement, ROLLING_HOME, ROLLING_PLAN, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "rolling.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("rolling patch of a 3-node cluster (simulator over SSH)", () => {
  it("patches and reboots every node with updates exactly once, live-migrates, and never drains an up-to-date node", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, ROLLING_PLAN);
    const bootBefore = sim.history().bootIds;
    const { code, out, err, objects, patches } = await runOnce({ desired, clock, timing: TIMING });
    expect({
      code,
      out,
      err,
      phases: patches.map((p) => [p.metadata.name, p.status?.phase, p.status?.message]),
    }).toMatchObject({ code: 0 });
    const byHost = Object.fromEntries(patches.map((p) => [String(p.spec.host), p.status?.phase]));
    expect(byHost).toEqual({ pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" });
    const history = sim.history();
    expect(history.bootIds.pve1?.length).toBe((bootBefore.pve1?.length ?? 1) + 1);
    expect(history.bootIds.pve2?.length).toBe((bootBefore.pve2?.length ?? 1) + 1);
    expect(history.bootIds.pve3?.length).toBe(bootBefore.pve3?.length ?? 1);
    // No VM ever stopped: they live-migrated.
    const vmStops = history.guestEvents.filter(
      (e) => [100, 101, 102, 103].includes(e.vmid) && /stop|shutdown/.test(e.event),
    );
    expect(vmStops).toEqual([]);
    // Nothing moved off pve3.
    expect(
      history.migrations.filter(
        (m) => m.from === "pve3" && m.to !== "pve3" && ![100, 101, 102, 200, 201].includes(m.vmid),
      ),
    ).toEqual([]);
    // Guests are back home.
    expect(placement(sim.snapshot())).toEqual(ROLLING_HOME);
    // The cluster's status at the end is what the cluster is now: every node back, patched, with
    // the boot it came back with (not what was seen while a node rebooted).
    const cluster = objects.find((o) => o.kind === "ProxmoxCluster");
    const nodes = (cluster?.status?.nodes ?? []) as {
      name: string;
      online: boolean;
      error?: string;
      pendingUpdates?: number;
      bootId?: string;
    }[];
    expect({
      ready: cluster?.status?.conditions?.find((c) => c.type === "Ready")?.status,
      nodes: nodes.map((n) => [n.name, n.online, n.error, n.pendingUpdates, n.bootId]),
    }).toEqual({
      ready: "True",
      nodes: ["pve1", "pve2", "pve3"].map((n) => [n, true, undefined, 0, history.bootIds[n]?.at(-1)]),
    });
  }, 180_000);
});
