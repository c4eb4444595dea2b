/**
 * Overlap with the previous node (issue 8): node k+1 may plan and start its evacuation while node
 * k's guests move back, within the cluster's migration lanes and memory. Pure helpers of the
 * context's movesInFlight (turn.ts), used by the evacuation and migration decisions.
 */
import type { GuestResource } from "../../src/pve/index.js";
import type { EvacNode } from "./evacuation-plan.js";
import type { PatchContext } from "./observation.js";

/**
 * Migration lanes of spec.evacuation.maxParallelMigrations this node may not use: those other
 * nodes' running migrations take, and, for guests going back, those another node's evacuation
 * still waits for. An evacuation is on the way to the next reboot; a guest going home runs as well
 * where it is, so it yields.
 */
export function lanesTaken(ctx: PatchContext, back: boolean): number {
  const moves = ctx.movesInFlight?.moves ?? [];
  const running = moves.filter((m) => m.running).length;
  const evacuationWaiting = back ? moves.filter((m) => !m.running && !m.back).length : 0;
  return running + evacuationWaiting;
}

/**
 * Why this node may not plan its evacuation yet: another node's guests still move from or to it
 * (planned there, they would be moved twice, or land on a node about to go down).
 */
export function evacuationHold(ctx: PatchContext): string | undefined {
  const touching = (ctx.movesInFlight?.moves ?? []).filter((m) => m.from === ctx.host || m.to === ctx.host);
  if (touching.length === 0) return undefined;
  const owners = [...new Set(touching.map((m) => m.owner))].join(", ");
  const guests = touching.map((m) => `${m.vmid} ${m.from} -> ${m.to}`).join(", ");
  return `waiting for the guests of ${owners} to finish moving (${guests}) before evacuating ${ctx.host}`;
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
