/**
 * Each container has its own network namespace: two containers may both listen on 443 (the example
 * fleet's compose stacks), and their curl/nc reach their own endpoint there. The simulator backs
 * each endpoint with a free loopback port, which is what the handle reports for probes from outside.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { run } from "./ssh-client.js";

const FLEET = new URL("./fleets/example.yaml", import.meta.url).pathname;
let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(1000) });
});
afterAll(async () => {
  await sim?.stop();
});

describe("container health ports are per container", () => {
  it("two stacks both answer on 443 inside, backed by two different loopback ports", async () => {
    const stacks = sim.healthEndpoints().filter((e) => e.vmid === 300 || e.vmid === 301);
    expect(stacks).toHaveLength(2);
    expect(new Set(stacks.map((e) => e.port)).size).toBe(2);
    expect((await run(sim, "pve3", "pct exec 300 -- nc -z -w 2 127.0.0.1 443")).code).toBe(0);
    expect((await run(sim, "pve1", "pct exec 301 -- nc -z -w 2 127.0.0.1 443")).code).toBe(0);
    // 8000 is paperless's port, in its own container only.
    expect((await run(sim, "pve3", "pct exec 300 -- nc -z -w 2 127.0.0.1 8000")).code).toBe(1);
  });

  it("curl inside paperless reaches its app on 8000; a stopped service answers 503 there", async () => {
    const curl = "pct exec 110 -- curl -s -w %{http_code} http://127.0.0.1:8000/healthz";
    expect((await run(sim, "pve1", curl)).stdout).toMatch(/"ok"\}\n200$/);
    expect((await run(sim, "pve1", "pct exec 110 -- systemctl stop paperless-webserver")).code).toBe(0);
    expect((await run(sim, "pve1", curl)).stdout).toMatch(/"down".*\n503$/);
    // From outside, the endpoint is its backing port, not 8000.
    const web = sim.healthEndpoints().find((e) => e.vmid === 110);
    expect(web?.port).not.toBe(8000);
    expect((await fetch(web?.url ?? "")).status).toBe(503);
  });
});
