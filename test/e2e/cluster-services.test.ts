/**
 * Cluster services restarting during an upgrade, end to end: pve1 and pve2 upgrade pve-cluster and
 * corosync, whose maintainer scripts restart pmxcfs and corosync; after each upgrade the node is
 * outside the corosync membership until it rejoins (its writes fail with `cluster not ready - no
 * quorum?`, the others see it offline). The controller waits and retries; no node fails for it.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { runOnce } from "../support/run-once.js";
import { placement, ROLLING_HOME, rollingPlan, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "cluster-services.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("cluster services restarting during an upgrade (simulator over SSH)", () => {
  it("an upgrade that includes pve-cluster and corosync restarts them, and every node still succeeds", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, rollingPlan());
    const { code, phases, out, err, log } = await runOnce({
      desired,
      clock,
      timing: TIMING,
      checkEveryMs: 50,
    });
    expect({ code, phases, out, err, log: log.slice(-10) }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
    });
    const history = sim.history();
    expect(history.serviceRestarts.map((r) => `${r.host} ${r.unit}`).sort()).toEqual([
      "pve1 corosync",
      "pve1 pve-cluster",
      "pve2 corosync",
      "pve2 pve-cluster",
    ]);
    const snap = sim.snapshot();
    for (const host of ["pve1", "pve2"]) {
      expect(snap.hosts[host]?.apt.installed["pve-cluster"]?.version).toBe("8.1.2");
      expect(snap.hosts[host]?.apt.installed.corosync?.version).toBe("3.1.9-pve2");
    }
    expect(placement(snap)).toEqual(ROLLING_HOME);
    expect(
      history.migrations
        .filter((m) => m.from === "pve1" && m.ok)
        .map((m) => m.vmid)
        .sort(),
    ).toEqual(expect.arrayContaining([100, 101, 200]));
    // Each node was rebooted once, and the evacuation waited for the rejoin before it planned.
    expect(history.reboots.filter((r) => r.host === "pve1")).toHaveLength(1);
    expect(history.reboots.filter((r) => r.host === "pve2")).toHaveLength(1);
    for (const host of ["pve1", "pve2"]) {
      const restartAt =
        history.serviceRestarts.find((r) => r.host === host && r.unit === "corosync")?.at ?? 0;
      const firstMove = history.commands.find(
        (c) =>
          c.host === host &&
          c.at >= restartAt &&
          /\b(qm|pct) migrate\b|ha-manager (migrate|crm-command)/.test(c.command),
      );
      // Planned from "unknown" guests while the node was outside the membership, the evacuation
      // would move nothing and the reboot would take the guests down with the node.
      expect(firstMove, `${host}'s guests are moved after its corosync rejoined`).toBeDefined();
      expect(firstMove?.at ?? 0).toBeGreaterThanOrEqual(restartAt + 20_000);
    }
  }, 180_000);
});
