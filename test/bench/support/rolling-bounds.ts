/**
 * Lower bounds of a rolling patch, from the simulator's own durations (src/sim/fleet-schema.ts
 * timing): what any tool, however careful or careless, must wait for on each node in turn.
 *
 * Per node: upgrade (apt-get update + per package download, unpack, configure) + evacuation (one HA
 * round for the request to be picked up, then its guests' moves shared by the migration lanes) +
 * reboot (shutdown + down time) + return (the cluster services, pve-ha-lrm last) + move back (as
 * evacuation). The overlapped bound is the same with the download done ahead of the turn (prefetch:
 * only unpack and configure remain) and node k+1's upgrade and evacuation running under node k's
 * move back.
 */

export interface BenchTiming {
  rebootSeconds: number;
  aptPackageSeconds: number;
  aptUpdateSeconds: number;
  migrationMiBps: number;
  haRoundSeconds: number;
  shutdownSeconds: number;
  servicesStartSeconds: number;
  guestStartSeconds: number;
  guestShutdownSeconds: number;
}

export interface BoundGuest {
  type: "qemu" | "lxc";
  memoryMiB: number;
}

export interface BoundNode {
  packages: number;
  guests: BoundGuest[];
}

/** Share of aptPackageSeconds the simulated apt spends downloading (src/sim/apt/apt-get.ts install). */
const DOWNLOAD_SHARE = 0.2;

/** One guest's move: a VM's memory copy; a CT (restart/relocate) stops, copies and starts again. */
function moveSeconds(t: BenchTiming, g: BoundGuest): number {
  const copy = g.memoryMiB / t.migrationMiBps;
  return g.type === "qemu" ? copy : t.guestShutdownSeconds + copy + t.guestStartSeconds;
}

/** The guests' moves on `lanes` lanes: at least the longest one, at least the total shared out. */
export function movesSeconds(t: BenchTiming, guests: readonly BoundGuest[], lanes: number): number {
  if (guests.length === 0) return 0;
  const each = guests.map((g) => moveSeconds(t, g));
  const total = each.reduce((a, b) => a + b, 0);
  return t.haRoundSeconds + Math.max(Math.max(...each), total / lanes);
}

export interface NodeBound {
  upgrade: number;
  upgradeFromCache: number;
  evacuation: number;
  reboot: number;
  return: number;
  moveBack: number;
}

export function nodeBound(t: BenchTiming, n: BoundNode, lanes: number): NodeBound {
  const moves = movesSeconds(t, n.guests, lanes);
  return {
    upgrade: t.aptUpdateSeconds + n.packages * t.aptPackageSeconds,
    upgradeFromCache: n.packages * t.aptPackageSeconds * (1 - DOWNLOAD_SHARE),
    evacuation: moves,
    reboot: t.shutdownSeconds + t.rebootSeconds,
    return: t.servicesStartSeconds,
    moveBack: moves,
  };
}

/** Sum per node of upgrade + evacuation + reboot + return + move back, in seconds. */
export function sequentialBound(t: BenchTiming, nodes: readonly BoundNode[], lanes: number): number {
  return nodes
    .map((n) => nodeBound(t, n, lanes))
    .reduce((s, b) => s + b.upgrade + b.evacuation + b.reboot + b.return + b.moveBack, 0);
}

/**
 * As the sequential bound, with every node after the first installing from its cache (it was
 * prefetched while the first one worked) and its upgrade and evacuation overlapping the previous
 * node's move back.
 */
export function overlappedBound(t: BenchTiming, nodes: readonly BoundNode[], lanes: number): number {
  const b = nodes.map((n) => nodeBound(t, n, lanes));
  let total = 0;
  b.forEach((x, i) => {
    const upgrade = i === 0 ? x.upgrade : x.upgradeFromCache;
    const hidden = i === 0 ? 0 : Math.min(b[i - 1]!.moveBack, upgrade + x.evacuation);
    total += upgrade + x.evacuation + x.reboot + x.return + x.moveBack - hidden;
  });
  return total;
}
