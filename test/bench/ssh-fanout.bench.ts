/**
 * 200 commands issued at once across 20 simulated nodes through ONE SshPool: the pool must open one
 * connection per node, never run more than 8 channels on one, and the fan-out should beat running
 * the same commands one after another by roughly the available parallelism.
 */
import { SshPool } from "../../src/ssh/index.js";
import type { HostExec } from "../../src/ssh/index.js";
import { simTarget, type SimEndpoints } from "../support/sim-ssh.js";
import { generatedFleet } from "./support/fleet.js";
import { countRow, ms, type BenchReport } from "./support/report.js";
import { startSimChild } from "./support/sim-child.js";

const NODES = 20;
const COMMANDS = 200;
const MAX_CHANNELS = 8;
/** Each command holds its channel this long on the (real-time) simulator, like a short remote read. */
const COMMAND_SECONDS = 0.1;
const ARGV = ["sh", "-c", `sleep ${COMMAND_SECONDS}; pveversion`];
/** A speed-up below this means the fan-out is mostly serialised somewhere. */
const SPEEDUP_GOAL = 20;
const TRIVIAL_ROUNDS = 21;
/** A no-op on an open loopback connection should cost a few ms; tens of ms means Nagle + delayed ACK. */
const TRIVIAL_GOAL_MS = 10;

export async function run(): Promise<BenchReport> {
  const sim = await startSimChild(generatedFleet(NODES));
  try {
    const names = sim.endpoints.hosts.map((h) => h.name);
    const assign = (i: number): string => names[i % names.length] ?? "";

    const parallelPool = new SshPool();
    const parallel = await timed(() =>
      Promise.all(
        Array.from({ length: COMMANDS }, (_, i) => runChecked(parallelPool, sim.endpoints, assign(i))),
      ),
    );
    const stats = parallelPool.stats();
    const first = parallelPool.host(simTarget(sim.endpoints, assign(0)));
    const trivial: number[] = [];
    for (let i = 0; i < TRIVIAL_ROUNDS; i++) {
      const t0 = performance.now();
      await first.exec(["true"], { timeoutMs: 10_000 });
      trivial.push(performance.now() - t0);
    }
    trivial.sort((a, b) => a - b);
    const trivialMs = trivial[Math.floor(trivial.length / 2)] ?? 0;
    const perHost = names.map((n) => parallelPool.stats(simTarget(sim.endpoints, n)).peakChannels);
    parallelPool.close();

    const sequentialPool = new SshPool();
    const sequential = await timed(async () => {
      for (let i = 0; i < COMMANDS; i++) await runChecked(sequentialPool, sim.endpoints, assign(i));
    });
    sequentialPool.close();

    const waves = Math.ceil(COMMANDS / NODES / MAX_CHANNELS);
    const ideal = COMMANDS / waves;
    const speedup = sequential.ms / parallel.ms;
    return {
      title: `ssh-fanout: ${COMMANDS} commands at once over ${NODES} nodes, one SshPool`,
      rows: [
        countRow("connections opened", stats.connectionsOpened, "=", NODES),
        countRow("peak channels per connection", Math.max(...perHost), "≤", MAX_CHANNELS),
        countRow("commands run", stats.commandsRun, "=", COMMANDS),
        {
          name: "wall time, all at once",
          value: ms(parallel.ms),
          bound: `sequential: ${ms(sequential.ms)}`,
          ratio: speedup,
          verdict: speedup >= SPEEDUP_GOAL ? "GOAL MET" : "BELOW GOAL",
        },
        {
          name: "`true` on an open connection (median)",
          value: `${trivialMs.toFixed(1)} ms`,
          bound: `goal ≤ ${TRIVIAL_GOAL_MS} ms`,
          ratio: trivialMs / TRIVIAL_GOAL_MS,
          verdict: trivialMs <= TRIVIAL_GOAL_MS ? "GOAL MET" : "BELOW GOAL",
        },
      ],
      notes: [
        `each command: \`sleep ${COMMAND_SECONDS}; pveversion\` on a real-time simulator in a child process; both runs include connecting`,
        `ratio = sequential / parallel (goal ≥ ${SPEEDUP_GOAL}x; ideal ${ideal.toFixed(0)}x = ${COMMANDS} commands in ${waves} waves of ${NODES}×${MAX_CHANNELS} channels)`,
        "a slow no-op on loopback points at TCP_NODELAY missing on the client or simulator sockets (Nagle + delayed ACK)",
        `channel opens retried: ${stats.channelOpenRetries}; commands that waited for a channel were queued, not refused`,
      ],
    };
  } finally {
    await sim.stop();
  }
}

async function runChecked(pool: SshPool, sim: SimEndpoints, name: string): Promise<void> {
  const host: HostExec = pool.host(simTarget(sim, name));
  const r = await host.exec(ARGV, { timeoutMs: 60_000 });
  if (r.exitCode !== 0 || !r.stdout.startsWith("pve-manager/")) {
    throw new Error(`\`${ARGV.join(" ")}\` on ${name} exited ${r.exitCode}: ${r.stderr.trim()}`);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}
