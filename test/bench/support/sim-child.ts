/**
 * Runs the simulator in a child process so a benchmark measures the client, not a client and 50
 * simulated servers sharing one event loop (in production the servers have CPUs of their own).
 *
 * Parent side: `startSimChild(fleet)` → endpoints + stop(). Child side: this same file run by fork;
 * it starts the simulator on real time (timeScale 1), sends its endpoints, and stops on "stop" or
 * when the parent goes away.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FleetInput } from "../../../src/sim/index.js";
import type { SimEndpoints } from "../../support/sim-ssh.js";

interface StartMessage {
  type: "start";
  fleet: FleetInput;
}
type ChildReply =
  | { type: "ready"; endpoints: SimEndpoints }
  | { type: "error"; message: string }
  | { type: "cpu"; micros: number };

export interface SimChild {
  readonly endpoints: SimEndpoints;
  /** CPU time (user + system, ms) the simulator process has used so far. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);
const START_TIMEOUT_MS = 60_000;

/**
 * ssh2's ed25519 key generation emits an unparseable key about once in 256 (mscdex/ssh2#1390); a
 * 50-node fleet generates 51 keys, so the simulator fails to start on roughly one run in five until
 * src/sim regenerates such keys. The benchmark starts it again rather than crash, and says so.
 */
const KEYGEN_BUG = /Malformed OpenSSH (public|private) key/;
const START_ATTEMPTS = 4;

export async function startSimChild(fleet: FleetInput): Promise<SimChild> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(fleet);
    } catch (err) {
      if (attempt >= START_ATTEMPTS || !(err instanceof Error) || !KEYGEN_BUG.test(err.message)) throw err;
      console.log(`   (simulator start hit ssh2's ed25519 keygen bug: ${err.message}; starting it again)`);
    }
  }
}

async function startOnce(fleet: FleetInput): Promise<SimChild> {
  const child = fork(SELF, ["--child"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const endpoints = await new Promise<SimEndpoints>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the simulator child did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.once("message", (m: ChildReply) => {
      clearTimeout(timer);
      if (m.type === "ready") resolve(m.endpoints);
      else if (m.type === "error") reject(new Error(`the simulator child failed: ${m.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator child exited (${code}) before it was ready`));
    });
    child.send({ type: "start", fleet } satisfies StartMessage);
  });
  return { endpoints, cpuMs: () => childCpuMs(child), stop: () => stopChild(child) };
}

function childCpuMs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: ChildReply): void => {
      if (m.type !== "cpu") return;
      child.off("message", onMessage);
      resolve(m.micros / 1000);
    };
    child.on("message", onMessage);
    child.send("cpu");
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.send("stop");
  });
}

async function childMain(): Promise<void> {
  const { startSimulator } = await import("../../../src/sim/index.js");
  let stop: (() => Promise<void>) | undefined;
  const shutdown = async (): Promise<void> => {
    await stop?.();
    process.exit(0);
  };
  process.on("disconnect", () => void shutdown());
  process.on("message", (m: StartMessage | "stop" | "cpu") => {
    if (m === "stop") {
      void shutdown();
      return;
    }
    if (m === "cpu") {
      const u = process.cpuUsage();
      process.send?.({ type: "cpu", micros: u.user + u.system } satisfies ChildReply);
      return;
    }
    startSimulator({ fleet: m.fleet, timeScale: 1 }).then(
      (sim) => {
        stop = () => sim.stop();
        const endpoints: SimEndpoints = {
          hosts: sim.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port })),
          knownHostsPath: sim.knownHostsPath,
          clientKeyPath: sim.clientKeyPath,
        };
        process.send?.({ type: "ready", endpoints } satisfies ChildReply);
      },
      (err: unknown) => {
        process.send?.({
          type: "error",
          message: err instanceof Error ? err.message : String(err),
        } satisfies ChildReply);
        process.exit(1);
      },
    );
  });
}

if (process.argv.includes("--child") && process.argv[1] === SELF) await childMain();
