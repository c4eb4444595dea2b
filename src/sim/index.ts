import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ScaledClock, type Clock } from "../clock.js";
import "./commands/all.js";
import type { FaultInput, FaultSpec } from "./faults/schema.js";
import type { Fleet, FleetInput } from "./fleet-schema.js";
import { loadFleet } from "./fleet-load.js";
import type { SimHistory, SimState } from "./model/state.js";
import { publish, type PublishRequest } from "./publish.js";
import { HostServer } from "./ssh/host-server.js";
import { clientKey, hostKey, knownHostsLine } from "./ssh/keys.js";
import { Sim } from "./world.js";
import { startBackground } from "./background.js";
import { attachFaultEffects } from "./faults/effects.js";
import { HealthServers, type HealthEndpointInfo } from "./health/servers.js";

export type { FleetInput, Fleet } from "./fleet-schema.js";
export type { FaultInput, FaultSpec } from "./faults/schema.js";
export type { PublishRequest } from "./publish.js";
export type { SimState, SimHistory } from "./model/state.js";
export type { HealthEndpointInfo } from "./health/servers.js";

export interface SimulatorOptions {
  /** A fleet object, or the path of a fleet YAML file. */
  fleet: FleetInput | string;
  /** The clock every sim duration runs on; default a ScaledClock of `timeScale`. */
  clock?: Clock;
  /** Sim seconds per real second when no clock is given (default 1: real time). */
  timeScale?: number;
  /** Where host keys, the client key and known_hosts live; default a temporary directory removed by stop(). */
  stateDir?: string;
  /** Accept this client public key (OpenSSH line or .pub path) instead of generating a pair. */
  clientPublicKey?: string;
  /** Host i listens on basePort + i (default: an ephemeral port each). */
  basePort?: number;
  /** Background errors inside the simulator (default: process warnings). */
  onError?: (where: string, err: unknown) => void;
}

export interface SimHostInfo {
  name: string;
  kind: "pve" | "pbs" | "debian";
  cluster?: string;
  /** For a VM host: the guest it runs in. */
  vmid?: number;
  address: string;
  port: number;
  /** `ssh-ed25519 AAAA…` */
  hostPublicKey: string;
}

export interface SimFaults {
  /** Adds a fault (validated); returns its id. */
  add(fault: FaultInput): string;
  remove(id: string): boolean;
  clear(): void;
  list(): { id: string; spec: FaultSpec; fired: number }[];
}

export interface SimHandle {
  /** The PVE nodes. */
  readonly nodes: SimHostInfo[];
  /** Every SSH endpoint: PVE nodes and VM hosts (PBS). */
  readonly hosts: SimHostInfo[];
  readonly knownHostsPath: string;
  /** The private key to connect with (undefined when a public key was given). */
  readonly clientKeyPath: string | undefined;
  readonly clientPublicKey: string;
  readonly stateDir: string;
  readonly clock: Clock;
  readonly faults: SimFaults;
  host(name: string): SimHostInfo;
  /** Makes a new candidate version available upstream. */
  publish(req: PublishRequest): void;
  /** A deep copy of the whole model. */
  snapshot(): SimState;
  /** A deep copy of the history: boot ids per host, migrations, guest stop/start events, commands. */
  history(): SimHistory;
  healthEndpoints(): HealthEndpointInfo[];
  /** The live world, for tests that need to reach inside (read it; change it only through commands). */
  readonly world: Sim;
  stop(): Promise<void>;
}

/** Starts a simulated Proxmox fleet: one SSH server per host on loopback. */
export async function startSimulator(opts: SimulatorOptions): Promise<SimHandle> {
  const fleet: Fleet = loadFleet(typeof opts.fleet === "string" ? resolve(opts.fleet) : opts.fleet);
  const clock = opts.clock ?? new ScaledClock(opts.timeScale ?? 1);
  const ownsStateDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), "refit-sim-"));
  const sim = new Sim(fleet, clock, { onError: opts.onError });
  const client = clientKey(stateDir, opts.clientPublicKey ? { publicKey: opts.clientPublicKey } : undefined);

  const servers: { server: HostServer; info: SimHostInfo }[] = [];
  const health = new HealthServers(sim);
  const stopAll = async (): Promise<void> => {
    await sim.stop();
    await Promise.all(servers.map((s) => s.server.stop()));
    await health.stop();
  };
  try {
    const hostNames = Object.keys(sim.state.hosts);
    const listen = new Map<string, { address?: string; port: number }>();
    for (const c of fleet.clusters) {
      for (const n of c.nodes) listen.set(n.name, n.listen);
      for (const g of c.guests)
        if (g.host || g.pbs) listen.set(g.host?.name ?? g.name, g.host?.listen ?? { port: 0 });
    }
    for (const [i, name] of hostNames.entries()) {
      const host = sim.state.hosts[name]!;
      const key = hostKey(stateDir, name);
      const server = new HostServer(sim, host, key.privateKey, client.publicKey);
      const l = listen.get(name) ?? { port: 0 };
      const port = l.port !== 0 ? l.port : opts.basePort !== undefined ? opts.basePort + i : 0;
      await server.start(l.address ?? `127.0.1.${i + 1}`, port);
      servers.push({
        server,
        info: {
          name,
          kind: host.kind === "pve" ? "pve" : host.pbs ? "pbs" : "debian",
          cluster: host.cluster ?? (host.vmid !== undefined ? sim.guest(host.vmid)?.cluster : undefined),
          vmid: host.vmid,
          address: server.address,
          port: server.port,
          hostPublicKey: key.publicKey,
        },
      });
    }
    await health.start();
  } catch (e) {
    await stopAll();
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }

  const knownHostsPath = join(stateDir, "known_hosts");
  writeFileSync(
    knownHostsPath,
    servers
      .map((s) => `${knownHostsLine(s.info.address, s.info.port, s.info.hostPublicKey, s.info.name)}\n`)
      .join(""),
  );
  attachFaultEffects(sim);
  for (const f of fleet.faults) sim.faults.add(f);
  startBackground(sim);

  const infos = servers.map((s) => s.info);
  let stopped = false;
  return {
    nodes: infos.filter((i) => i.kind === "pve"),
    hosts: infos,
    knownHostsPath,
    clientKeyPath: client.privateKeyPath,
    clientPublicKey: client.publicKey,
    stateDir,
    clock,
    world: sim,
    faults: {
      add: (f) => sim.faults.add(f),
      remove: (id) => sim.faults.remove(id),
      clear: () => sim.faults.clear(),
      list: () => sim.faults.list(),
    },
    host(name) {
      const i = infos.find((x) => x.name === name);
      if (!i) throw new Error(`no simulated host '${name}'`);
      return i;
    },
    publish: (req) => publish(sim, req),
    snapshot: () => structuredClone(sim.state),
    history: () => structuredClone(sim.state.history),
    healthEndpoints: () => health.list(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
