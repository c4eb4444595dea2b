/** Whose turn it is in a rolling patch: pure functions of the HostPatches of one cluster. */
import { isDisruptive, isTerminal, type HostPatch, type HostPatchPhase } from "../../src/api/host-patch.js";
import type { MovesInFlight, Turn } from "./observation.js";

/** Rolling order inside a plan: by node name, the controller's own node last. */
export function rollingOrder(hosts: readonly string[], selfNode: string | undefined): string[] {
  return [...hosts].sort((a, b) => (a === selfNode ? 1 : 0) - (b === selfNode ? 1 : 0) || a.localeCompare(b));
}

/**
 * Whether a node counts as out against the cluster's maxUnavailable: from its upgrade until it is
 * verified. A node in Restoring is back, patched and verified; only its guests are still moving
 * back, and those moves are counted against the migration lanes instead (movesInFlight). This is
 * what lets node k+1 upgrade and evacuate while node k's guests return, and never go down before
 * node k is verified.
 */
function isOut(phase: HostPatchPhase | undefined): boolean {
  return isDisruptive(phase) && phase !== "Restoring";
}

/** An earlier node holds the next one in rolling order until it has ended, is blocked, or is back and verified. */
function holdsOrder(phase: HostPatchPhase | undefined): boolean {
  return !(isTerminal(phase) || phase === "Blocked" || phase === "Restoring");
}

/** Whether `hp` may start disruptive work: its turn in the plan's order, and a free slot in the cluster. */
export function turnOf(
  hp: HostPatch,
  siblings: readonly HostPatch[],
  maxUnavailable: number,
  selfNode: string | undefined,
): Turn {
  const busy = siblings.filter((x) => x.metadata.name !== hp.metadata.name && isOut(x.status?.phase));
  if (busy.length >= maxUnavailable) {
    return {
      ok: false,
      message: `waiting: ${busy.map((x) => `${x.spec.host} (${x.status?.phase})`).join(", ")} ${busy.length === 1 ? "is" : "are"} out and the cluster allows ${maxUnavailable} at a time`,
    };
  }
  const mine = siblings.filter(
    (x) => x.spec.planRef.name === hp.spec.planRef.name && x.spec.cycle === hp.spec.cycle,
  );
  const failed = mine.find((x) => x.status?.phase === "Failed");
  if (failed)
    return {
      ok: false,
      message: `plan stalled: ${failed.spec.host} failed (${failed.status?.message ?? ""}); no further node is touched`,
    };
  const order = rollingOrder(
    mine.map((x) => x.spec.host),
    selfNode,
  );
  const before = order.slice(0, order.indexOf(hp.spec.host));
  const waitingFor = mine.filter((x) => before.includes(x.spec.host) && holdsOrder(x.status?.phase));
  if (waitingFor.length > 0 && busy.length + waitingFor.length >= maxUnavailable) {
    return {
      ok: false,
      message: `waiting for ${waitingFor.map((x) => x.spec.host).join(", ")} to finish first (rolling order)`,
    };
  }
  return { ok: true };
}

/**
 * Nodes of this plan's cycle that are already patched (verified, or done): preferred migration
 * targets.
 */
export function patchedInCycle(hp: HostPatch, siblings: readonly HostPatch[]): string[] {
  return siblings
    .filter(
      (x) =>
        x.spec.planRef.name === hp.spec.planRef.name &&
        x.spec.cycle === hp.spec.cycle &&
        (x.status?.phase === "Succeeded" || x.status?.phase === "Restoring"),
    )
    .map((x) => x.spec.host);
}

/**
 * The other HostPatches' migrations of the cluster that have not ended (planned or running, both
 * ways): their running ones take migration lanes, and their targets' memory is spoken for.
 */
export function movesInFlight(hp: HostPatch, siblings: readonly HostPatch[]): MovesInFlight {
  const moves: MovesInFlight["moves"] = [];
  for (const x of siblings) {
    if (x.metadata.name === hp.metadata.name || !isDisruptive(x.status?.phase)) continue;
    const out = (x.status?.migrations ?? []).map((m) => ({ m, back: false }));
    const home = (x.status?.migrationsToUndo ?? []).map((m) => ({ m, back: true }));
    for (const { m, back } of [...out, ...home])
      if (m.state === "Planned" || m.state === "Running")
        moves.push({
          vmid: m.vmid,
          from: m.from,
          to: m.to,
          running: m.state === "Running",
          back,
          owner: x.spec.host,
          ha: m.mode === "ha",
        });
  }
  return { lanes: moves.filter((m) => m.running).length, moves };
}

/**
 * Whether another prefetch download may start in the cluster: fewer than `maxParallel` HostPatches
 * of the cluster (this one aside) record one as running.
 */
export function prefetchSlot(hp: HostPatch, siblings: readonly HostPatch[], maxParallel: number): boolean {
  const downloading = siblings.filter(
    (x) => x.metadata.name !== hp.metadata.name && x.status?.prefetch?.state === "Running",
  );
  return downloading.length < maxParallel;
}

function movesOf(hp: HostPatch | undefined): string {
  const s = hp?.status;
  return [...(s?.migrations ?? []), ...(s?.migrationsToUndo ?? [])].map((m) => `${m.vmid}:${m.state}`).join();
}

/**
 * Which siblings a change of `now` (from `old`) is news to, by their phase: a phase change (node k
 * verified opens the next one's turn, frees its guests' node) to those waiting for their turn or to
 * plan an evacuation; a migration that ended (a lane free, a guest gone) to those evacuating or
 * moving guests back; a prefetch that ended (a slot free) to those waiting. They are reconciled at
 * once instead of at their next look (wake on events); nodes in the middle of their own job, reboot
 * or proof, and ended ones, are not disturbed.
 */
export function siblingPhasesToWake(old: HostPatch | undefined, now: HostPatch): Set<HostPatchPhase> {
  const wake = new Set<HostPatchPhase>();
  if (old?.status?.phase !== now.status?.phase)
    ["Preflight", "Evacuating"].forEach((p) => wake.add(p as HostPatchPhase));
  if (movesOf(old) !== movesOf(now))
    ["Evacuating", "Restoring"].forEach((p) => wake.add(p as HostPatchPhase));
  if (old?.status?.prefetch?.state !== now.status?.prefetch?.state) wake.add("Preflight");
  return wake;
}

/** Whether a change of `now` is news to any sibling (siblingPhasesToWake). */
export function wakesSiblings(old: HostPatch | undefined, now: HostPatch): boolean {
  return siblingPhasesToWake(old, now).size > 0;
}
