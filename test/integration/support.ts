/**
 * Shared setup for the integration tests: a simulator on a scaled clock and one SshPool per test,
 * both stopped afterwards, and a poll helper that waits in simulator time.
 */
import { afterEach } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { PveActions, PveReader } from "../../src/pve/index.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import {
  SshPool,
  jobStatus,
  type HostExec,
  type JobStatus,
  type SshPoolOptions,
} from "../../src/ssh/index.js";
import { simExec } from "../support/sim-ssh.js";

export const THREE_NODE = new URL("../sim/fleets/three-node.yaml", import.meta.url).pathname;

/** Sim seconds per real second: a 90 s reboot takes 1.8 s, an HA round 0.2 s. */
export const SCALE = 50;

export interface Lab {
  readonly sim: SimHandle;
  readonly pool: SshPool;
  exec(host: string): HostExec;
  reader(host: string): PveReader;
  actions(host: string): PveActions;
  /** Opens another pool on the same simulator (closed after the test too). */
  newPool(opts?: SshPoolOptions): SshPool;
}

const running: { sim: SimHandle; pools: SshPool[] }[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    for (const p of r.pools) p.close();
    await r.sim.stop();
  }
});

/** Starts a simulator (three-node.yaml unless told otherwise); it is stopped after the test. */
export async function startLab(
  fleet: FleetInput | string = THREE_NODE,
  poolOpts: SshPoolOptions = {},
): Promise<Lab> {
  const sim = await startSimulator({ fleet, clock: new ScaledClock(SCALE) });
  const entry = { sim, pools: [] as SshPool[] };
  running.push(entry);
  const newPool = (opts: SshPoolOptions = {}): SshPool => {
    const p = new SshPool(opts);
    entry.pools.push(p);
    return p;
  };
  const pool = newPool(poolOpts);
  return {
    sim,
    pool,
    exec: (host) => simExec(pool, sim, host),
    reader: (host) => new PveReader(simExec(pool, sim, host)),
    actions: (host) => new PveActions(simExec(pool, sim, host)),
    newPool,
  };
}

/**
 * Polls `check` until it returns a value other than undefined, sleeping `everySimMs` of simulator
 * time between tries; gives up (throwing `what`) after `maxSimMs` of simulator time.
 */
export async function until<T>(
  sim: SimHandle,
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  { everySimMs = 1_000, maxSimMs = 1_800_000 }: { everySimMs?: number; maxSimMs?: number } = {},
): Promise<T> {
  const deadline = sim.clock.now() + maxSimMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (sim.clock.now() > deadline) {
      const detail = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`gave up waiting for ${what}${detail}`);
    }
    await sim.clock.sleep(everySimMs);
  }
}

/** Polls a remote job until it has a result (exited, failed or timed-out). */
export function jobFinished(lab: Lab, exec: HostExec, id: string): Promise<JobStatus> {
  return until(lab.sim, `job ${id} to finish`, async () => {
    const s = await jobStatus(exec, id);
    return s.state === "running" || s.state === "unknown" ? undefined : s;
  });
}
