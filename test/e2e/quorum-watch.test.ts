/**
 * Quorum is watched while a node is out, end to end: the simulator over SSH, the real controller,
 * one ScaledClock. pve1 reboots; while it is down pve2 loses power (fault crashWhileRebooting), so
 * pve3 is left with one vote of three. The controller must notice on its next poll, not when pve1
 * is back (pve1 + pve3 are quorate again by then): pve1's HostPatch fails QuorumLost, the plan
 * stalls with reason QuorumLost, the PlanStalled notice goes out at severity critical, and nothing
 * moves afterwards (no migration back, no other node touched).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { runOnce } from "../support/run-once.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { startServer, type TestServer } from "../notify/support/http-server.js";

const FLEET = join(import.meta.dirname, "fleets", "rolling.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
let receiver: TestServer | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await sim?.stop();
  sim = undefined;
});

function desiredWithHook(s: SimHandle, origin: string): string {
  const plan = rollingPlan(`  notifications:\n    channelRefs:\n      - name: ops-webhook\n`);
  const channel = `apiVersion: refit.dev/v1alpha1
kind: NotificationChannel
metadata:
  name: ops-webhook
spec:
  type: webhook
  url: { file: hook-url }
`;
  const dir = simDesiredState(s, `${plan}---\n${channel}`);
  writeFileSync(join(dir, "hook-url"), `${origin}/hooks/refit\n`);
  return dir;
}

describe("quorum watched while a node is out (simulator over SSH)", () => {
  it("another node crashing while pve1 reboots fails pve1 with QuorumLost at once, stalls the plan, notifies, and moves nothing more", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    sim.faults.add({ kind: "crashWhileRebooting", host: "pve2", rebooting: "pve1" });
    receiver = await startServer();
    const desired = desiredWithHook(sim, receiver.origin);
    const { code, out, objects } = await runOnce({ desired, clock, timing: TIMING, checkEveryMs: 50 });
    const hp = Object.fromEntries(
      objects.filter((o) => o.kind === "HostPatch").map((o) => [String(o.spec.host), o]),
    );
    const plan = objects.find((o) => o.kind === "HostPatchPlan");
    expect({ code, out }).toMatchObject({ code: 1 });
    expect(hp.pve1?.status?.phase).toBe("Failed");
    expect(hp.pve1?.status?.lastError).toMatchObject({ reason: "QuorumLost" });
    // pve1 never got as far as its return: the failure came while it was down.
    expect(hp.pve1?.status?.bootIdAfterReboot).toBeUndefined();
    expect(hp.pve1?.status?.message).toMatch(
      /cluster pve-lab lost quorum while pve1 was rebooting \(1 of 3 votes, quorum needs 2; offline: pve1, pve2\); no new step/,
    );
    expect(plan?.status?.phase).toBe("Stalled");
    expect(plan?.status?.conditions?.find((c) => c.type === "Stalled")).toMatchObject({
      status: "True",
      reason: "QuorumLost",
    });

    const history = sim.history();
    const rebootAt = history.commands.find(
      (c) => c.host === "pve1" && /systemctl reboot/.test(c.command),
    )?.at;
    expect(rebootAt).toBeDefined();
    // Nothing moved after pve1 went down: no migration back, nothing on pve2 or pve3.
    expect(history.migrations.filter((m) => m.startedAt >= (rebootAt ?? 0))).toEqual([]);
    expect(
      history.commands.filter(
        (c) =>
          c.at > (rebootAt ?? 0) &&
          /\b(qm|pct) migrate\b|systemctl reboot|-y[^|;]*dist-upgrade/.test(c.command),
      ),
    ).toEqual([]);
    expect(["Pending", "Preflight", "Blocked", undefined]).toContain(hp.pve2?.status?.phase);

    const stalled = receiver.requests
      .map((r) => JSON.parse(r.body) as { event?: string; severity?: string; summary?: string })
      .filter((b) => b.event === "PlanStalled");
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ severity: "critical" });
    expect(stalled[0]?.summary).toMatch(/lost quorum while pve1 was rebooting/);
  }, 120_000);
});
