/**
 * Reaching the simulator through the project's own SSH client: SshTargets whose identity is the
 * simulator's client key and whose only trust anchor is the known_hosts file the simulator wrote, so
 * every connection verifies the host key exactly as production does.
 */
import { fileSource, identityFromFile } from "../../src/ssh/index.js";
import type { ExecOptions, ExecResult, HostExec, SshPool, SshTarget } from "../../src/ssh/index.js";

/** What sim-ssh needs from a simulator: a SimHandle, or the same facts passed from another process. */
export interface SimEndpoints {
  readonly hosts: readonly { readonly name: string; readonly address: string; readonly port: number }[];
  readonly knownHostsPath: string;
  readonly clientKeyPath: string | undefined;
}

/** The SshTarget for one simulated host (a PVE node or a VM host such as the PBS). */
export function simTarget(sim: SimEndpoints, hostName: string): SshTarget {
  const info = sim.hosts.find((h) => h.name === hostName);
  if (!info) {
    throw new Error(`no simulated host '${hostName}' (hosts: ${sim.hosts.map((h) => h.name).join(", ")})`);
  }
  if (sim.clientKeyPath === undefined) {
    throw new Error("the simulator was started with an external client key; sim-ssh needs its private key");
  }
  return {
    name: info.name,
    host: info.address,
    port: info.port,
    user: "root",
    identity: identityFromFile(sim.clientKeyPath),
    knownHosts: fileSource(sim.knownHostsPath, "known_hosts file"),
  };
}

/**
 * The HostExec for one simulated host through `pool`. Give the pool a real-time clock (the default)
 * so command timeouts are safety bounds a busy machine cannot trip, while the simulator's own
 * durations run on its scaled clock; tests of timeouts give the pool a ManualClock and move it.
 */
export function simExec(pool: SshPool, sim: SimEndpoints, hostName: string): HostExec {
  return pool.host(simTarget(sim, hostName));
}

/**
 * A HostExec that records every exec it passes on: lets a test assert how many round trips an
 * operation costs (one per observation for the batched reads).
 */
export class CountingExec implements HostExec {
  readonly calls: string[][] = [];
  constructor(readonly inner: HostExec) {}

  get host(): string {
    return this.inner.host;
  }

  get count(): number {
    return this.calls.length;
  }

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push([...argv]);
    return this.inner.exec(argv, opts);
  }

  reset(): void {
    this.calls.length = 0;
  }
}
