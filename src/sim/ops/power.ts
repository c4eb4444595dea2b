import { randomUUID } from "node:crypto";
import { clearRun } from "../exec/fs.js";
import { nodeMemoryFree } from "../model/cluster.js";
import { bootKernel } from "../model/kernels.js";
import type { GuestState, HostState } from "../model/state.js";
import { SimStopped, type Sim } from "../world.js";
import { OpError } from "./errors.js";

/**
 * Power for hosts and guests. A host reboot stops its guests, drops SSH (listener closed,
 * connections torn down), stays down for the reboot time, then boots with a new boot_id, an empty
 * /run and the newest (or pinned) kernel, and starts its `onboot` and HA guests again.
 */

type UnitKiller = (sim: Sim, host: HostState) => void;
const unitKillers: UnitKiller[] = [];

/** Lets the transient-unit engine kill a host's units when it goes down (avoids an import cycle). */
export function onHostDown(killer: UnitKiller): void {
  unitKillers.push(killer);
}

type ShutdownHook = (sim: Sim, host: HostState, reason: string) => Promise<void>;
let lrmShutdown: ShutdownHook | undefined;

/** Lets the HA LRM take part in a node shutdown (it stops or freezes HA guests, then exits). */
export function onLrmShutdown(hook: ShutdownHook): void {
  lrmShutdown = hook;
}

/**
 * When each PVE service becomes active after boot, as a share of `timing.servicesStartSeconds`
 * (systemd order from the units' After=: pve-cluster before corosync, pvedaemon/pvestatd after both,
 * pveproxy after pvedaemon, pve-ha-crm after pvedaemon, pve-ha-lrm after pveproxy and pve-ha-crm).
 * ssh, cron, chrony and zfs-zed are up when SSH accepts.
 */
const PVE_START_SHARE: Record<string, number> = {
  "pve-cluster": 0.2,
  corosync: 0.3,
  pvedaemon: 0.5,
  pvestatd: 0.5,
  "pve-firewall": 0.5,
  pvescheduler: 0.6,
  pveproxy: 0.7,
  "pve-ha-crm": 0.8,
  "pve-ha-lrm": 1,
};

/** Takes a host off the network at once: SSH refused, units killed, node offline in the cluster. */
export function hostDown(sim: Sim, host: HostState): void {
  if (host.power === "down") return;
  host.power = "down";
  for (const k of unitKillers) k(sim, host);
  host.apt.lockHolder = undefined;
  sim.events.emit("host-down", host.name);
}

/** Powers a host on: new boot_id, /run cleared, boot kernel chosen, services started, SSH back. */
export function bootHost(sim: Sim, host: HostState): void {
  host.bootId = randomUUID();
  (sim.state.history.bootIds[host.name] ??= []).push(host.bootId);
  clearRun(host.files);
  host.kernelRunning = bootKernel(host);
  host.bootedAt = sim.now();
  host.units = {};
  host.apt.lockHolder = undefined;
  const standalone = sim.clusterOf(host)?.standalone ?? true;
  const later: [string, number][] = [];
  for (const [name, svc] of Object.entries(host.services)) {
    const failing =
      sim.faults.find("serviceFailed", (f) => f.service === name && f.host === host.name) !== undefined;
    const share = host.kind === "pve" ? PVE_START_SHARE[name] : undefined;
    // A standalone node has no corosync membership to wait for (nor an HA stack to start).
    const delay =
      share !== undefined && !(standalone && name === "corosync")
        ? share * sim.timing.servicesStartSeconds
        : 0;
    svc.active = failing ? "failed" : !svc.enabled ? "inactive" : delay > 0 ? "activating" : "active";
    svc.since = sim.now();
    if (svc.active === "activating") later.push([name, delay]);
  }
  if (later.length > 0) {
    const bootId = host.bootId;
    sim.spawn(`services ${host.name}`, async () => {
      let waited = 0;
      for (const [name, delay] of later.sort((a, b) => a[1] - b[1])) {
        await sim.sleep(delay - waited);
        waited = delay;
        const svc = host.services[name];
        if (host.bootId !== bootId || host.power !== "up") return;
        if (svc?.active !== "activating") continue;
        svc.active = "active";
        svc.since = sim.now();
      }
    });
  }
  host.power = "up";
  // wait_for_all (on with two_node): a node that starts is quorate only once it has seen every node.
  if (sim.clusterOf(host)?.twoNode) host.waitingForAll = true;
  sim.state.history.reboots.push({ host: host.name, at: sim.now(), kernel: host.kernelRunning });
  sim.events.emit("host-up", host.name);
  if (host.kind === "pve") startGuestsAfterBoot(sim, host);
}

function startGuestsAfterBoot(sim: Sim, host: HostState): void {
  const toStart = sim
    .guestsOn(host.name)
    // HA services are started by the CRM once it sees the node again (they were frozen).
    .filter((g) => g.status !== "running" && !g.ha && g.onboot)
    .sort((a, b) => a.vmid - b.vmid);
  if (toStart.length === 0) return;
  const bootId = host.bootId;
  sim.spawn(`onboot ${host.name}`, async () => {
    // pve-guests.service (startall) is ordered after pveproxy, pve-ha-crm and pve-ha-lrm.
    await sim.sleep(sim.timing.servicesStartSeconds);
    if (host.bootId !== bootId) return;
    for (const g of toStart) {
      if (host.power !== "up" || g.node !== host.name || g.status === "running") continue;
      try {
        await startGuest(sim, g, "onboot");
      } catch (e) {
        if (e instanceof SimStopped) throw e;
      }
    }
  });
}

/**
 * Reboots a host in the background (the caller's command returns first, as `reboot` does).
 * Returns false when the host is not up.
 */
export function scheduleReboot(sim: Sim, host: HostState, reason = "reboot"): boolean {
  if (host.power !== "up") return false;
  host.power = "shutting-down";
  sim.spawn(`reboot ${host.name}`, async () => {
    await sim.sleep(1);
    await shutdownHost(sim, host, reason);
    crashWhileDown(sim, host);
    await bootAfterDown(sim, host, host.rebootSeconds);
  });
  return true;
}

/** The `crashWhileRebooting` fault: another node loses power while `rebooting` is down. */
function crashWhileDown(sim: Sim, rebooting: HostState): void {
  const fault = sim.faults.find("crashWhileRebooting", (f) => f.rebooting === rebooting.name);
  const other = fault ? sim.state.hosts[fault.spec.host] : undefined;
  if (!fault || !other || other.power !== "up") return;
  sim.faults.fire(fault);
  for (const g of sim.guestsOn(other.name)) setStopped(sim, g, "node-crash");
  hostDown(sim, other);
  const downSeconds = fault.spec.downSeconds;
  if (downSeconds === undefined) return;
  sim.spawn(`crashed ${other.name}`, async () => {
    await sim.sleep(downSeconds);
    if (other.power !== "down") return;
    other.power = "booting";
    bootHost(sim, other);
  });
}

/** Powers a host off for good (until booted again). */
export function schedulePowerOff(sim: Sim, host: HostState, reason = "poweroff"): boolean {
  if (host.power !== "up") return false;
  host.power = "shutting-down";
  sim.spawn(`poweroff ${host.name}`, async () => {
    await sim.sleep(1);
    await shutdownHost(sim, host, reason);
  });
  return true;
}

/**
 * A node shutdown as systemd runs it on PVE: transient units are stopped at once; pve-guests runs
 * `stopall` for the guests HA does not manage (each gets `timeout 180` with force-stop, at most
 * min(cpus - 1, 8) at a time); then pve-ha-lrm stops (the LRM stops or freezes the HA guests and
 * waits for the CRM, see ops/ha.ts); anything still running dies with the node.
 */
async function shutdownHost(sim: Sim, host: HostState, reason: string): Promise<void> {
  host.power = "shutting-down";
  // systemd stops transient units (SIGTERM) as soon as the shutdown starts.
  for (const k of unitKillers) k(sim, host);
  if (host.kind === "pve") {
    const plain = sim.guestsOn(host.name).filter((g) => g.status === "running" && !haManaged(g));
    // stopall goes by descending vmid (no startup order in the sim).
    plain.sort((a, b) => b.vmid - a.vmid);
    await pool(Math.min(Math.max(1, host.cpus - 1), 8), plain, async (g) => {
      if (g.status !== "running" || g.node !== host.name) return;
      await shutdownGuest(sim, g, {
        cmd: g.type === "qemu" ? "qm" : "pct",
        timeout: 180,
        forceStop: true,
        reason: `node-${reason}`,
      }).catch((e: unknown) => {
        if (e instanceof SimStopped) throw e;
      });
    });
    if (lrmShutdown) await lrmShutdown(sim, host, reason);
    for (const g of sim.guestsOn(host.name)) setStopped(sim, g, `node-${reason}-killed`);
  }
  await sim.sleep(sim.timing.shutdownSeconds);
  hostDown(sim, host);
}

function haManaged(g: GuestState): boolean {
  return g.ha !== undefined && g.ha.state !== "ignored";
}

async function pool<T>(size: number, items: T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(size, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

async function bootAfterDown(sim: Sim, host: HostState, seconds: number): Promise<void> {
  if (sim.faults.take("neverReturns", (f) => f.host === host.name)) return;
  const slow = sim.faults.take("slowReturn", (f) => f.host === host.name);
  host.power = "down";
  await sim.sleep(seconds + (slow?.spec.extraSeconds ?? 0));
  host.power = "booting";
  bootHost(sim, host);
}

/** Boots a host that is down (a node powered off, or one that `neverReturns` kept down). */
export function powerOn(sim: Sim, host: HostState): void {
  if (host.power !== "down") return;
  host.power = "booting";
  sim.spawn(`boot ${host.name}`, async () => {
    await sim.sleep(host.rebootSeconds);
    bootHost(sim, host);
  });
}

export function guestKind(g: GuestState): string {
  return g.type === "qemu" ? "VM" : "CT";
}

/** Marks a guest stopped right now (records the stop event; a VM host inside goes down). */
export function setStopped(sim: Sim, g: GuestState, reason: string): void {
  if (g.status !== "running") return;
  g.status = "stopped";
  g.startedAt = undefined;
  sim.state.history.guestEvents.push({ vmid: g.vmid, node: g.node, event: "stop", at: sim.now(), reason });
  const inner = sim.hostOfGuest(g);
  if (inner) hostDown(sim, inner);
  sim.events.emit("guest-changed", g.vmid);
}

function setRunning(sim: Sim, g: GuestState, reason: string): void {
  g.status = "running";
  g.startedAt = sim.now();
  sim.state.history.guestEvents.push({ vmid: g.vmid, node: g.node, event: "start", at: sim.now(), reason });
  const inner = sim.hostOfGuest(g);
  if (inner && inner.power === "down") {
    inner.power = "booting";
    sim.spawn(`boot ${inner.name}`, async () => {
      await sim.sleep(inner.rebootSeconds);
      if (g.status === "running" && inner.power === "booting") bootHost(sim, inner);
    });
  }
  if (g.contents) {
    for (const [name, svc] of Object.entries(g.contents.services)) {
      const failing =
        sim.faults.find("serviceFailed", (f) => f.vmid === g.vmid && f.service === name) !== undefined;
      svc.active = failing ? "failed" : svc.enabled || svc.active === "active" ? "active" : "inactive";
      svc.since = sim.now();
    }
  }
  sim.events.emit("guest-changed", g.vmid);
}

/** Starts a guest (QEMU fails to allocate memory on a full node, as a real start would). */
export async function startGuest(
  sim: Sim,
  g: GuestState,
  reason: string,
  signal?: AbortSignal,
): Promise<void> {
  if (g.status === "running") throw new OpError(`${guestKind(g)} ${g.vmid} already running`);
  if (nodeMemoryFree(sim, g.node) < g.memoryBytes) {
    if (g.type === "qemu")
      throw new OpError(
        `kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory\nstart failed: QEMU exited with code 1`,
      );
    throw new OpError(`startup for container '${g.vmid}' failed`);
  }
  await sim.sleep(sim.timing.guestStartSeconds, signal);
  setRunning(sim, g, reason);
}

/** Stops a guest at once (`qm stop`, `pct stop`: QEMU quit / lxc-stop --kill). */
export function stopGuest(sim: Sim, g: GuestState, reason: string): void {
  if (g.status !== "running") return;
  setStopped(sim, g, reason);
}

/** Seconds the guest takes to shut down gracefully; Infinity when it ignores the request. */
export function gracefulShutdownSeconds(sim: Sim, g: GuestState): number {
  if (sim.faults.find("ignoresShutdown", (f) => f.vmid === g.vmid)) return Infinity;
  return g.shutdownSeconds ?? sim.timing.guestShutdownSeconds;
}

export interface ShutdownRequest {
  /** Whose semantics: qemu-server's `vm_stop` (qm) or pve-container's `vm_stop` (pct). */
  cmd: "qm" | "pct";
  /** Seconds to wait (the caller applies the real default: 60 for qm/pct shutdown). */
  timeout: number;
  forceStop: boolean;
  /** guestEvents reason of a graceful stop; a hard stop at the timeout gets `<reason>-forced`. */
  reason: string;
  /** The task's output (a CLI prints it on stdout). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * A graceful guest shutdown as Proxmox does it. The request (ACPI powerdown, or SIGPWR to the CT's
 * init) is delivered at once and the guest goes down after its shutdown time, whether or not the
 * command still waits. qemu-server (`_do_vm_stop`) waits `timeout` seconds; then with forceStop it
 * prints `VM still running - terminating now with SIGTERM` and kills QEMU, else it dies with
 * `VM quit/powerdown failed - got timeout`. pve-container runs `lxc-stop --timeout N` (`--nokill`
 * without forceStop): forced, lxc-stop kills the CT at N; not forced, lxc-stop fails at N, pct polls
 * N+5 s more and dies with `container did not stop`. A timeout of 0 makes lxc-stop return at once
 * and pct wait for the container to go away. Returns how it stopped; throws OpError on failure.
 */
export async function shutdownGuest(
  sim: Sim,
  g: GuestState,
  req: ShutdownRequest,
): Promise<"stopped" | "forced" | "not-running"> {
  if (g.status !== "running") return "not-running";
  const run = g.startedAt;
  const sameRun = (): boolean => g.status === "running" && g.startedAt === run;
  const seconds = gracefulShutdownSeconds(sim, g);
  if (Number.isFinite(seconds))
    sim.spawn(`shutdown ${g.vmid}`, async () => {
      await sim.sleep(seconds);
      if (sameRun()) setStopped(sim, g, req.reason);
    });
  /** Polls once a second (as both tools do) until the guest is gone or `limit` seconds passed. */
  const gone = async (limit: number): Promise<boolean> => {
    const deadline = sim.now() + limit * 1000;
    while (sameRun() && sim.now() < deadline)
      await sim.sleep(Math.min(1, (deadline - sim.now()) / 1000), req.signal);
    return !sameRun();
  };
  const log = req.log ?? (() => undefined);
  if (req.cmd === "qm") {
    if (await gone(req.timeout)) return "stopped";
    if (!req.forceStop) throw new OpError("VM quit/powerdown failed - got timeout");
    log("VM still running - terminating now with SIGTERM");
    setStopped(sim, g, `${req.reason}-forced`);
    return "forced";
  }
  if (req.timeout === 0) {
    await gone(Infinity);
    return "stopped";
  }
  if (await gone(req.timeout)) return "stopped";
  if (req.forceStop) {
    setStopped(sim, g, `${req.reason}-forced`);
    return "forced";
  }
  log(`command 'lxc-stop -n ${g.vmid} --nokill --timeout ${req.timeout}' failed: exit code 1`);
  if (await gone(req.timeout + 5)) return "stopped";
  throw new OpError("container did not stop");
}
