import { saveGuest } from "../model/build.js";
import type { GuestSaved, GuestState } from "../model/state.js";
import type { Sim } from "../world.js";
import { OpError } from "./errors.js";
import { guestKind, setStopped, startGuest } from "./power.js";

/**
 * Snapshots as pve-guest-common implements them (src/PVE/AbstractConfig.pm __snapshot_prepare,
 * snapshot_delete, snapshot_rollback; pve-container src/PVE/API2/LXC/Snapshot.pm): the names
 * `current` and `vzdump` are reserved; the guest is locked while the snapshot is taken, removed or
 * rolled back, and a lock held by anything else refuses all three (delsnapshot --force too: it
 * takes the lock with set_lock, which checks it); a volume without snapshot support refuses
 * (has_feature asks every rootfs/mpN volume); on ZFS only the most recent snapshot can be rolled
 * back to; a rollback stops a running guest (__snapshot_rollback_vm_stop), restores its config and
 * contents, and starts it only with --start (or a RAM snapshot). See REFERENCE-snapshots-backup.md.
 */

export function checkLock(g: GuestState): void {
  if (g.lock) throw new OpError(`${guestKind(g)} is locked (${g.lock})`);
}

function supportsSnapshots(sim: Sim, g: GuestState): boolean {
  if (sim.faults.find("snapshotUnsupported", (f) => f.vmid === g.vmid)) return false;
  const storages = sim.cluster(g.cluster)?.storages ?? [];
  return g.disks.every((d) => storages.find((s) => s.name === d.storage)?.snapshots === true);
}

export async function createSnapshot(
  sim: Sim,
  g: GuestState,
  name: string,
  description: string,
  vmstate: boolean,
  log: (l: string) => void,
): Promise<void> {
  if (name === "current" || name === "vzdump")
    throw new OpError(`unable to use snapshot name '${name}' (reserved name)`);
  if (g.template) throw new OpError("you can't take a snapshot if it's a template");
  checkLock(g);
  if (g.snapshots.some((s) => s.name === name)) throw new OpError(`snapshot name '${name}' already used`);
  if (!supportsSnapshots(sim, g)) throw new OpError("snapshot feature is not available");
  g.lock = "snapshot";
  try {
    const withRam = vmstate && g.type === "qemu" && g.status === "running";
    if (withRam) log(`saving VM state and RAM using storage '${g.disks[0]?.storage ?? "local"}'`);
    if (g.type === "qemu" && g.status === "running")
      for (const d of g.disks) log(`snapshotting 'drive-${d.key}' (${d.volume})`);
    await sim.sleep(sim.timing.snapshotSeconds + (withRam ? g.memoryBytes / 1024 ** 3 : 0));
    const saved = saveGuest(g, sim.state);
    g.snapshots.push({
      name,
      description,
      snaptime: sim.nowSec(),
      parent: g.parent,
      vmstate: withRam,
      saved,
    });
    g.parent = name;
  } finally {
    if (g.lock === "snapshot") g.lock = undefined;
  }
}

/** `force` only keeps going past failing volume snapshots; the lock is checked all the same. */
export async function deleteSnapshot(sim: Sim, g: GuestState, name: string, _force: boolean): Promise<void> {
  const snap = g.snapshots.find((s) => s.name === name);
  if (!snap) throw new OpError(`snapshot '${name}' does not exist`);
  checkLock(g);
  g.lock = "snapshot-delete";
  try {
    await sim.sleep(sim.timing.snapshotSeconds);
    g.snapshots = g.snapshots.filter((s) => s !== snap);
    for (const s of g.snapshots) if (s.parent === name) s.parent = snap.parent;
    if (g.parent === name) g.parent = snap.parent;
  } finally {
    if (g.lock === "snapshot-delete") g.lock = undefined;
  }
}

function restore(sim: Sim, g: GuestState, saved: GuestSaved): void {
  g.memoryBytes = saved.memoryBytes;
  g.cores = saved.cores;
  g.tags = [...saved.tags];
  g.onboot = saved.onboot;
  if (saved.contents) g.contents = structuredClone(saved.contents);
  const host = sim.hostOfGuest(g);
  if (host && saved.hostApt) host.apt = structuredClone(saved.hostApt);
  if (host && saved.hostKernel) host.kernelRunning = saved.hostKernel;
}

export async function rollbackSnapshot(
  sim: Sim,
  g: GuestState,
  name: string,
  start: boolean,
  log: (l: string) => void,
): Promise<void> {
  if (g.template) throw new OpError("you can't rollback if vm is a template");
  const snap = g.snapshots.find((s) => s.name === name);
  if (!snap) throw new OpError(`snapshot '${name}' does not exist`);
  const storages = sim.cluster(g.cluster)?.storages ?? [];
  const zfs = g.disks.find((d) => storages.find((s) => s.name === d.storage)?.type === "zfspool");
  const newest = [...g.snapshots].sort((a, b) => b.snaptime - a.snaptime)[0];
  if (zfs && newest && newest.name !== name)
    throw new OpError(`can't rollback, '${name}' is not most recent snapshot on '${zfs.volume}'`);
  checkLock(g);
  g.lock = "rollback";
  try {
    if (g.status === "running") {
      log(`${g.type === "qemu" ? "VM" : "CT"} ${g.vmid} is running - stopping`);
      setStopped(sim, g, "rollback");
    }
    await sim.sleep(sim.timing.snapshotSeconds);
    restore(sim, g, snap.saved);
    g.parent = name;
  } finally {
    if (g.lock === "rollback") g.lock = undefined;
  }
  if (snap.vmstate || start) await startGuest(sim, g, "rollback");
  sim.events.emit("guest-changed", g.vmid);
}

/** `qm/pct listsnapshot`: the tree as pve-guest-common prints it, `current` last. */
export function snapshotTree(g: GuestState): string {
  const byParent = new Map<string | undefined, typeof g.snapshots>();
  for (const s of g.snapshots) {
    const list = byParent.get(s.parent) ?? [];
    list.push(s);
    byParent.set(s.parent, list);
  }
  const fmt = (ts: number): string => {
    const d = new Date(ts * 1000);
    const p = (n: number): string => String(n).padStart(2, "0");
    return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  };
  let out = "";
  const line = (prefix: string, name: string, time: string, desc: string): void => {
    const len = 30 - prefix.length;
    out += `${prefix} ${name.padEnd(len)} ${time.padEnd(23)} ${desc}\n`;
  };
  const walk = (parent: string | undefined, prefix: string): void => {
    const children = [...(byParent.get(parent) ?? [])].sort((a, b) => a.snaptime - b.snaptime);
    for (const c of children) {
      line(prefix, c.name, fmt(c.snaptime), (c.description || "no-description").split("\n")[0]!);
      walk(c.name, ` ${prefix}`);
      if (g.parent === c.name) line(` ${prefix}`, "current", "", "You are here!");
    }
  };
  walk(undefined, "`->");
  if (g.parent === undefined) line("`->", "current", "", "You are here!");
  return out;
}
