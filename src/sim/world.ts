import { EventEmitter, setMaxListeners } from "node:events";
import type { Clock } from "../clock.js";
import { FaultRegistry } from "./faults/registry.js";
import type { Fleet, Timing } from "./fleet-schema.js";
import { buildState } from "./model/build.js";
import type { ClusterState, GuestState, HostState, SimState, TaskRecord } from "./model/state.js";
import { pveUpid } from "./model/upid.js";

export interface SimEventMap {
  /** The host went down: its SSH listener closes and every connection drops. */
  "host-down": [host: string];
  /** The host is up again: its SSH listener accepts connections. */
  "host-up": [host: string];
  /** A guest's power state, services or faults changed (health endpoints re-evaluate). */
  "guest-changed": [vmid: number];
  /** Drop every SSH connection of a host without taking it down. */
  "drop-connections": [host: string];
}

/** Thrown by sim sleeps when the simulator stops; background work unwinds quietly. */
export class SimStopped extends Error {
  constructor() {
    super("simulator stopped");
    this.name = "SimStopped";
  }
}

/**
 * The simulated world: state, clock, faults and the background work that moves time along
 * (reboots, HA rounds, transient units). Commands and the SSH servers work through it.
 */
export class Sim {
  readonly state: SimState;
  readonly timing: Timing;
  readonly faults = new FaultRegistry();
  readonly events = new EventEmitter<SimEventMap>();
  /** Memory held on migration targets while guests move there (vmid → target node). */
  readonly reservations = new Map<number, string>();
  private readonly stopController = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly onError: (where: string, err: unknown) => void;

  constructor(
    readonly fleet: Fleet,
    readonly clock: Clock,
    opts: { onError?: (where: string, err: unknown) => void } = {},
  ) {
    this.timing = fleet.timing;
    this.state = buildState(fleet, clock.now());
    this.onError =
      opts.onError ??
      ((where, err) =>
        process.emitWarning(`sim ${where}: ${err instanceof Error ? err.message : String(err)}`));
    this.events.setMaxListeners(0);
    // Every background sleep (LRM rounds, shutdowns, boot timers) listens on the stop signal.
    setMaxListeners(0, this.stopController.signal);
  }

  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  now(): number {
    return this.clock.now();
  }

  nowSec(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** Sleeps `seconds` of sim time; rejects when `signal` aborts or the simulator stops. */
  async sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    const sig = signal ? AbortSignal.any([signal, this.stopController.signal]) : this.stopController.signal;
    if (sig.aborted) throw this.stopped ? new SimStopped() : abortReason(sig);
    try {
      await this.clock.sleep(Math.max(0, seconds * 1000), sig);
    } catch (e) {
      if (this.stopped) throw new SimStopped();
      throw e;
    }
  }

  /** Runs work in the background; it is awaited by `stop()` and its errors are reported, not thrown. */
  spawn(where: string, work: (signal: AbortSignal) => Promise<void>): void {
    const p = (async () => {
      try {
        await work(this.stopController.signal);
      } catch (e) {
        if (!(e instanceof SimStopped) && !this.stopped) this.onError(where, e);
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  async stop(): Promise<void> {
    this.stopController.abort(new SimStopped());
    await Promise.allSettled([...this.running]);
  }

  host(name: string): HostState | undefined {
    return this.state.hosts[name];
  }

  guest(vmid: number): GuestState | undefined {
    return this.state.guests[String(vmid)];
  }

  cluster(name: string): ClusterState | undefined {
    return this.state.clusters[name];
  }

  clusterOf(host: HostState): ClusterState | undefined {
    return host.cluster ? this.state.clusters[host.cluster] : undefined;
  }

  guestsOn(node: string): GuestState[] {
    return Object.values(this.state.guests)
      .filter((g) => g.node === node)
      .sort((a, b) => a.vmid - b.vmid);
  }

  guestsIn(cluster: string): GuestState[] {
    return Object.values(this.state.guests)
      .filter((g) => g.cluster === cluster)
      .sort((a, b) => a.vmid - b.vmid);
  }

  /** The SSH host living inside a VM, if any. */
  hostOfGuest(guest: GuestState): HostState | undefined {
    return guest.hostName ? this.state.hosts[guest.hostName] : undefined;
  }

  nextPid(host: HostState): number {
    host.nextPid += 1 + Math.floor(Math.random() * 7);
    return host.nextPid;
  }

  /** Starts a PVE task record (visible in /nodes/<n>/tasks --source active until finished). */
  startTask(node: string, type: string, id: string, user = "root@pam"): TaskRecord {
    const host = this.state.hosts[node];
    const pid = host ? this.nextPid(host) : 1000;
    const starttime = this.nowSec();
    const pstart = Math.floor((this.now() - (host?.bootedAt ?? this.now())) / 10);
    const task: TaskRecord = {
      upid: pveUpid(node, pid, pstart, starttime, type, id, user),
      node,
      pid,
      pstart,
      starttime,
      type,
      id,
      user,
    };
    this.state.tasks.push(task);
    if (this.state.tasks.length > 500) this.state.tasks.splice(0, this.state.tasks.length - 500);
    return task;
  }

  finishTask(task: TaskRecord, status: string): void {
    task.status = status;
    task.endtime = this.nowSec();
  }

  /** Records a command line a host ran (history for tests). */
  recordCommand(host: string, command: string, via: "ssh" | "unit" | "pct-exec"): void {
    const h = this.state.history.commands;
    h.push({ host, at: this.now(), command, via });
    if (h.length > 5000) h.splice(0, h.length - 5000);
  }
}

function abortReason(sig: AbortSignal): Error {
  return sig.reason instanceof Error ? sig.reason : new Error("aborted");
}
