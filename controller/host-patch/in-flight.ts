/**
 * Overlap with the previous node (issue 8): node k+1 may plan and start its evacuation while node
 * k's guests move back, within the cluster's migration lanes and memory. Pure helpers of the
 * context's movesInFlight (turn.ts), used by the evacuation and migration decisions.
 */
import type { GuestResource } from "../../src/pve/index.js";
import type { EvacNode } from "./evacuation-plan.js";
import type { MovesInFlight, PatchContext } from "./observation.js";

/** A move in flight as the lanes see it: who runs it, from where. */
interface LaneMove {
  from: string;
  ha: boolean;
}

/**
 * How a node's next moves may use spec.evacuation.maxParallelMigrations. A running move takes a
 * lane, but HA's LRM on a node runs at most datacenter.cfg max_workers of the moves asked of it at
 * once (src/pve/REFERENCE-migration.md), so HA moves from one source take min(asked, max_workers)
 * lanes: up to 2 × max_workers may be asked at once, the rest start as HA's workers end, within the
 * round. For guests going back, the moves another node's evacuation still waits for take lanes too:
 * an evacuation is on the way to the next reboot; a guest going home runs as well where it is.
 */
export class Lanes {
  private free: number;
  private readonly haAsked = new Map<string, number>();

  constructor(
    lanes: number,
    running: readonly LaneMove[],
    waiting: number,
    private readonly haMaxWorkers: number | undefined,
  ) {
    let used = waiting;
    for (const m of running) {
      if (m.ha) this.haAsked.set(m.from, (this.haAsked.get(m.from) ?? 0) + 1);
      else used += 1;
    }
    for (const n of this.haAsked.values()) used += Math.min(n, this.workers());
    this.free = Math.max(0, lanes - used);
  }

  /** Takes what starting `m` needs, when it fits. */
  take(m: LaneMove): boolean {
    const cost = this.cost(m);
    if (cost > this.free) return false;
    this.free -= cost;
    if (m.ha) this.haAsked.set(m.from, (this.haAsked.get(m.from) ?? 0) + 1);
    return true;
  }

  private workers(): number {
    return this.haMaxWorkers ?? Number.POSITIVE_INFINITY;
  }

  private cost(m: LaneMove): number {
    if (!m.ha) return 1;
    const asked = this.haAsked.get(m.from) ?? 0;
    if (asked >= 2 * this.workers()) return Number.POSITIVE_INFINITY;
    return asked >= this.workers() ? 0 : 1;
  }
}

/** The lanes this node's moves (`own`, those it runs) share with the other nodes' moves in flight. */
export function lanesFor(
  ctx: PatchContext,
  own: readonly LaneMove[],
  back: boolean,
  haMaxWorkers: number | undefined,
): Lanes {
  const moves = ctx.movesInFlight?.moves ?? [];
  const running = [...own, ...moves.filter((m) => m.running)];
  const waiting = back ? moves.filter((m) => !m.running && !m.back).length : 0;
  return new Lanes(ctx.spec.evacuation.maxParallelMigrations, running, waiting, haMaxWorkers);
}

function describe(moves: readonly { vmid: number; from: string; to: string; owner: string }[]): string {
  const owners = [...new Set(moves.map((m) => m.owner))].join(", ");
  return `the guests of ${owners} to finish moving (${moves.map((m) => `${m.vmid} ${m.from} -> ${m.to}`).join(", ")})`;
}

/**
 * Why this node may not plan its evacuation yet: another node's guests still move to it (they
 * would land on a node about to go down).
 */
export function evacuationHold(ctx: PatchContext): string | undefined {
  const coming = (ctx.movesInFlight?.moves ?? []).filter((m) => m.to === ctx.host);
  if (coming.length === 0) return undefined;
  return `waiting for ${describe(coming)} before evacuating ${ctx.host}`;
}

/**
 * Guests another node's moves take off this node (the previous node's going home): not this
 * node's to move (planned here too, they would move twice), but the reboot waits until they left.
 */
export function leavingForOthers(ctx: PatchContext): MovesInFlight["moves"] {
  return (ctx.movesInFlight?.moves ?? []).filter((m) => m.from === ctx.host);
}

/** Why this node may not be rebooted yet although its own guests left. */
export function othersStillLeaving(ctx: PatchContext): string | undefined {
  const leaving = leavingForOthers(ctx);
  if (leaving.length === 0) return undefined;
  return `waiting for ${describe(leaving)} off ${ctx.host} before the reboot`;
}

/**
 * The targets with the memory of guests still on their way to them counted as used (the cluster's
 * figures count a guest on the node it runs on now): two nodes' moves never overfill one target.
 */
export function withIncoming(
  ctx: PatchContext,
  nodes: readonly EvacNode[],
  guests: readonly GuestResource[],
): EvacNode[] {
  const moves = ctx.movesInFlight?.moves ?? [];
  if (moves.length === 0) return [...nodes];
  return nodes.map((n) => {
    const incoming = moves
      .filter((m) => m.to === n.name)
      .map((m) => guests.find((g) => g.vmid === m.vmid))
      .filter((g): g is GuestResource => g !== undefined && g.node !== n.name)
      .reduce((sum, g) => sum + (g.maxmem ?? 0), 0);
    return incoming === 0 ? n : { ...n, memUsedBytes: n.memUsedBytes + incoming };
  });
}

/**
 * The order guests go back in: first those on the nodes to be patched next (rolling order is by
 * name; a node cannot start its evacuation while a guest of ours still has to leave it), those on
 * patched nodes last; on each node containers first (a restart or relocation outlasts a live
 * migration), then in recorded order.
 */
export function returnOrder<M extends { from: string; type: "qemu" | "lxc" }>(
  returns: readonly M[],
  patched: readonly string[],
): M[] {
  const nodes = [...new Set(returns.map((m) => m.from))].sort(
    (a, b) => Number(patched.includes(a)) - Number(patched.includes(b)) || a.localeCompare(b),
  );
  const rank = (m: M): number => nodes.indexOf(m.from) * 2 + (m.type === "lxc" ? 0 : 1);
  return returns
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map((x) => x.m);
}

/**
 * The order guests leave in: containers first (a restart or an HA relocation outlasts a live
 * migration, so starting the longest first finishes the evacuation sooner on few lanes), then in
 * the plan's order.
 */
export function leaveOrder<M extends { type: "qemu" | "lxc" }>(moves: readonly M[]): M[] {
  return [...moves.filter((m) => m.type === "lxc"), ...moves.filter((m) => m.type !== "lxc")];
}
