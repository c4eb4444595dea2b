import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { createLogger } from "../../src/log/logger.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import { runController } from "../../controller/cli/commands/run.js";
import { outboxDir, type OutboxEntry } from "../../controller/notify/outbox.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { placement, ROLLING_HOME, rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { freePort, startServer, type TestServer } from "../notify/support/http-server.js";

const FLEET = join(import.meta.dirname, "fleets", "rolling.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
/** The plan's `notifications.maxWait` when it sets none. */
const BOUND_MS = 15_000;
/** Scheduling noise at 50× (one real second is 50 s of sim time); a held reboot would take hours. */
const SLACK_MS = 60_000;

let sim: SimHandle | undefined;
let receiver: TestServer | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await sim?.stop();
  sim = undefined;
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

/** The rolling plan notifying a webhook channel whose URL (a secret file) points at `port`. */
function desiredWithHook(s: SimHandle, port: number, channelSpec: string): string {
  const plan = rollingPlan(`  notifications:\n    channelRefs:\n      - name: ops-webhook\n`);
  const channel = `apiVersion: refit.dev/v1alpha1
kind: NotificationChannel
metadata:
  name: ops-webhook
spec:
  type: webhook
  url: { file: hook-url }
${channelSpec}`;
  const dir = simDesiredState(s, `${plan}---\n${channel}`);
  writeFileSync(join(dir, "hook-url"), `http://127.0.0.1:${port}/hooks/refit\n`);
  return dir;
}

function outbox(state: string): OutboxEntry[] {
  const dir = outboxDir(state);
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")) as OutboxEntry);
}

async function runOnce(desired: string, state: string, clock: ScaledClock): Promise<void> {
  const { io: cliIo, out, err } = io();
  const code = await runController(
    { desired, state, once: true, killSwitch: join(state, "STOP"), clock, timing: TIMING, checkEveryMs: 100 },
    cliIo,
  );
  expect({ code, out, err }).toMatchObject({ code: 0 });
}

describe("a dead notification channel never holds the fleet (simulator over SSH)", () => {
  it("reboots each node after at most the bound, records the failed delivery on the HostPatch, and finishes the cycle", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const port = await freePort(); // nothing listens here
    // Without the outbox, the BeforeReboot notice would wait through 30 s × (2^8 − 1) ≈ 2 h of retries.
    const desired = desiredWithHook(sim, port, "  retries: 8\n  retryBackoff: 30s\n");
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    const bootBefore = sim.history().bootIds;
    const startedAt = clock.now();
    await runOnce(desired, state, clock);
    const cycleMs = clock.now() - startedAt;

    const patches = (await readState(state)).filter((o) => o.kind === "HostPatch");
    const byHost = Object.fromEntries(patches.map((p) => [String(p.spec.host), p]));
    expect(Object.fromEntries(patches.map((p) => [String(p.spec.host), p.status?.phase]))).toEqual({
      pve1: "Succeeded",
      pve2: "Succeeded",
      pve3: "Skipped",
    });
    const history = sim.history();
    expect(history.bootIds.pve1?.length).toBe((bootBefore.pve1?.length ?? 1) + 1);
    expect(history.bootIds.pve2?.length).toBe((bootBefore.pve2?.length ?? 1) + 1);
    expect(placement(sim.snapshot())).toEqual(ROLLING_HOME);

    const held: Record<string, number> = {};
    for (const host of ["pve1", "pve2"]) {
      const status = byHost[host]?.status as
        | {
            rebootIssuedAt?: string;
            notices?: {
              event: string;
              id: string;
              waitedMs: number;
              channels: { name: string; state: string; attempts: number; message?: string }[];
            }[];
          }
        | undefined;
      // The reboot went out once the bound had passed, by the simulator's clock, not after the retries.
      const decided = Date.parse(status?.rebootIssuedAt ?? "");
      const reboot = history.commands.find(
        (c) => c.host === host && c.at >= decided && /systemctl reboot/.test(c.command),
      );
      expect(reboot, `${host} got the reboot command`).toBeDefined();
      held[host] = (reboot?.at ?? 0) - decided;
      expect(held[host]).toBeGreaterThanOrEqual(BOUND_MS - 1_000);
      expect(held[host]).toBeLessThanOrEqual(BOUND_MS + SLACK_MS);
      // And the HostPatch says the notice was not delivered, and why.
      expect(status?.notices).toHaveLength(1);
      const notice = status?.notices?.[0];
      expect(notice).toMatchObject({
        event: "BeforeReboot",
        id: `HostPatchPlan/pve-nodes/BeforeReboot/${host}/${String(byHost[host]?.spec.cycle)}`,
      });
      expect(notice?.waitedMs).toBeGreaterThanOrEqual(BOUND_MS - 1_000);
      expect(notice?.channels).toHaveLength(1);
      expect(notice?.channels[0]).toMatchObject({ name: "ops-webhook", state: "Pending" });
      expect(notice?.channels[0]?.attempts).toBeGreaterThanOrEqual(1);
      expect(notice?.channels[0]?.message).toMatch(
        /^webhook POST to ops-webhook failed: connection refused \(ECONNREFUSED\) \(attempt \d+\/9\)$/,
      );
    }
    // What is owed stays in the outbox for the background sender.
    const owed = outbox(state).filter((e) => e.channels.some((c) => c.state === "Pending"));
    expect(owed.map((e) => e.event.event).sort()).toEqual(
      expect.arrayContaining(["BeforeReboot", "BeforeReboot", "PlanStarted"]),
    );
    console.log(
      `dead channel: cycle ${Math.round(cycleMs / 1000)} s of sim time; reboot held ${Object.entries(held)
        .map(([h, ms]) => `${h} ${(ms / 1000).toFixed(1)} s`)
        .join(", ")} (bound ${BOUND_MS / 1000} s)`,
    );
  }, 180_000);

  it("a receiver that comes up later gets each owed event exactly once after a controller restart", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const port = await freePort();
    // Long backoff: nothing is given up on while the receiver is down.
    const desired = desiredWithHook(sim, port, "  retries: 20\n  retryBackoff: 10m\n");
    const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
    await runOnce(desired, state, clock);
    const owed = outbox(state).filter((e) => e.channels.some((c) => c.state === "Pending"));
    const owedIds = owed.map((e) => e.event.id).sort();
    expect(owed.map((e) => e.event.event).sort()).toEqual([
      "BeforeReboot",
      "BeforeReboot",
      "PlanStarted",
      "PlanSucceeded",
    ]);

    receiver = await startServer(() => ({ status: 204 }), { port });
    const log = createLogger({ pretty: false, level: "warn" });
    const open = (): Promise<Controller> =>
      Controller.open({
        desiredDir: desired,
        stateDir: state,
        clock,
        log,
        killSwitchPath: join(state, "STOP"),
        timing: TIMING,
        watch: false,
      });
    const restarted = await open();
    await restarted.start();
    await Promise.race([
      receiver.waitForRequests(owed.length),
      new Promise((_r, reject) => setTimeout(() => reject(new Error("owed events not resent")), 30_000)),
    ]);
    // Give a duplicate every chance to show up before stopping.
    await new Promise((r) => setTimeout(r, 1_500));
    await restarted.stop();
    const received = receiver.requests.map((r) => String(r.headers["x-refit-event-id"]));
    expect([...received].sort()).toEqual(owedIds);
    // Each received event is the one recorded, once; nothing delivered before is sent again.
    expect(new Set(received).size).toBe(received.length);
    for (const r of receiver.requests) {
      const body = JSON.parse(r.body) as { id: string };
      expect(body.id).toBe(r.headers["x-refit-event-id"]);
    }
    expect(outbox(state).flatMap((e) => e.channels.map((c) => c.state))).not.toContain("Pending");
    console.log(
      `receiver up later: ${owed.length} owed (${owed.map((e) => e.event.event).join(", ")}), ` +
        `${received.length} received after the restart, attempts before it ${owed
          .map((e) => e.channels[0]?.attempts ?? 0)
          .join("/")}`,
    );

    // A further restart owes nothing and sends nothing.
    const count = receiver.requests.length;
    const again = await open();
    await again.start();
    await new Promise((r) => setTimeout(r, 1_500));
    await again.stop();
    expect(receiver.requests.length).toBe(count);
  }, 180_000);
});
