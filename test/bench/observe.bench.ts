/**
 * Observing the full state of 50 nodes (observeNode with pending updates) in parallel: each node
 * must cost ONE round trip, and because the nodes are independent the whole fleet should take about
 * as long as one node does.
 */
import { observeNode, type Observed } from "../../src/pve/index.js";
import { SshPool } from "../../src/ssh/index.js";
import { CountingExec, simTarget } from "../support/sim-ssh.js";
import { generatedFleet } from "./support/fleet.js";
import { countRow, ms, type BenchReport, type BenchRow } from "./support/report.js";
import { startSimChild, type SimChild } from "./support/sim-child.js";

const NODES = 50;
const WARM_ROUNDS = 5;
/** Fleet time within this multiple of one node's time counts as "close to 1x". */
const RATIO_GOAL = 2;

export async function run(): Promise<BenchReport> {
  const sim = await startSimChild(generatedFleet(NODES));
  try {
    const names = sim.endpoints.hosts.map((h) => h.name);
    const first = names[0] ?? "";

    // One node alone, on a pool of its own: first with connecting, then on the open connection.
    const onePool = new SshPool();
    const one = new CountingExec(onePool.host(simTarget(sim.endpoints, first)));
    const oneCold = await timed(() => observeAll([one]));
    const oneWarm = await rounds(sim, WARM_ROUNDS, () => observeAll([one]));
    onePool.close();

    const fleetPool = new SshPool();
    const execs = names.map((n) => new CountingExec(fleetPool.host(simTarget(sim.endpoints, n))));
    const fleetCold = await timed(() => observeAll(execs));
    const coldCalls = execs.reduce((s, e) => s + e.count, 0);
    const coldCommands = fleetPool.stats().commandsRun;
    const fleetWarm = await rounds(sim, WARM_ROUNDS, () => observeAll(execs));
    const stats = fleetPool.stats();
    fleetPool.close();

    const ratioRow = (name: string, fleetMs: number, oneMs: number): BenchRow => ({
      name,
      value: ms(fleetMs),
      bound: `1 node: ${ms(oneMs)}`,
      ratio: fleetMs / oneMs,
      verdict: fleetMs / oneMs <= RATIO_GOAL ? "GOAL MET" : "BELOW GOAL",
    });
    return {
      title: `observe: observeNode (with pending updates) on ${NODES} nodes in parallel`,
      rows: [
        countRow("round trips per node (HostExec calls)", coldCalls / NODES, "=", 1),
        countRow("round trips per node (pool commandsRun)", coldCommands / NODES, "=", 1),
        countRow("connections opened", stats.connectionsOpened, "=", NODES),
        ratioRow(`wall time, ${NODES} nodes, connecting`, fleetCold.ms, oneCold.ms),
        ratioRow(
          `wall time, ${NODES} nodes, connected (median of ${WARM_ROUNDS})`,
          fleetWarm.medianMs,
          oneWarm.medianMs,
        ),
        {
          name: "client CPU per connected fleet round",
          value: ms(fleetWarm.clientCpuMs),
          bound: `1 node: ${ms(oneWarm.clientCpuMs)}`,
          ratio: fleetWarm.clientCpuMs / oneWarm.clientCpuMs,
          verdict: "INFO",
        },
        {
          name: "simulator CPU per connected fleet round",
          value: ms(fleetWarm.simCpuMs),
          bound: `fleet wall: ${ms(fleetWarm.meanMs)}`,
          ratio: fleetWarm.simCpuMs / fleetWarm.meanMs,
          verdict: "INFO",
        },
      ],
      notes: [
        `ratio = fleet time / one node's time (goal ≤ ${RATIO_GOAL}x, ideal 1x); simulator in a child process on real time`,
        "every observed part was checked to be available (a failed part would crash the benchmark)",
        "the simulator serves all nodes from ONE process: when its CPU per round is close to the fleet's wall",
        "time (CPU ratio near 1x) the wall-time ratio measures the simulator, and the client's share is its CPU row",
      ],
    };
  } finally {
    await sim.stop();
  }
}

/** Observes every node and insists every part came back, so the timing is of successful reads. */
async function observeAll(execs: readonly CountingExec[]): Promise<void> {
  await Promise.all(
    execs.map(async (exec) => {
      const obs = await observeNode(exec, exec.host, { pendingUpdates: true, timeoutMs: 120_000 });
      const parts = Object.entries(obs) as [string, Observed<unknown> | string | undefined][];
      const missing = parts.flatMap(([k, v]) =>
        typeof v === "object" && !v.ok ? [`${k}: ${v.reason}: ${v.message}`] : [],
      );
      if (missing.length > 0)
        throw new Error(`observeNode(${exec.host}) left parts unavailable: ${missing.join("; ")}`);
    }),
  );
}

interface Rounds {
  medianMs: number;
  meanMs: number;
  /** Mean per round, this process (the SSH client and the parsers). */
  clientCpuMs: number;
  /** Mean per round, the simulator's process. */
  simCpuMs: number;
}

async function rounds(sim: SimChild, count: number, fn: () => Promise<void>): Promise<Rounds> {
  const times: number[] = [];
  const simBefore = await sim.cpuMs();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < count; i++) times.push((await timed(fn)).ms);
  const cpu = process.cpuUsage(cpuBefore);
  const simCpu = (await sim.cpuMs()) - simBefore;
  times.sort((a, b) => a - b);
  return {
    medianMs: times[Math.floor(times.length / 2)] ?? 0,
    meanMs: times.reduce((a, b) => a + b, 0) / count,
    clientCpuMs: (cpu.user + cpu.system) / 1000 / count,
    simCpuMs: simCpu / count,
  };
}

async function timed(fn: () => Promise<void>): Promise<{ ms: number }> {
  const start = performance.now();
  await fn();
  return { ms: performance.now() - start };
}
