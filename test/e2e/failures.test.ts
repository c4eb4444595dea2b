/**
 * Failure behaviour of the host patch flow, end to end: the simulator over SSH, the real controller,
 * both on one ScaledClock. A node that never returns fails its HostPatch and stalls the plan; closed
 * gates (a node already down, a reboot that would lose quorum) and evacuation plans that cannot be
 * carried out (an unmovable guest, no memory anywhere) block before anything moves.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingLogger } from "../support/recording.js";
import { runOnce } from "../support/run-once.js";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle, type SimHistory } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import { readState } from "../../controller/runtime/state-reader.js";
import type { Logger } from "../../src/log/logger.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { run } from "../sim/ssh-client.js";

const FLEETS = join(import.meta.dirname, "fleets");
/** Controller timing in sim ms: short, so a scaled clock of 50 turns each case into seconds. */
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const SCALE = 50;
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

const plan = rollingPlan;

/**
 * Commands that change a host or its guests: package installs, migrations, guest power, HA moves,
 * reboots and transient units (every long step runs as one). Reads (`apt-get -s`, `pvesh get`) and
 * the package index refresh (`apt-get update`) are not among them.
 */
const MUTATING =
  /\bapt-get\b(?![^|;&]*\s-s\b)[^|;&]*\b(dist-upgrade|upgrade|install|autoremove)\b|\b(qm|pct) (migrate|start|stop|shutdown|reboot)\b|\bha-manager (migrate|relocate|crm-command)\b|\bsystemctl (reboot|poweroff)\b|^reboot\b|\bsystemd-run\b/;

function mutating(history: SimHistory, hosts?: readonly string[]): string[] {
  return (
    history.commands
      // A prefetch (apt-get --download-only, as a job) only fills the package cache: it changes nothing.
      .filter(
        (c) =>
          (hosts ? hosts.includes(c.host) : true) &&
          MUTATING.test(c.command) &&
          !c.command.includes("--download-only"),
      )
      .map((c) => `${c.host}: ${c.command}`)
  );
}

function byHost(objects: StateObject[]): Record<string, StateObject> {
  return Object.fromEntries(
    objects.filter((o) => o.kind === "HostPatch").map((o) => [String(o.spec.host), o]),
  );
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

/** Every HostPatch phase (with its status) seen while sampling the state directory. */
interface Samples {
  seen: { host: string; phase: string; message: string; reason?: string }[];
  plans: { phase: string; readyReason?: string; readyMessage?: string }[];
  last: StateObject[];
}

/**
 * Samples the state directory (as `refit status` reads it) until `done` holds, for at most
 * WAIT_REAL_MS of real time; throws with the last status and the controller's warnings otherwise.
 */
async function sampleUntil(
  stateDir: string,
  done: (s: Samples) => boolean,
  log: { lines: string[] },
): Promise<Samples> {
  const s: Samples = { seen: [], plans: [], last: [] };
  const deadline = Date.now() + WAIT_REAL_MS;
  for (;;) {
    try {
      s.last = await readState(stateDir);
    } catch {
      // A file listed but replaced before it was read: the next sample sees the new one.
    }
    for (const o of s.last) {
      if (o.kind === "HostPatch" && o.status?.phase) {
        const lastError = o.status.lastError as { reason?: string } | undefined;
        s.seen.push({
          host: String(o.spec.host),
          phase: o.status.phase,
          message: o.status.message ?? "",
          ...(lastError?.reason ? { reason: lastError.reason } : {}),
        });
      }
      if (o.kind === "HostPatchPlan") {
        const ready = o.status?.conditions?.find((c) => c.type === "Ready");
        s.plans.push({
          phase: o.status?.phase ?? "",
          ...(ready ? { readyReason: ready.reason, readyMessage: ready.message ?? "" } : {}),
        });
      }
    }
    if (done(s)) return s;
    if (Date.now() > deadline)
      throw new Error(
        `the expected status did not appear within ${WAIT_REAL_MS} ms.\nstatus:\n${summary(s.last)}\nlog:\n${log.lines.slice(-20).join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function startController(desired: string, state: string, clock: ScaledClock, log: Logger) {
  controller = await Controller.open({
    desiredDir: desired,
    stateDir: state,
    clock,
    log,
    killSwitchPath: join(state, "STOP"),
    timing: TIMING,
  });
  await controller.start();
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

const DISRUPTIVE = ["Upgrading", "Evacuating", "Rebooting", "AwaitingReturn", "Verifying", "Restoring"];

describe("host patch failures (simulator over SSH)", () => {
  it("a node that never returns from its reboot fails with NodeDidNotReturn, stalls the plan, touches no other node, and --once exits 1", async () => {
    const clock = new ScaledClock(SCALE);
    sim = await startSimulatorRetrying({ fleet: join(FLEETS, "rolling.yaml"), clock });
    sim.faults.add({ kind: "neverReturns", host: "pve1" });
    const desired = simDesiredState(sim, plan("  reboot: { returnTimeout: 5m }\n"));
    const bootBefore = sim.history().bootIds;
    const { code, state, out, err, objects } = await runOnce({
      desired,
      clock,
      timing: TIMING,
      checkEveryMs: 50,
    });
    const hp = byHost(objects);
    const planObj = objects.find((o) => o.kind === "HostPatchPlan");
    expect({ code, out, err, status: summary(objects) }).toMatchObject({ code: 1 });
    expect(out.join("\n")).toMatch(/HostPatchPlan\/pve-nodes: stalled/);
    expect(hp.pve1?.status?.phase).toBe("Failed");
    expect(hp.pve1?.status?.lastError).toMatchObject({ reason: "NodeDidNotReturn" });
    expect(hp.pve1?.status?.message).toMatch(/pve1 did not come back within 5m/);
    expect(planObj?.status?.phase).toBe("Stalled");
    expect(planObj?.status?.conditions?.find((c) => c.type === "Stalled")).toMatchObject({
      status: "True",
    });
    expect(planObj?.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
    });
    // pve2 (next in the rolling order) never started: no upgrade, no drain, no reboot.
    expect(hp.pve2?.status?.phase).not.toMatch(/Succeeded|Failed/);
    expect(DISRUPTIVE).not.toContain(hp.pve2?.status?.phase);
    const pve2History = join(state, "history", "HostPatch", "pve-lab-pve2.jsonl");
    const pve2Steps = existsSync(pve2History)
      ? readFileSync(pve2History, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { step: string; outcome: string })
      : [];
    // Only the download ahead of its turn (prefetch), which installs nothing, may have started.
    expect(pve2Steps.filter((e) => e.outcome === "started" && e.step !== "prefetch")).toEqual([]);

    const history = sim.history();
    // pve1 went down once and never came back: its boot ids are unchanged.
    expect(history.bootIds.pve1).toEqual(bootBefore.pve1);
    expect(history.bootIds.pve2).toEqual(bootBefore.pve2);
    expect(history.bootIds.pve3).toEqual(bootBefore.pve3);
    expect(history.migrations.filter((m) => m.from === "pve2" || m.from === "pve3")).toEqual([]);
    expect(mutating(history, ["pve2", "pve3"])).toEqual([]);
    // The reboot was issued exactly once.
    expect(
      history.commands.filter((c) => c.host === "pve1" && /systemctl reboot/.test(c.command)),
    ).toHaveLength(1);
  }, 120_000);

  it("a node that is down before the cycle blocks the others on allNodesOnline, and nothing is upgraded or rebooted", async () => {
    const clock = new ScaledClock(SCALE);
    sim = await startSimulatorRetrying({ fleet: join(FLEETS, "failures-offline.yaml"), clock });
    const desired = simDesiredState(sim, plan());
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const bootBefore = sim.history().bootIds;
    const log = recordingLogger();
    await startController(desired, state, clock, log);

    const blockedOnOnline = (s: Samples, host: string): boolean =>
      s.seen.some(
        (x) => x.host === host && x.phase === "Blocked" && /allNodesOnline \(offline: pve3/.test(x.message),
      );
    const s = await sampleUntil(state, (x) => blockedOnOnline(x, "pve1") && blockedOnOnline(x, "pve2"), log);
    await controller?.stop();
    controller = undefined;

    expect(s.seen.filter((x) => DISRUPTIVE.includes(x.phase))).toEqual([]);
    expect(
      s.plans.some((p) => p.readyReason === "TargetBlocked" && /allNodesOnline/.test(p.readyMessage ?? "")),
    ).toBe(true);
    const history = sim.history();
    expect(history.bootIds).toEqual(bootBefore);
    expect(history.migrations).toEqual([]);
    expect(mutating(history)).toEqual([]);
    const snap = sim.snapshot();
    expect(snap.hosts.pve1?.apt.installed["pve-manager"]?.version).toBe("8.4.1");
    expect(snap.hosts.pve2?.apt.installed["pve-manager"]?.version).toBe("8.4.1");
  }, 90_000);

  it("a node someone else left in HA maintenance is reported on the cluster and its patch, and is not touched", async () => {
    const clock = new ScaledClock(SCALE);
    sim = await startSimulatorRetrying({ fleet: join(FLEETS, "rolling.yaml"), clock });
    expect((await run(sim, "pve2", "ha-manager crm-command node-maintenance enable pve1")).code).toBe(0);
    // The CRM acts on the request in one of its next rounds.
    for (let i = 0; i < 200 && sim.snapshot().clusters["pve-lab"]?.haNodeStatus.pve1 !== "maintenance"; i++)
      await clock.sleep(5_000);
    const desired = simDesiredState(sim, plan("  evacuation: { mode: HAMaintenance }\n"));
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const log = recordingLogger();
    await startController(desired, state, clock, log);

    const s = await sampleUntil(
      state,
      (x) => x.seen.some((h) => h.host === "pve1" && h.phase === "Blocked" && h.reason === "InHaMaintenance"),
      log,
    );
    await controller?.stop();
    controller = undefined;

    const pve1 = byHost(s.last).pve1;
    expect(pve1?.status?.message).toMatch(/did not enable.*node-maintenance disable pve1/);
    const cluster = s.last.find((o) => o.kind === "ProxmoxCluster");
    const nodes = (cluster?.status?.nodes ?? []) as { name: string; haState?: string }[];
    expect(nodes.find((n) => n.name === "pve1")?.haState).toBe("maintenance");
    // Nothing changed on pve1, and Refit did not take it out of maintenance.
    expect(mutating(sim.history(), ["pve1"])).toEqual([]);
    expect(sim.history().ha.filter((e) => e.node === "pve1" && e.event === "maintenance-disable")).toEqual(
      [],
    );
  }, 90_000);

  it("a reboot that would lose quorum (two-node cluster) is Blocked on keepsQuorum, and nothing moves", async () => {
    const clock = new ScaledClock(SCALE);
    sim = await startSimulatorRetrying({ fleet: join(FLEETS, "failures-two-node.yaml"), clock });
    const desired = simDesiredState(sim, plan());
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const bootBefore = sim.history().bootIds;
    const log = recordingLogger();
    await startController(desired, state, clock, log);

    const s = await sampleUntil(
      state,
      (x) =>
        x.seen.some(
          (h) =>
            h.host === "pve1" &&
            h.phase === "Blocked" &&
            /keepsQuorum \(rebooting pve1 would lose quorum: 1 votes remain, quorum needs 2\)/.test(
              h.message,
            ),
        ),
      log,
    );
    await controller?.stop();
    controller = undefined;

    expect(s.seen.filter((x) => DISRUPTIVE.includes(x.phase))).toEqual([]);
    const history = sim.history();
    expect(history.bootIds).toEqual(bootBefore);
    expect(history.migrations).toEqual([]);
    expect(mutating(history)).toEqual([]);
  }, 90_000);

  it("an unmovable guest (PCI passthrough) with policy Block blocks its node before anything moves, naming the guest", async () => {
    const clock = new ScaledClock(SCALE);
    sim = await startSimulatorRetrying({ fleet: join(FLEETS, "failures-unmovable.yaml"), clock });
    const desired = simDesiredState(sim, plan("  evacuation: { unmovable: Block }\n"));
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const bootBefore = sim.history().bootIds;
    const log = recordingLogger();
    await startController(desired, state, clock, log);

    const s = await sampleUntil(
      state,
      (x) =>
        x.seen.some((h) => h.host === "pve1" && h.phase === "Blocked" && h.reason === "UnmovableGuest") &&
        x.plans.some((p) => p.readyReason === "TargetBlocked"),
      log,
    );
    await controller?.stop();
    controller = undefined;

    const blocked = s.seen.find(
      (h) => h.host === "pve1" && h.phase === "Blocked" && h.reason === "UnmovableGuest",
    );
    expect(blocked?.message).toMatch(/cannot evacuate pve1: VM 300 \(gpu1\) uses local devices \(hostpci0\)/);
    expect(blocked?.message).toMatch(/Nothing was moved/);
    expect(s.plans.find((p) => p.readyReason === "TargetBlocked")?.readyMessage).toMatch(
      /pve1 .*VM 300 \(gpu1\)/,
    );
    const history = sim.history();
    // VM 301 could have moved; Block means nothing moves while any guest cannot.
    expect(history.migrations).toEqual([]);
    expect(history.bootIds).toEqual(bootBefore);
    expect(history.commands.filter((c) => /systemctl reboot|qm migrate|pct migrate/.test(c.command))).toEqual(
      [],
    );
    const snap = sim.snapshot();
    expect([snap.guests["300"]?.node, snap.guests["301"]?.node]).toEqual(["pve1", "pve1"]);
    expect([snap.guests["300"]?.status, snap.guests["301"]?.status]).toEqual(["running", "running"]);
  }, 90_000);

  it("a guest no other node has memory for blocks its node (InsufficientMemory) before anything moves", async () => {
    const clock = new ScaledClock(SCALE);
    sim = await startSimulatorRetrying({ fleet: join(FLEETS, "failures-no-memory.yaml"), clock });
    const desired = simDesiredState(sim, plan());
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const bootBefore = sim.history().bootIds;
    const log = recordingLogger();
    await startController(desired, state, clock, log);

    const s = await sampleUntil(
      state,
      (x) =>
        x.seen.some((h) => h.host === "pve1" && h.phase === "Blocked" && h.reason === "InsufficientMemory"),
      log,
    );
    await controller?.stop();
    controller = undefined;

    const blocked = s.seen.find(
      (h) => h.host === "pve1" && h.phase === "Blocked" && h.reason === "InsufficientMemory",
    );
    expect(blocked?.message).toMatch(
      /cannot evacuate pve1: VM 400 \(bigdb\) needs 12\.0 GiB but the most any other node has free beyond the 10% headroom is \d+\.\d GiB/,
    );
    const history = sim.history();
    expect(history.migrations).toEqual([]);
    expect(history.bootIds).toEqual(bootBefore);
    expect(history.commands.filter((c) => /systemctl reboot|qm migrate|pct migrate/.test(c.command))).toEqual(
      [],
    );
    const snap = sim.snapshot();
    expect([snap.guests["400"]?.node, snap.guests["401"]?.node]).toEqual(["pve1", "pve1"]);
  }, 90_000);
});
