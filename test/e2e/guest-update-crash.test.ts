/**
 * Crash-resume of the guest update flow: the controller is stopped abruptly (its reconciles
 * aborted: a status write done, the action after it not sent) at seeded moments of an apt + pip
 * update of CT 200, a new controller starts on the same state directory, and the simulator's own
 * history proves the end: Succeeded, each package manager run once, one snapshot, no lock left.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { effectiveGuestPolicy } from "../../src/api/guest-policy.js";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import { isFinal } from "../../controller/guest-update/flow.js";
import { recordingLogger } from "../support/recording.js";
import { simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "..", "sim", "fleets", "three-node.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const VENV = "/opt/app/venv";
const RUNS = Number(process.env.REFIT_GUEST_CRASH_RUNS ?? 20);
const SEED = Number(process.env.REFIT_GUEST_CRASH_SEED ?? 9);

/** A small seeded generator, so a failing run can be repeated with its seed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const open = (
  desiredDir: string,
  stateDir: string,
  clock: ScaledClock,
  log: ReturnType<typeof recordingLogger>,
) =>
  Controller.open({
    desiredDir,
    stateDir,
    clock,
    log,
    timing: TIMING,
    watch: false,

    notifier: { notify: () => Promise.resolve() },
  });

function update(web: string): GuestUpdate {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdate",
    metadata: { name: "apps-200" },
    spec: {
      planRef: { name: "apps" },
      clusterRef: { name: "pve-lab" },
      vmid: 200,
      node: "pve1",
      type: "lxc",
      cycle: "c1",
      policy: effectiveGuestPolicy.parse({
        runners: [
          { type: "os", packages: { deny: ["curl"] } },
          { type: "pip", venvs: [VENV] },
        ],
        healthChecks: [{ type: "http", name: "web", url: web, interval: "5s", retries: 2, warmUp: "20s" }],
        restart: { policy: "Services", services: ["nginx.service", "app.service"] },
      }),
    },
  };
}

async function phaseOf(c: Controller): Promise<string | undefined> {
  return (await c.store.get("GuestUpdate", "", "apps-200"))?.status?.phase;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CRASH_IN = [
  "Preflight",
  "BackingUp",
  "Baseline",
  "Updating",
  "Restarting",
  "Verifying",
  "RollingBack",
  "VerifyingRollback",
] as const;
type CrashPhase = (typeof CRASH_IN)[number];
const GOOD: readonly CrashPhase[] = CRASH_IN.slice(0, 6);
const BROKEN: readonly CrashPhase[] = ["Updating", "Restarting", "RollingBack", "VerifyingRollback"];
const BROKEN_RUNS = Number(process.env.REFIT_GUEST_CRASH_BROKEN_RUNS ?? 8);

/** Waits (real time) until the update is in `phase` or has gone past it. */
async function reach(c: Controller, phase: CrashPhase): Promise<void> {
  const order = ["Pending", ...CRASH_IN, "Succeeded", "RolledBack"];
  const until = Date.now() + 30_000;
  while (order.indexOf((await phaseOf(c)) ?? "Pending") < order.indexOf(phase) && Date.now() < until)
    await sleep(5);
}

async function oneRun(
  phase: CrashPhase,
  extraMs: number,
  broken = false,
): Promise<{ crashedIn: string | undefined }> {
  const clock = new ScaledClock(50);
  const sim = await startSimulator({ fleet: FLEET, clock });
  const log = recordingLogger();
  try {
    const desired = simDesiredState(sim, "");
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const web = sim.healthEndpoints().find((e) => e.vmid === 200)?.url ?? "";
    const first = await open(desired, state, clock, log);
    await first.start();
    // A broken update: the new app fails when restarted, so the update is rolled back.
    if (broken)
      sim.faults.add({ kind: "serviceFailed", vmid: 200, service: "app", onRestart: true, times: 1 });
    await first.store.create(update(web));
    await reach(first, phase);
    await sleep(extraMs);
    const crashedIn = await phaseOf(first);
    await first.manager.stop({ abort: true });
    await first.stop();

    const second = await open(desired, state, clock, log);
    await second.start();
    const until = Date.now() + 60_000;
    let gu: GuestUpdate | undefined;
    while (!isFinal((gu = await second.store.get("GuestUpdate", "", "apps-200"))?.status?.phase)) {
      if (Date.now() > until)
        throw new Error(`still ${gu?.status?.phase} after the resume:\n${log.lines.join("\n")}`);
      await sleep(100);
    }
    await second.stop();

    const label = `crash ${extraMs} ms into ${phase} (in ${crashedIn ?? "none"})`;
    expect(gu?.status?.phase, `${label}: ${gu?.status?.lastError?.message ?? ""}`).toBe(
      broken ? "RolledBack" : "Succeeded",
    );
    const world = sim.snapshot();
    const ct = world.guests["200"];
    expect(ct?.contents?.os.apt?.installed.nginx?.version, label).toBe(
      broken ? "1.22.1-9" : "1.22.1-9+deb12u1",
    );
    expect(ct?.contents?.pip[VENV]?.flask?.installed, label).toBe(broken ? "3.0.3" : "3.1.0");
    expect(ct?.status, label).toBe("running");
    expect(ct?.lock, label).toBeUndefined();
    const refit = ct?.snapshots.filter((s) => s.name.startsWith("refit-apps-")) ?? [];
    expect(
      refit.map((s) => s.name),
      label,
    ).toEqual([gu?.status?.snapshot?.name]);
    const units = sim
      .history()
      .commands.filter((x) => x.via === "ssh" && x.command.startsWith("systemd-run"));
    const count = (what: string) => units.filter((u) => u.command.includes(what)).length;
    expect(
      [
        count("dist-upgrade"),
        count("pip install"),
        count("pct snapshot"),
        count("apt-mark hold"),
        count("apt-mark unhold"),
        count("pct rollback"),
      ],
      label,
    ).toEqual([1, 1, 1, 1, 1, broken ? 1 : 0]);
    // The hold Refit put on for the run is released.
    expect(ct?.contents?.os.apt?.holds ?? [], label).not.toContain("curl");
    return { crashedIn };
  } finally {
    await sim.stop();
  }
}

describe("guest update crash-resume (simulator over SSH)", () => {
  it(`resumes from status at ${RUNS} seeded crash points without repeating a step`, async () => {
    const random = lcg(SEED);
    const phases = new Map<string, number>();
    for (let i = 0; i < RUNS; i++) {
      const { crashedIn } = await oneRun(GOOD[i % GOOD.length] ?? "Updating", Math.round(random() * 150));
      phases.set(crashedIn ?? "none", (phases.get(crashedIn ?? "none") ?? 0) + 1);
    }
    // Every phase before the end saw a crash.
    if (RUNS >= GOOD.length) expect([...phases.keys()]).toEqual(expect.arrayContaining([...GOOD]));
  }, 600_000);

  it(`a broken update resumes from ${BROKEN_RUNS} crash points up to the rollback: one restore, old versions back`, async () => {
    const random = lcg(SEED + 1);
    const phases = new Map<string, number>();
    for (let i = 0; i < BROKEN_RUNS; i++) {
      const { crashedIn } = await oneRun(
        BROKEN[i % BROKEN.length] ?? "RollingBack",
        Math.round(random() * 60),
        true,
      );
      phases.set(crashedIn ?? "none", (phases.get(crashedIn ?? "none") ?? 0) + 1);
    }
    if (BROKEN_RUNS >= BROKEN.length)
      expect([...phases.keys()]).toEqual(expect.arrayContaining(["RollingBack", "VerifyingRollback"]));
  }, 600_000);
});
