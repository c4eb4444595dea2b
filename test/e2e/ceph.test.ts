/**
 * Ceph: a node goes down only while Ceph is HEALTH_OK, with `noout` set on it for its reboot; the
 * flag stays while Ceph recovers after the return and is unset then; the next node is not touched
 * before that. Also after a crash: a controller killed while the node is out unsets the recorded
 * noout when it runs again. Everything is proven from the simulator's own history.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { planCommand } from "../../controller/cli/commands/plan.js";
import { runOnce } from "../support/run-once.js";
import type { PlanPreview } from "../../controller/host-patch/dry-run.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { spawnController } from "../support/controller-process.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "ceph.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const RECOVERY_MS = 120_000;

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

type History = ReturnType<SimHandle["history"]>;

function firstAt(h: History, host: string, re: RegExp): number | undefined {
  return h.commands.find((c) => c.host === host && re.test(c.command))?.at;
}

/** When each node was rebooted (the command), came back (booted), and had noout set and unset. */
function timeline(h: History, host: string) {
  const reboot = firstAt(h, host, /systemctl reboot/);
  return {
    set: firstAt(h, host, new RegExp(`osd set-group noout ${host}$`)),
    reboot,
    back: h.reboots.find((r) => r.host === host && reboot !== undefined && r.at > reboot)?.at,
    unset: firstAt(h, host, new RegExp(`osd unset-group noout ${host}$`)),
  };
}

/** The first moment anything disruptive happened to `host`: noout, an upgrade, a migration off it, a reboot. */
function firstTouch(h: History, host: string): number {
  const times = [
    firstAt(h, host, /osd set-group noout/),
    // The upgrade job; a prefetch (apt-get --download-only, as a job) only fills the package cache.
    firstAt(h, host, /^(?!.*--download-only).*systemd-run .*dist-upgrade/),
    firstAt(h, host, /systemctl reboot/),
    h.migrations.find((m) => m.from === host)?.startedAt,
  ].filter((t): t is number => t !== undefined && !Number.isNaN(t));
  return Math.min(...times);
}

function cephClean(s: SimHandle): { groupFlags: unknown; flags: unknown } {
  const c = s.snapshot().clusters["pve-lab"]?.ceph;
  return { groupFlags: c?.groupFlags, flags: c?.flags };
}

describe("Ceph: noout around each reboot, and nothing moves while Ceph recovers", () => {
  it("refit plan shows the Ceph gate and the noout commands around the reboot, and sets nothing", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(20) });
    const desired = simDesiredState(sim, rollingPlan());
    const out: string[] = [];
    const code = await planCommand(
      { desired, json: true },
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    const { plans } = JSON.parse(out.join("\n")) as { plans: PlanPreview[] };
    const pve1 = plans[0]!.nodes.find((n) => n.node === "pve1")!;
    expect(pve1.action).toBe("patch");
    expect(pve1.gates.find((g) => g.name === "cephHealthy")).toEqual({
      name: "cephHealthy",
      passed: true,
      message: "Ceph is HEALTH_OK",
    });
    const commands = pve1.commands.map((c) => c.command);
    const reboot = commands.indexOf("systemctl reboot");
    expect(commands[reboot - 1]).toBe("ceph --connect-timeout 10 osd set-group noout pve1");
    expect(commands[reboot + 1]).toBe("ceph --connect-timeout 10 osd unset-group noout pve1");
    expect(cephClean(sim)).toEqual({ groupFlags: {}, flags: [] });
  }, 120_000);

  it("sets noout before the reboot, unsets it only after recovery, and touches the next node only then", async () => {
    const clock = new ScaledClock(60);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, rollingPlan());
    const { code, phases, err, patches } = await runOnce({ desired, clock, timing: TIMING });
    expect({ code, phases, err }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
    });

    const h = sim.history();
    const [first, second] = (["pve1", "pve2"] as const).map((n) => timeline(h, n)) as [
      ReturnType<typeof timeline>,
      ReturnType<typeof timeline>,
    ];
    for (const t of [first, second]) {
      expect(t.set, "noout set").toBeDefined();
      expect(t.set!).toBeLessThan(t.reboot!);
      expect(t.back, "node back").toBeDefined();
      // Unset only once the PGs have recovered (the sim recovers for RECOVERY_MS after the boot).
      expect(t.unset!).toBeGreaterThanOrEqual(t.back! + RECOVERY_MS);
    }
    // The second node is not touched until the first one's noout is unset (Ceph HEALTH_OK again).
    expect(firstTouch(h, "pve2")).toBeGreaterThan(first.unset!);
    // pve3 is up to date: never flagged, never rebooted.
    expect(timeline(h, "pve3")).toMatchObject({ set: undefined, reboot: undefined });
    // Ceph is left as it was found.
    expect(cephClean(sim)).toEqual({ groupFlags: {}, flags: [] });
    for (const p of patches.filter((x) => x.spec.host !== "pve3"))
      expect(p.status?.cephNoout).toMatchObject({
        setAt: expect.any(String) as unknown,
        unsetAt: expect.any(String) as unknown,
      });
  }, 300_000);

  it("with ceph.noout: false no flag is set, and the next node still waits for HEALTH_OK (its gate)", async () => {
    const clock = new ScaledClock(60);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, rollingPlan("  ceph: { noout: false }\n"));
    const { code, phases } = await runOnce({ desired, clock, timing: TIMING });
    expect({
      code,
      phases,
    }).toEqual({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
    });
    const h = sim.history();
    expect(h.commands.filter((c) => /set-group|unset-group/.test(c.command))).toEqual([]);
    const one = timeline(h, "pve1");
    expect(firstTouch(h, "pve2")).toBeGreaterThanOrEqual(one.back! + RECOVERY_MS);
  }, 300_000);

  it("a controller killed while the node is out unsets the recorded noout when it runs again", async () => {
    const clock = new ScaledClock(60);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, rollingPlan());
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-ceph-crash-"));
    const children: ChildProcess[] = [];
    const exited = (c: ChildProcess) =>
      new Promise<number | null>((done) => {
        if (c.exitCode !== null || c.signalCode !== null) done(c.exitCode);
        else c.once("exit", (code) => done(code));
      });
    try {
      const firstRun = spawnController(desired, state, clock, TIMING);
      children.push(firstRun);
      const deadline = Date.now() + 120_000;
      const s = sim;
      // Kill it once pve1 has noout and is rebooting.
      while (Date.now() < deadline && firstRun.exitCode === null) {
        const groupFlags = s.snapshot().clusters["pve-lab"]?.ceph?.groupFlags ?? {};
        if (
          groupFlags.pve1 &&
          s.history().commands.some((c) => c.host === "pve1" && /systemctl reboot/.test(c.command))
        )
          break;
        await new Promise((r) => setTimeout(r, 20));
      }
      firstRun.kill("SIGKILL");
      await exited(firstRun);
      expect(s.snapshot().clusters["pve-lab"]?.ceph?.groupFlags).toEqual({ pve1: ["noout"] });
      const recorded = (await readState(state)).find((o) => o.kind === "HostPatch" && o.spec.host === "pve1");
      expect(recorded?.status?.cephNoout).toMatchObject({ setAt: expect.any(String) as unknown });

      const secondRun = spawnController(desired, state, clock, TIMING);
      children.push(secondRun);
      let stderr = "";
      secondRun.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await exited(secondRun);
      const patches = (await readState(state)).filter((o) => o.kind === "HostPatch");
      const phases = Object.fromEntries(patches.map((p) => [String(p.spec.host), p.status?.phase]));
      expect({ code, phases, stderr: stderr.slice(-500) }).toMatchObject({
        code: 0,
        phases: { pve1: "Succeeded", pve2: "Succeeded", pve3: "Skipped" },
      });
      expect(cephClean(s)).toEqual({ groupFlags: {}, flags: [] });
      const h = s.history();
      expect(
        h.commands
          .filter((c) => /systemctl reboot/.test(c.command))
          .map((c) => c.host)
          .sort(),
      ).toEqual(["pve1", "pve2"]);
      const one = timeline(h, "pve1");
      expect(one.unset!).toBeGreaterThanOrEqual(one.back! + RECOVERY_MS);
      expect(firstTouch(h, "pve2")).toBeGreaterThan(one.unset!);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    }
  }, 300_000);
});
