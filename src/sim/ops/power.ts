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
  for (const [name, svc] of Object.entries(host.services)) {
    const failing =
      sim.faults.find("serviceFailed", (f) => f.service === name && f.host === host.name) !== undefined;
    svc.active = failing ? "failed" : svc.enabled ? "active" : "inactive";
    svc.since = sim.now();
  }
  host.power = "up";
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
  sim.spawn(`onboot ${host.name}`, async () => {
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
    await bootAfterDown(sim, host, host.rebootSeconds);
  });
  return true;
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

async function shutdownHost(sim: Sim, host: HostState, reason: string): Promise<void> {
  host.power = "shutting-down";
  // systemd stops transient units (SIGTERM) as soon as the shutdown starts.
  for (const k of unitKillers) k(sim, host);
  if (host.kind === "pve") {
    for (const g of sim.guestsOn(host.name)) {
      if (g.status !== "running") continue;
      // A clean node shutdown freezes HA services; they start again on the same node.
      if (g.ha && g.ha.state === "started") g.ha.runtime = "freeze";
      setStopped(sim, g, `node-${reason}`);
    }
  }
  await sim.sleep(sim.timing.shutdownSeconds);
  hostDown(sim, host);
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

/** Stops a guest: gracefully (shutdown, takes time) or at once (stop). */
export async function stopGuest(
  sim: Sim,
  g: GuestState,
  reason: string,
  graceful: boolean,
  signal?: AbortSignal,
): Promise<void> {
  if (g.status !== "running") return;
  if (graceful) await sim.sleep(sim.timing.guestShutdownSeconds, signal);
  setStopped(sim, g, reason);
}
