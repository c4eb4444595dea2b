/**
 * The probes against the simulator's health servers (real HTTP/TCP listeners on loopback) and its
 * containers over SSH: a baseline, an "update" that breaks the app, and the comparison that says
 * roll back for what the update broke and not for what was broken before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { baselineAll, compareWithBaseline, probeAll } from "../../src/health/baseline.js";
import { controllerProbeIo } from "../../src/health/local-io.js";
import { containerProbeIo } from "../../src/health/pct-io.js";
import { SshPool } from "../../src/ssh/index.js";
import { simExec } from "../support/sim-ssh.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "../sim/ssh-client.js";
import { check } from "./support.js";

const FLEET = new URL("../sim/fleets/three-node.yaml", import.meta.url).pathname;
let sim: SimHandle;
let pool: SshPool;
beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(1000) });
  pool = new SshPool();
});
afterAll(async () => {
  pool?.close();
  await sim?.stop();
});

/** Commands go through the project's SSH client and pct exec, as in the guest update flow. */
function pctIo(node: string, vmid: number) {
  return containerProbeIo(sim.clock, simExec(pool, sim, node), vmid);
}

describe("health probes against the simulator", () => {
  it("an update that breaks the app fails its check; a check broken before is pre-existing", async () => {
    const web = sim.healthEndpoints().find((e) => e.vmid === 200)!;
    const checks = [
      check({ type: "http", name: "web", url: web.url, interval: "2s", retries: 1 }),
      check({
        type: "command",
        name: "nginx",
        argv: ["systemctl", "is-active", "nginx"],
        outputMatches: "^active$",
        retries: 0,
      }),
      check({ type: "command", name: "cron", argv: ["systemctl", "is-active", "cron"], retries: 0 }),
    ];
    const target = { vmid: 200, address: "127.0.0.1" };
    const io = pctIo("pve1", 200);
    const baseline = await baselineAll(checks, target, io, 2);
    expect(baseline.map((b) => [b.name, b.healthy])).toEqual([
      ["web", true],
      ["nginx", true],
      ["cron", false],
    ]);

    // The "update": app fails when restarted, as a bad upgrade would leave it.
    sim.faults.add({ kind: "serviceFailed", vmid: 200, service: "app", onRestart: true, times: 1 });
    expect((await run(sim, "pve1", "pct exec 200 -- systemctl restart app")).code).toBe(1);
    await eventually(async () => (await fetch(web.url!)).status === 503, "the endpoint to answer 503");

    const after = await probeAll(checks, target, io);
    const web503 = after.find((a) => a.name === "web")!;
    expect(web503.healthy).toBe(false);
    expect(web503.message).toBe(`GET ${web.url} answered 503, expected 200 (2 attempts)`);
    const verdict = compareWithBaseline(baseline, after, checks);
    expect(verdict.failed).toEqual(["web"]);
    expect(verdict.preExisting).toEqual(["cron"]);
    expect(verdict.healthy).toBe(false);

    // Fixed (what a rollback would do): web passes again, cron is still only pre-existing.
    expect((await run(sim, "pve1", "pct exec 200 -- systemctl restart app")).code).toBe(0);
    const fixed = compareWithBaseline(baseline, await probeAll(checks, target, io), checks);
    expect(fixed).toMatchObject({ healthy: true, failed: [], preExisting: ["cron"] });
  });

  it("a tcp endpoint closed by a failed service fails; the container's tcp check from outside passes before", async () => {
    const dns = sim.healthEndpoints().find((e) => e.vmid === 201)!;
    const c = check({ type: "tcp", name: "dns", port: dns.port, retries: 0 });
    const io = controllerProbeIo(sim.clock, () => Promise.reject(new Error("no exec")));
    const target = { vmid: 201, address: dns.address };
    expect((await probeAll([c], target, io))[0]?.healthy).toBe(true);
    sim.faults.add({ kind: "serviceFailed", vmid: 201, service: "unbound", id: "unbound" });
    await eventually(
      async () => (await probeAll([c], target, io))[0]?.healthy === false,
      "the dns check to fail",
    );
    sim.faults.remove("unbound");
  });

  it("probes from inside the container with its own curl; other containers' ports are not its loopback", async () => {
    const web = sim.healthEndpoints().find((e) => e.vmid === 200)!;
    const dns = sim.healthEndpoints().find((e) => e.vmid === 201)!;
    const io = pctIo("pve1", 200);
    const target = { vmid: 200 };
    const inside = check({
      type: "http",
      name: "web",
      port: web.port,
      path: "/healthz",
      from: "container",
      bodyContains: "ok",
      retries: 0,
    });
    expect((await probeAll([inside], target, io))[0]).toMatchObject({ healthy: true });
    const other = check({ type: "http", name: "other", port: dns.port, from: "container", retries: 0 });
    const refused = (await probeAll([other], target, io))[0]!;
    expect(refused.healthy).toBe(false);
    expect(refused.message).toBe(
      `GET http://127.0.0.1:${dns.port}/ inside CT 200 got no response: curl: (7) Failed to connect to 127.0.0.1 port ${dns.port} after 0 ms: Couldn't connect to server (1 attempt)`,
    );
    expect((await run(sim, "pve1", "pct exec 200 -- systemctl stop nginx")).code).toBe(0);
    const down = (await probeAll([inside], target, io))[0]!;
    expect(down.message).toBe(
      `GET http://127.0.0.1:${web.port}/healthz answered 503, expected 200 (1 attempt)`,
    );
    expect((await run(sim, "pve1", "pct exec 200 -- systemctl start nginx")).code).toBe(0);
  });

  it("says so when the container has neither curl nor wget", async () => {
    const dns = sim.healthEndpoints().find((e) => e.vmid === 201)!;
    const r = (
      await probeAll(
        [check({ type: "http", name: "dns", port: dns.port, from: "container", retries: 0 })],
        { vmid: 201 },
        pctIo("pve2", 201),
      )
    )[0]!;
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/neither curl nor wget is installed/);
  });
});

describe("tcp probes from inside a container (nc)", () => {
  it("connect to the container's own port; a stopped service closes it", async () => {
    const own = await startSimulator({
      fleet: new URL("../sim/fleets/backups.yaml", import.meta.url).pathname,
      clock: new ScaledClock(1000),
    });
    const ownPool = new SshPool();
    try {
      const web = own.healthEndpoints().find((e) => e.vmid === 120)!;
      const io = containerProbeIo(own.clock, simExec(ownPool, own, "pve1"), 120);
      const c = check({ type: "tcp", name: "web", port: web.port, from: "container", retries: 0 });
      expect((await probeAll([c], { vmid: 120 }, io))[0]?.healthy).toBe(true);
      expect((await run(own, "pve1", "pct exec 120 -- systemctl stop nginx")).code).toBe(0);
      await eventually(
        async () => (await probeAll([c], { vmid: 120 }, io))[0]?.healthy === false,
        "the port to close",
      );
      const r = (await probeAll([c], { vmid: 120 }, io))[0]!;
      expect(r.message).toBe(
        `tcp connect to 127.0.0.1:${web.port} inside CT 120 failed: nothing accepted the connection (exit 1) (1 attempt)`,
      );
    } finally {
      ownPool.close();
      await own.stop();
    }
  });
});
