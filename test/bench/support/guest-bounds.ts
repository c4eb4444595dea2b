/**
 * Lower bounds of a guest update cycle, from the simulator's own durations: what any tool must
 * wait for per container, however it schedules.
 *
 * Per container: snapshot (src/sim/ops/snapshot.ts: timing.snapshotSeconds, no RAM for a CT) +
 * update (the runner's `apt-get update`, timing.aptUpdateSeconds, then per package download 0.2 +
 * unpack 0.4 + configure 0.4 of timing.aptPackageSeconds: src/sim/apt/apt-get.ts install) +
 * restart (0.5 s per `systemctl restart` of a container service: src/sim/commands/systemd.ts
 * restartService) + verify (the health check's warm-up; a healthy probe answers at once).
 */

export interface GuestWork {
  snapshotSeconds: number;
  aptUpdateSeconds: number;
  aptPackageSeconds: number;
  pendingPackages: number;
  restartedServices: number;
  warmUpSeconds: number;
}

/** systemd.ts restartService sleeps this long per unit. */
const SERVICE_RESTART_SECONDS = 0.5;

export function containerSeconds(w: GuestWork): number {
  const update = w.aptUpdateSeconds + w.pendingPackages * w.aptPackageSeconds;
  return w.snapshotSeconds + update + w.restartedServices * SERVICE_RESTART_SECONDS + w.warmUpSeconds;
}

export interface Caps {
  maxParallel: number;
  maxPerNode: number;
}

/** Containers per node -> the concurrency the caps allow: min(maxParallel, Σ min(perNode, count)). */
export function effectiveConcurrency(perNode: readonly number[], caps: Caps): number {
  const lanes = perNode.reduce((s, n) => s + Math.min(caps.maxPerNode, n), 0);
  return Math.min(caps.maxParallel, lanes);
}

/**
 * The makespan no scheduler can beat: total work over the effective concurrency, and at least the
 * busiest node's work over its own cap.
 */
export function lowerBound(each: number, perNode: readonly number[], caps: Caps): number {
  const total = each * perNode.reduce((a, b) => a + b, 0);
  const busiest = (Math.max(0, ...perNode) * each) / Math.min(caps.maxPerNode, caps.maxParallel);
  return Math.max(total / effectiveConcurrency(perNode, caps), busiest);
}

/** One container at a time, as the common update scripts loop over `pct list`. */
export function sequentialMakespan(each: number, count: number): number {
  return each * count;
}
