/**
 * Scheduling of host patch plans, end to end: the simulator over SSH, the real controller, both on
 * one ScaledClock that starts on a known instant (Wednesday 2026-03-04 10:00 UTC), so maintenance
 * windows and blackouts are open or closed by construction. Covers windows and the force annotation,
 * blackouts, a shared mutex, `after` ordering, the kill switch and `suspend`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliIo, recordingLogger } from "../support/recording.js";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle, type SimHistory } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import { onceOutcome, runController } from "../../controller/cli/commands/run.js";
import { readState } from "../../controller/runtime/state-reader.js";
import type { Logger } from "../../src/log/logger.js";

const FLEET = join(import.meta.dirname, "fleets", "scheduling.yaml");
/** Controller timing in sim ms: short, so a scaled clock of 50 turns each case into seconds. */
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const SCALE = 50;
/** Wednesday 2026-03-04 10:00 UTC: the weekend window is closed, the Wednesday blackout is open. */
const START = Date.parse("2026-03-04T10:00:00Z");
/** Real ms a test waits for a status to appear before it gives up. */
const WAIT_REAL_MS = 60_000;

type StateObject = Awaited<ReturnType<typeof readState>>[number];

let sim: SimHandle | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  await sim?.stop();
  sim = undefined;
});

const WINDOWS = `apiVersion: refit.dev/v1alpha1
kind: MaintenanceWindow
metadata: { name: weekend }
spec: { schedule: "0 1 * * 6", duration: 4h }
---
apiVersion: refit.dev/v1alpha1
kind: MaintenanceWindow
metadata: { name: dns-maintenance }
spec: { schedule: "0 9 * * 3", duration: 4h }
`;

/**
 * A desired-state directory with one ProxmoxCluster per simulated cluster (lab-a, lab-b), the
 * windows above, and `plans`. `clusterSpec` adds spec lines to a cluster.
 */
function desiredState(s: SimHandle, plans: string, clusterSpec: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "refit-e2e-desired-"));
  const clusters = [...new Set(s.nodes.map((n) => n.cluster ?? ""))];
  for (const c of clusters) {
    const endpoints = s.nodes
      .filter((n) => n.cluster === c)
      .map((n) => `    - { node: ${n.name}, host: "${n.address}", port: ${n.port} }`)
      .join("\n");
    writeFileSync(
      join(dir, `cluster-${c}.yaml`),
      `apiVersion: refit.dev/v1alpha1
kind: ProxmoxCluster
metadata:
  name: ${c}
spec:
  endpoints:
${endpoints}
  ssh:
    user: root
    privateKey: { file: "${s.clientKeyPath ?? ""}" }
    knownHosts: { file: "${s.knownHostsPath}" }
    connectTimeout: 60s
  observeInterval: 30m
${clusterSpec[c] ?? ""}`,
    );
  }
  writeFileSync(join(dir, "windows.yaml"), WINDOWS);
  writeFileSync(join(dir, "plans.yaml"), plans);
  return dir;
}

function plan(name: string, cluster: string, spec = "", annotations = ""): string {
  return `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata:
  name: ${name}
${annotations ? `  annotations:\n${annotations}` : ""}spec:
  clusterRef: { name: ${cluster} }
  profile: pve
  targets: { nodes: ["${cluster.slice(-1)}*"] }
${spec}`;
}

/** Commands that change a host or its guests; reads and `apt-get update` are not among them. */
const MUTATING =
  /\bapt-get\b(?![^|;&]*\s-s\b)[^|;&]*\b(dist-upgrade|upgrade|install|autoremove)\b|\b(qm|pct) (migrate|start|stop|shutdown|reboot)\b|\bha-manager (migrate|relocate|crm-command)\b|\bsystemctl (reboot|poweroff)\b|^reboot\b|\bsystemd-run\b/;

function mutating(history: SimHistory): string[] {
  return history.commands.filter((c) => MUTATING.test(c.command)).map((c) => `${c.host}: ${c.command}`);
}

function summary(objects: StateObject[]): string {
  return objects
    .filter((o) => o.kind === "HostPatch" || o.kind === "HostPatchPlan")
    .map(
      (o) =>
        `${o.kind}/${o.metadata.name} ${o.status?.phase ?? "-"} ${JSON.stringify(
          o.status?.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`),
        )} ${o.status?.message ?? ""}`,
    )
    .join("\n");
}

function find(objects: StateObject[], kind: string, name: string): StateObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

function ready(o: StateObject | undefined) {
  return o?.status?.conditions?.find((c) => c.type === "Ready");
}

function patches(objects: StateObject[]): Record<string, string | undefined> {
  return Object.fromEntries(
    objects.filter((o) => o.kind === "HostPatch").map((o) => [String(o.spec.host), o.status?.phase]),
  );
}

async function readStateSafe(stateDir: string, previous: StateObject[]): Promise<StateObject[]> {
  try {
    return await readState(stateDir);
  } catch {
    // A file listed but replaced before it was read: the next sample sees the new one.
    return previous;
  }
}

/**
 * Reads the state directory (as `refit status` does) until `done` holds on a sample, for at most
 * WAIT_REAL_MS of real time; `each` sees every sample on the way.
 */
async function waitForState(
  stateDir: string,
  done: (objects: StateObject[]) => boolean,
  log: { lines: string[] },
  each: (objects: StateObject[]) => void = () => undefined,
): Promise<StateObject[]> {
  const deadline = Date.now() + WAIT_REAL_MS;
  let objects: StateObject[] = [];
  for (;;) {
    objects = await readStateSafe(stateDir, objects);
    each(objects);
    if (done(objects)) return objects;
    if (Date.now() > deadline)
      throw new Error(
        `the expected status did not appear within ${WAIT_REAL_MS} ms.\nstatus:\n${summary(objects)}\nlog:\n${log.lines.slice(-20).join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Samples the state directory every 25 ms while `work` runs; returns its result and the samples. */
async function sampling<T>(
  stateDir: string,
  work: Promise<T>,
): Promise<{ result: T; samples: StateObject[][] }> {
  const samples: StateObject[][] = [];
  let finished = false;
  const sampler = (async () => {
    let last: StateObject[] = [];
    while (!finished) {
      last = await readStateSafe(stateDir, last);
      samples.push(last);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    return { result: await work, samples };
  } finally {
    finished = true;
    await sampler;
  }
}

interface HistoryLine {
  at: string;
  step: string;
  outcome: string;
}

function targetHistory(stateDir: string, cluster: string, host: string): HistoryLine[] {
  const text = readFileSync(join(stateDir, "history", "HostPatch", `${cluster}-${host}.jsonl`), "utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as HistoryLine);
}

function newState(): string {
  return mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
}

async function runOnce(desired: string, state: string, clock: ScaledClock, log: Logger) {
  const { io, out, err } = cliIo();
  const code = await runController(
    {
      desired,
      state,
      once: true,
      killSwitch: join(state, "STOP"),
      clock,
      log,
      timing: TIMING,
      checkEveryMs: 50,
    },
    io,
  );
  return { code, out, err };
}

/**
 * ssh2's ed25519 key generation drops a leading zero byte of about one key in 256, and the simulator
 * then refuses its own key at start (mscdex/ssh2#1390); a fresh start draws new keys.
 */
async function startSimulatorRetrying(opts: Parameters<typeof startSimulator>[0]): Promise<SimHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSimulator(opts);
    } catch (err) {
      if (attempt >= 3 || !/Malformed OpenSSH/.test(String(err))) throw err;
    }
  }
}

async function startSim(): Promise<{ s: SimHandle; clock: ScaledClock }> {
  const clock = new ScaledClock(SCALE, START);
  sim = await startSimulatorRetrying({ fleet: FLEET, clock });
  return { s: sim, clock };
}

async function startController(
  desired: string,
  state: string,
  clock: ScaledClock,
  log: Logger,
): Promise<Controller> {
  controller = await Controller.open({
    desiredDir: desired,
    stateDir: state,
    clock,
    log,
    killSwitchPath: join(state, "STOP"),
    timing: TIMING,
  });
  await controller.start();
  return controller;
}

/** Resolves once a1's upgrade job is running on the simulator (its dist-upgrade has begun). */
async function upgradeRunning(s: SimHandle): Promise<void> {
  const deadline = Date.now() + WAIT_REAL_MS;
  while (
    !s
      .history()
      .commands.some(
        (c) => c.host === "a1" && c.via === "unit" && /^apt-get -y .*dist-upgrade$/.test(c.command),
      )
  ) {
    if (Date.now() > deadline) throw new Error("a1's upgrade did not start");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("scheduling of host patch plans (simulator over SSH)", () => {
  it("outside its windows a plan does nothing disruptive, says OutsideWindow with the next opening, and --once exits 0", async () => {
    const { s, clock } = await startSim();
    const desired = desiredState(s, plan("plan-a", "lab-a", "  windowRefs: [{ name: weekend }]\n"));
    const state = newState();
    const log = recordingLogger();

    const { code, out, err } = await runOnce(desired, state, clock, log);

    const objects = await readState(state);
    const p = find(objects, "HostPatchPlan", "plan-a");
    expect({ code, out, err }).toMatchObject({ code: 0, err: [] });
    expect(out.join("\n")).toMatch(/HostPatchPlan\/plan-a: OutsideWindow/);
    expect(p?.status?.phase).toBe("OutsideWindow");
    expect(p?.status?.nextWindow).toBe("2026-03-07T01:00:00.000Z");
    expect(ready(p)).toMatchObject({ status: "False", reason: "OutsideWindow" });
    expect(ready(p)?.message).toMatch(/window "weekend", opens at 2026-03-07T01:00:00\.000Z/);
    expect(patches(objects)).toEqual({});
    expect(mutating(s.history())).toEqual([]);
  }, 60_000);

  it("refit.dev/force=windows patches outside the windows", async () => {
    const { s, clock } = await startSim();
    const bootBefore = s.history().bootIds;
    const desired = desiredState(
      s,
      plan("plan-a", "lab-a", "  windowRefs: [{ name: weekend }]\n", "    refit.dev/force: windows\n"),
    );
    const state = newState();
    const log = recordingLogger();

    const { code, out, err } = await runOnce(desired, state, clock, log);

    const objects = await readState(state);
    expect({ code, out, err, status: summary(objects) }).toMatchObject({ code: 0 });
    expect(patches(objects)).toEqual({ a1: "Succeeded", a2: "Skipped", a3: "Skipped" });
    expect(ready(find(objects, "HostPatchPlan", "plan-a"))).toMatchObject({
      status: "True",
      reason: "CycleSucceeded",
    });
    const history = s.history();
    expect(history.bootIds.a1).toHaveLength((bootBefore.a1?.length ?? 1) + 1);
    expect(s.snapshot().hosts.a1?.apt.installed["pve-manager"]?.version).toBe("8.4.2");
  }, 90_000);

  it("an open blackout starts no cycle and nothing disruptive, even with force=windows", async () => {
    const { s, clock } = await startSim();
    const desired = desiredState(
      s,
      plan(
        "plan-a",
        "lab-a",
        "  blackoutRefs: [{ name: dns-maintenance }]\n",
        "    refit.dev/force: windows\n",
      ),
    );
    const state = newState();
    const log = recordingLogger();

    const { code, out, err } = await runOnce(desired, state, clock, log);

    const objects = await readState(state);
    const p = find(objects, "HostPatchPlan", "plan-a");
    expect({ code, out, err, status: summary(objects) }).toMatchObject({ code: 0 });
    expect(p?.status?.phase).not.toBe("Progressing");
    expect(ready(p)).toMatchObject({ status: "False" });
    expect(ready(p)?.message).toMatch(
      /blackout window "dns-maintenance" is open; nothing disruptive starts until it closes at 2026-03-04T13:00:00\.000Z/,
    );
    expect(patches(objects)).toEqual({});
    expect(mutating(s.history())).toEqual([]);
  }, 60_000);

  // A closed gate reports its own reason: an open blackout says InBlackout, not OutsideWindow.
  it("an open blackout is reported with reason InBlackout", async () => {
    const { s, clock } = await startSim();
    const desired = desiredState(s, plan("plan-a", "lab-a", "  blackoutRefs: [{ name: dns-maintenance }]\n"));
    const state = newState();
    const log = recordingLogger();

    const { code } = await runOnce(desired, state, clock, log);

    const objects = await readState(state);
    expect(code).toBe(0);
    expect(ready(find(objects, "HostPatchPlan", "plan-a"))).toMatchObject({
      status: "False",
      reason: "InBlackout",
    });
  }, 60_000);

  it("two plans sharing a mutex never act at the same time", async () => {
    const { s, clock } = await startSim();
    const bootBefore = s.history().bootIds;
    const desired = desiredState(
      s,
      `${plan("plan-a", "lab-a", "  mutex: infra\n")}---\n${plan("plan-b", "lab-b", "  mutex: infra\n")}`,
    );
    const state = newState();
    const log = recordingLogger();

    const { result, samples } = await sampling(state, runOnce(desired, state, clock, log));

    const objects = await readState(state);
    expect({ ...result, status: summary(objects) }).toMatchObject({ code: 0 });
    expect(patches(objects)).toEqual({
      a1: "Succeeded",
      a2: "Skipped",
      a3: "Skipped",
      b1: "Succeeded",
      b2: "Skipped",
      b3: "Skipped",
    });
    // Sampled as `refit status` shows it: never both progressing, and the one that waited said why.
    const both = samples.filter(
      (o) =>
        find(o, "HostPatchPlan", "plan-a")?.status?.phase === "Progressing" &&
        find(o, "HostPatchPlan", "plan-b")?.status?.phase === "Progressing",
    );
    expect(both).toEqual([]);
    const held = samples
      .flatMap((o) => ["plan-a", "plan-b"].map((n) => ready(find(o, "HostPatchPlan", n))))
      .find((r) => r?.reason === "MutexHeld");
    expect(held?.message).toMatch(/mutex infra is held by HostPatchPlan\/.*\/plan-[ab]/);
    // From the records: one cycle ended before the other began, and each node's steps lie inside its
    // own plan's cycle.
    const cycles = ["plan-a", "plan-b"]
      .map(
        (n) =>
          find(objects, "HostPatchPlan", n)?.status?.lastCycle as { startedAt: string; finishedAt: string },
      )
      .map((c) => ({ start: Date.parse(c.startedAt), end: Date.parse(c.finishedAt) }))
      .sort((x, y) => x.start - y.start);
    const [first, second] = cycles;
    expect(second!.start).toBeGreaterThanOrEqual(first!.end);
    const a1 = targetHistory(state, "lab-a", "a1").map((e) => Date.parse(e.at));
    const b1 = targetHistory(state, "lab-b", "b1").map((e) => Date.parse(e.at));
    const spans = [a1, b1]
      .map((t) => ({ start: Math.min(...t), end: Math.max(...t) }))
      .sort((x, y) => x.start - y.start);
    expect(spans[1]!.start).toBeGreaterThanOrEqual(spans[0]!.end);
    const history = s.history();
    expect(history.bootIds.a1).toHaveLength((bootBefore.a1?.length ?? 1) + 1);
    expect(history.bootIds.b1).toHaveLength((bootBefore.b1?.length ?? 1) + 1);
  }, 120_000);

  it("a plan ordered `after` another starts only when the other has finished its cycle", async () => {
    const { s, clock } = await startSim();
    const desired = desiredState(
      s,
      `${plan("plan-b", "lab-b", "  after: [{ kind: HostPatchPlan, name: plan-a }]\n")}---\n${plan("plan-a", "lab-a")}`,
    );
    const state = newState();
    const log = recordingLogger();

    const { result, samples } = await sampling(state, runOnce(desired, state, clock, log));

    const objects = await readState(state);
    expect({ ...result, status: summary(objects) }).toMatchObject({ code: 0 });
    expect(patches(objects)).toMatchObject({ a1: "Succeeded", b1: "Succeeded" });
    const a = find(objects, "HostPatchPlan", "plan-a")?.status?.lastCycle as { finishedAt: string };
    const b = find(objects, "HostPatchPlan", "plan-b")?.status?.lastCycle as { startedAt: string };
    expect(Date.parse(b.startedAt)).toBeGreaterThanOrEqual(Date.parse(a.finishedAt));
    const b1First = Math.min(...targetHistory(state, "lab-b", "b1").map((e) => Date.parse(e.at)));
    expect(b1First).toBeGreaterThanOrEqual(Date.parse(a.finishedAt));
    // While plan-a was progressing, plan-b said what it waits for, and had no HostPatch working.
    const whileA = samples.filter((o) => find(o, "HostPatchPlan", "plan-a")?.status?.phase === "Progressing");
    expect(whileA.length).toBeGreaterThan(0);
    expect(
      whileA
        .map((o) => find(o, "HostPatchPlan", "plan-b")?.status?.phase ?? "-")
        .filter((p) => p === "Progressing"),
    ).toEqual([]);
    const waiting = whileA
      .map((o) => ready(find(o, "HostPatchPlan", "plan-b")))
      .find((r) => r?.reason === "WaitingForPlan");
    expect(waiting?.message).toMatch(/HostPatchPlan\/plan-b waits: HostPatchPlan\/plan-a/);
  }, 120_000);

  it("the kill switch present: no cycle starts, the plan says KillSwitch and --once exits 3; removed, the work goes on", async () => {
    const { s, clock } = await startSim();
    const bootBefore = s.history().bootIds;
    const desired = desiredState(s, plan("plan-a", "lab-a"));
    const state = newState();
    const stop = join(state, "STOP");
    writeFileSync(stop, "change freeze until the DNS migration is done\n");
    const log = recordingLogger();

    const halted = await runOnce(desired, state, clock, log);

    let objects = await readState(state);
    const p = find(objects, "HostPatchPlan", "plan-a");
    expect({ ...halted, status: summary(objects) }).toMatchObject({ code: 3 });
    expect(halted.out.join("\n")).toMatch(/HostPatchPlan\/plan-a: halted/);
    expect(ready(p)).toMatchObject({ status: "False", reason: "KillSwitch" });
    expect(ready(p)?.message).toMatch(
      /kill switch .*STOP is present \(change freeze until the DNS migration is done\)/,
    );
    expect(patches(objects)).toEqual({});
    expect(mutating(s.history())).toEqual([]);

    rmSync(stop);
    await startController(desired, state, clock, log);
    objects = await waitForState(
      state,
      (o) => find(o, "HostPatchPlan", "plan-a")?.status?.phase === "Succeeded",
      log,
    );
    expect(patches(objects)).toEqual({ a1: "Succeeded", a2: "Skipped", a3: "Skipped" });
    expect(s.history().bootIds.a1).toHaveLength((bootBefore.a1?.length ?? 1) + 1);
  }, 120_000);

  // A KillSwitch reason left by an earlier run does not halt a run started after the file was removed.
  it("after the kill switch is removed, the next `run --once` does the work and exits 0", async () => {
    const { s, clock } = await startSim();
    const desired = desiredState(s, plan("plan-a", "lab-a"));
    const state = newState();
    const stop = join(state, "STOP");
    writeFileSync(stop, "change freeze\n");
    const log = recordingLogger();
    expect((await runOnce(desired, state, clock, log)).code).toBe(3);
    rmSync(stop);

    const resumed = await runOnce(desired, state, clock, log);

    const objects = await readState(state);
    expect({ ...resumed, status: summary(objects) }).toMatchObject({ code: 0 });
    expect(patches(objects)).toEqual({ a1: "Succeeded", a2: "Skipped", a3: "Skipped" });
  }, 90_000);

  it("the kill switch set mid-cycle: the upgrade in flight finishes, nothing new starts, and removing it resumes", async () => {
    const { s, clock } = await startSim();
    const bootBefore = s.history().bootIds;
    const desired = desiredState(s, plan("plan-a", "lab-a"));
    const state = newState();
    const stop = join(state, "STOP");
    const log = recordingLogger();
    await startController(desired, state, clock, log);

    await upgradeRunning(s);
    writeFileSync(stop, "");
    const held = await waitForState(
      state,
      (o) =>
        find(o, "HostPatch", "plan-a-a1")?.status?.conditions?.some(
          (c) => c.type === "Reconciling" && c.reason === "KillSwitch",
        ) === true,
      log,
    );
    expect(find(held, "HostPatch", "plan-a-a1")?.status?.message).toMatch(
      /kill switch .*STOP is present; nothing new starts until it is removed; the evacuation and reboot not started/,
    );
    // Give it time to misbehave: many poll rounds of sim time.
    await clock.sleep(20 * TIMING.waitMs);
    const history = s.history();
    expect(s.snapshot().hosts.a1?.apt.installed["pve-manager"]?.version).toBe("8.4.2");
    expect(history.migrations).toEqual([]);
    expect(history.bootIds).toEqual(bootBefore);
    expect(patches(await readState(state)).a1).toBe("Evacuating");

    rmSync(stop);
    const done = await waitForState(
      state,
      (o) => find(o, "HostPatchPlan", "plan-a")?.status?.phase === "Succeeded",
      log,
    );
    expect(patches(done)).toEqual({ a1: "Succeeded", a2: "Skipped", a3: "Skipped" });
    expect(s.history().bootIds.a1).toHaveLength((bootBefore.a1?.length ?? 1) + 1);
  }, 120_000);

  // The kill switch set mid-cycle shows on the plan, and run --once exits 3.
  it("the kill switch set mid-cycle: the plan says KillSwitch and --once would exit 3", async () => {
    const { s, clock } = await startSim();
    const desired = desiredState(s, plan("plan-a", "lab-a"));
    const state = newState();
    const log = recordingLogger();
    const since = clock.now();
    const c = await startController(desired, state, clock, log);
    await upgradeRunning(s);
    writeFileSync(join(state, "STOP"), "");
    await waitForState(
      state,
      (o) =>
        find(o, "HostPatch", "plan-a-a1")?.status?.conditions?.some(
          (x) => x.type === "Reconciling" && x.reason === "KillSwitch",
        ) === true,
      log,
    );
    // Several plan reconciles (each waitMs) after every HostPatch has halted.
    await clock.sleep(10 * TIMING.waitMs);

    const objects = await readState(state);
    expect(ready(find(objects, "HostPatchPlan", "plan-a"))).toMatchObject({
      status: "False",
      reason: "KillSwitch",
    });
    expect(await onceOutcome(c.store, since)).toMatchObject({ done: true, code: 3 });
  }, 90_000);

  it.each([
    ["plan", "PlanSuspended", /HostPatchPlan\/plan-a has spec.suspend: true/],
    ["cluster", "ClusterSuspended", /ProxmoxCluster\/lab-a has spec.suspend: true/],
  ] as const)(
    "spec.suspend on the %s: nothing starts, the plan says %s",
    async (where, reason, message) => {
      const { s, clock } = await startSim();
      const desired =
        where === "plan"
          ? desiredState(s, plan("plan-a", "lab-a", "  suspend: true\n"))
          : desiredState(s, plan("plan-a", "lab-a"), { "lab-a": "  suspend: true\n" });
      const state = newState();
      const log = recordingLogger();

      const { code, out } = await runOnce(desired, state, clock, log);

      const objects = await readState(state);
      const p = find(objects, "HostPatchPlan", "plan-a");
      expect({ code, out, status: summary(objects) }).toMatchObject({ code: 0 });
      expect(p?.status?.phase).toBe("Suspended");
      expect(ready(p)).toMatchObject({ status: "False", reason });
      expect(ready(p)?.message).toMatch(message);
      expect(patches(objects)).toEqual({});
      expect(mutating(s.history())).toEqual([]);
    },
    60_000,
  );
});
