/**
 * HA-managed containers end to end: HA relocates them (its own shutdown, an offline move, a start on
 * the target), so Refit plans and reports the move as a restart, waits for the container to run on
 * its target, and bounds the wait by HA's shutdown timeout: a container that does not stop fails
 * the evacuation instead of being asked to move again and again.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { planCommand } from "../../controller/cli/commands/plan.js";
import { runOnce } from "../support/run-once.js";
import type { PlanPreview } from "../../controller/host-patch/dry-run.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "ha-containers.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function patch(prepare: (s: SimHandle) => void = () => undefined) {
  const clock = new ScaledClock(50);
  sim = await startSimulator({ fleet: FLEET, clock });
  prepare(sim);
  const desired = simDesiredState(sim, rollingPlan());
  const { code, out, err, state, patches } = await runOnce({ desired, clock, timing: TIMING });
  return {
    code,
    out: [...out, ...err],
    state,
    pve1: patches.find((p) => p.spec.host === "pve1"),
    history: sim.history(),
    sim,
  };
}

type MigrationStatus = { vmid: number; mode: string; state: string; restart?: boolean; message?: string };

describe("HA-managed containers", () => {
  it("refit plan shows the HA container's move as a restart", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(20) });
    const out: string[] = [];
    const code = await planCommand(
      { desired: simDesiredState(sim, rollingPlan()), json: true },
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    const { plans } = JSON.parse(out.join("\n")) as { plans: PlanPreview[] };
    const pve1 = plans[0]!.nodes.find((n) => n.node === "pve1");
    expect(pve1?.migrations.map((m) => [m.vmid, m.mode, m.restart ?? false]).sort()).toEqual([
      [200, "ha", true],
      [300, "online", false],
    ]);
  }, 60_000);

  it("is relocated by HA (down while it moves), proven running on its target, reported as a restart", async () => {
    const r = await patch();
    expect({ code: r.code, phase: r.pve1?.status?.phase }).toEqual({ code: 0, phase: "Succeeded" });
    const rebootAt = r.history.commands.find(
      (c) => c.host === "pve1" && /systemctl reboot/.test(c.command),
    )?.at;
    const away = r.history.migrations.find((m) => m.vmid === 200 && m.from === "pve1");
    expect(away).toMatchObject({ via: "ha", online: false, ok: true });
    // It was stopped for the move before pve1 went down; HA's start of it on the target need not
    // hold the reboot, and is proven before the patch goes on (Verifying).
    const events = r.history.guestEvents.filter((e) => e.vmid === 200);
    expect(events.filter((e) => e.at < rebootAt!).map((e) => [e.event, e.node])).toContainEqual([
      "stop",
      "pve1",
    ]);
    expect(events.slice(0, 2).map((e) => [e.event, e.node])).toEqual([
      ["stop", "pve1"],
      ["start", away!.to],
    ]);
    const notes = readFileSync(join(r.state, "history", "HostPatch", "pve-lab-pve1.jsonl"), "utf8");
    expect(notes).toContain(`lxc 200 runs on ${away!.to} (HA started it)`);
    const migrations = r.pve1?.status?.migrations as MigrationStatus[];
    expect(migrations.find((m) => m.vmid === 200)).toMatchObject({
      mode: "ha",
      restart: true,
      state: "Done",
    });
    expect(r.sim.snapshot().guests["200"]).toMatchObject({ node: "pve1", status: "running" });
    // The cycle report counts the restarts: the CT away and back.
    const reports = readdirSync(join(r.state, "reports")).filter((f) => f.endsWith(".json"));
    const report = JSON.parse(readFileSync(join(r.state, "reports", reports[0]!), "utf8")) as {
      summary: { restarts: number };
      hosts: { host: string; migrations: { vmid: number; restart?: boolean }[] }[];
    };
    expect(report.summary.restarts).toBe(2);
    expect(report.hosts.find((h) => h.host === "pve1")?.migrations).toContainEqual(
      expect.objectContaining({ vmid: 200, restart: true }),
    );
  }, 240_000);

  it("a container that does not stop for HA fails the evacuation within HA's bound; pve1 is not rebooted", async () => {
    const r = await patch((s) => s.faults.add({ kind: "ignoresShutdown", vmid: 200 }));
    expect({ code: r.code, phase: r.pve1?.status?.phase }).toEqual({ code: 1, phase: "Failed" });
    const m = (r.pve1?.status?.migrations as MigrationStatus[]).find((x) => x.vmid === 200);
    expect(m).toMatchObject({ state: "Failed" });
    expect(m?.message).toMatch(
      /HA did not start moving it within 180 s \(HA stops a container with its own 60 s shutdown timeout/,
    );
    expect(r.history.commands.filter((c) => /systemctl reboot/.test(c.command))).toEqual([]);
    expect(r.sim.snapshot().guests["200"]).toMatchObject({ node: "pve1", status: "running" });
  }, 240_000);
});
