/**
 * Packages kept back, held, and a busy package manager (issue 8 items 5 and 6): the controller
 * against the simulator over real SSH. The fleet: pve1 has two upgrades, pve2 only kept-back
 * packages (one held by the admin, one with a dependency no repository provides), pve3 is up to date.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { HostPatch } from "../../src/api/host-patch.js";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { planCommand } from "../../controller/cli/commands/plan.js";
import { runController } from "../../controller/cli/commands/run.js";
import type { PlanPreview } from "../../controller/host-patch/dry-run.js";
import { readState } from "../../controller/runtime/state-reader.js";
import type { CycleReport } from "../../controller/reports/cycle-report.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { run } from "../sim/ssh-client.js";

const FLEET = join(import.meta.dirname, "fleets", "apt-packages.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const HOLD_PLAN = rollingPlan("  upgrade: { holdPackages: [pve-manager, zfsutils-linux] }\n");

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function runOnce(s: SimHandle, clock: ScaledClock, plan: string) {
  const desired = simDesiredState(s, plan);
  const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
  const { io: cliIo, out, err } = io();
  const code = await runController(
    { desired, state, once: true, killSwitch: join(state, "STOP"), clock, timing: TIMING, checkEveryMs: 100 },
    cliIo,
  );
  const objects = await readState(state);
  const patches = Object.fromEntries(
    objects
      .filter((o) => o.kind === "HostPatch")
      .map((p) => [String(p.spec.host), (p.status ?? {}) as NonNullable<HostPatch["status"]>]),
  );
  const reportDir = join(state, "reports");
  const reports = readdirSync(reportDir).map(
    (f) => JSON.parse(readFileSync(join(reportDir, f), "utf8")) as CycleReport,
  );
  return { code, out, err, objects, patches, reports };
}

describe("packages kept back and held (simulator over SSH)", () => {
  it("holds the plan's packages for the run and releases them, reports kept-back packages, reboots nothing", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const bootBefore = sim.history().bootIds;
    const r = await runOnce(sim, clock, HOLD_PLAN);
    const phases = Object.fromEntries(Object.entries(r.patches).map(([h, s]) => [h, s.phase]));
    expect({ code: r.code, phases, err: r.err }).toMatchObject({
      code: 0,
      phases: { pve1: "Succeeded", pve2: "Skipped", pve3: "Skipped" },
    });

    // pve1: pve-manager was held for the run, so only libpve-common-perl was upgraded; the hold is gone.
    const snap = sim.snapshot();
    expect((r.patches.pve1?.upgradedPackages ?? []).map((p) => p.name)).toEqual(["libpve-common-perl"]);
    expect(r.patches.pve1?.heldPackages).toBeUndefined();
    expect(snap.hosts.pve1?.apt.installed["pve-manager"]?.version).toBe("8.4.1");
    expect(snap.hosts.pve1?.apt.installed["libpve-common-perl"]?.version).toBe("8.3.2");
    expect((await run(sim, "pve1", "apt-mark showhold")).stdout).toBe("");
    const pve1Commands = sim
      .history()
      .commands.filter((c) => c.host === "pve1")
      .map((c) => c.command);
    expect(pve1Commands.some((c) => c.includes("apt-mark hold pve-manager"))).toBe(true);
    expect(pve1Commands.some((c) => c.includes("apt-mark unhold pve-manager"))).toBe(true);

    // pve2: only kept-back packages: not "up to date", says what needs a person; the admin's hold stays.
    expect(r.patches.pve2?.message).toContain(
      "2 package(s) kept back need a person: proxmox-ve, zfsutils-linux; zfsutils-linux is on hold",
    );
    expect(r.patches.pve2?.keptBackPackages).toEqual(["proxmox-ve", "zfsutils-linux"]);
    expect(r.patches.pve2?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("PackagesKeptBack");
    expect(r.patches.pve3?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("UpToDate");
    expect((await run(sim, "pve2", "apt-mark showhold")).stdout).toBe("zfsutils-linux\n");
    expect(r.patches.pve3?.message).toMatch(/^up to date/);

    // The cycle report counts pve2 as kept back, not as up to date.
    expect(r.reports[0]?.summary).toMatchObject({ patched: 1, upToDate: 1, keptBack: 1, reboots: 0 });
    expect(r.reports[0]?.hosts.find((h) => h.host === "pve2")?.keptBack).toEqual([
      "proxmox-ve",
      "zfsutils-linux",
    ]);

    // Nothing was rebooted: no kernel was pending anywhere.
    expect(sim.history().bootIds).toEqual(bootBefore);

    // The cluster's status names the kept-back packages per node.
    const cluster = r.objects.find((o) => o.kind === "ProxmoxCluster");
    const nodes = (cluster?.status?.nodes ?? []) as { name: string; keptBack?: string[]; held?: string[] }[];
    expect(cluster?.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain(
      "1 with packages kept back that need a person (pve2: proxmox-ve, zfsutils-linux)",
    );
    expect(nodes.find((n) => n.name === "pve2")).toMatchObject({
      keptBack: ["proxmox-ve", "zfsutils-linux"],
      held: ["zfsutils-linux"],
    });
  }, 180_000);

  it("refit plan shows kept-back packages and what the plan holds", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(50) });
    const desired = simDesiredState(sim, HOLD_PLAN);
    const out: string[] = [];
    const code = await planCommand(
      { desired, json: true },
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    const { plans } = JSON.parse(out.join("\n")) as { plans: PlanPreview[] };
    const nodes = Object.fromEntries(plans[0]!.nodes.map((n) => [n.node, n]));
    expect(nodes.pve2).toMatchObject({ action: "skip", keptBack: ["proxmox-ve", "zfsutils-linux"] });
    expect(nodes.pve2?.why).toContain("kept back need a person");
    expect(nodes.pve1).toMatchObject({ action: "patch", held: ["pve-manager"] });
    expect(nodes.pve1?.pending.map((p) => p.name)).toEqual(["libpve-common-perl"]);
    const text: string[] = [];
    await planCommand({ desired, json: false }, { out: (l) => text.push(l), err: () => undefined });
    expect(text).toContain(
      "    kept back proxmox-ve: not upgraded, needs a person (apt-mark showhold, apt-get -s dist-upgrade)",
    );
  }, 120_000);
});

describe("a busy and an interrupted package manager (simulator over SSH)", () => {
  it("waits for unattended-upgrades to let go of the lock, repairs the interrupted dpkg, then upgrades", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    // A dist-upgrade cut off while dpkg worked: packages unpacked, not configured.
    sim.faults.add({
      kind: "dropConnection",
      host: "pve1",
      match: "dist-upgrade",
      afterSeconds: 2.5,
      times: 1,
    });
    expect((await run(sim, "pve1", "apt-get -y dist-upgrade")).cut).toBe(true);
    expect((await run(sim, "pve1", "dpkg --audit")).stdout).not.toBe("");
    // A newer pve-manager appears upstream: after the repair there is still an upgrade to do.
    sim.publish({ package: "pve-manager", version: "8.4.3", node: "pve1" });
    // unattended-upgrades holds the lock for two simulated minutes.
    sim.faults.add({ kind: "aptLock", host: "pve1", pid: 1234, holder: "unattended-upgr", forSeconds: 120 });
    const r = await runOnce(sim, clock, rollingPlan());
    expect({ code: r.code, phase: r.patches.pve1?.phase, message: r.patches.pve1?.message }).toMatchObject({
      code: 0,
      phase: "Succeeded",
    });
    expect(r.patches.pve1?.dpkgRepair).toMatchObject({ via: "repair-job" });
    expect(r.patches.pve1?.dpkgRepair?.packages?.length).toBeGreaterThan(0);
    const snap = sim.snapshot();
    expect(snap.hosts.pve1?.apt.installed["pve-manager"]?.version).toBe("8.4.3");
    expect(snap.hosts.pve1?.apt.unpacked).toEqual({});
    const cmds = sim
      .history()
      .commands.filter((c) => c.host === "pve1")
      .map((c) => c.command);
    expect(cmds.some((c) => c.includes("dpkg --configure -a"))).toBe(true);
    expect(cmds.some((c) => c.includes("DPkg::Lock::Timeout=600"))).toBe(true);
  }, 180_000);
});
