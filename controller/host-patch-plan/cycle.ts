/**
 * Pure facts about a cycle in progress: which children it still lacks, where each of its hosts
 * stands, and the messages that say so.
 */
import { isDisruptive, isTerminal, type HostPatchPhase } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import { childName } from "./targets.js";
import type { ChildPlan, ChildView, Observation, PlanStatus } from "./types.js";

/** A cycle is in progress: its intent is recorded and it has not finished. */
export function inCycle(s: PlanStatus | undefined): s is PlanStatus & { cycle: string } {
  return s?.cycle !== undefined && s.phase === "Progressing";
}

/**
 * The hosts of the cycle in progress: as recorded when it started. A status written before hosts
 * were recorded falls back to the hosts the targets select now.
 */
export function hostsOfCycle(s: PlanStatus, obs: Observation): string[] {
  return s.cycleHosts ?? obs.selected;
}

/** The child's phase in `cycle`: undefined unless it belongs to that cycle and its status is for it. */
export function phaseIn(child: ChildView, cycle: string): HostPatchPhase | undefined {
  return child.cycle === cycle && child.current ? child.phase : undefined;
}

/**
 * What must change so each host of `cycle` has a child of that cycle: create the missing, move the
 * ones on another cycle to this one, delete the children of hosts outside the cycle. A child in the
 * middle of a disruptive step is never touched: it is moved or deleted once that step has ended.
 */
export function childPlan(
  plan: HostPatchPlan,
  cycle: string,
  hosts: readonly string[],
  children: readonly ChildView[],
): ChildPlan {
  const byName = new Map(children.map((c) => [c.name, c]));
  const create: string[] = [];
  const move: string[] = [];
  for (const host of hosts) {
    const child = byName.get(childName(plan, host));
    if (!child) create.push(host);
    else if (child.cycle !== cycle && !isDisruptive(child.phase)) move.push(host);
  }
  const wanted = new Set(hosts.map((h) => childName(plan, h)));
  const remove = children
    .filter((c) => !wanted.has(c.name) && !isDisruptive(c.phase))
    .map((c) => c.name)
    .sort();
  return { create, move, remove };
}

export function isEmptyPlan(p: ChildPlan): boolean {
  return p.create.length + p.move.length + p.remove.length === 0;
}

export interface HostState {
  host: string;
  /** Its phase in this cycle; undefined: not started (no child of this cycle, or no status for it yet). */
  phase: HostPatchPhase | undefined;
  message?: string;
  /** Why it failed (its lastError reason), when it did. */
  reason?: string;
}

/** Where every host of the cycle stands. */
export interface Tally {
  hosts: HostState[];
  succeeded: number;
  skipped: number;
  failed: HostState[];
  blocked: HostState[];
  /** Hosts in the middle of a disruptive step. */
  active: HostState[];
  /** Every host of the cycle has a child of this cycle in a terminal phase. */
  allEnded: boolean;
}

export function tally(cycle: string, hosts: readonly string[], children: readonly ChildView[]): Tally {
  const states: HostState[] = hosts.map((host) => {
    const child = children.find((c) => c.host === host && c.cycle === cycle);
    const phase = child ? phaseIn(child, cycle) : undefined;
    return {
      host,
      phase,
      ...(phase !== undefined && child?.message ? { message: child.message } : {}),
      ...(phase === "Failed" && child?.reason ? { reason: child.reason } : {}),
    };
  });
  const having = (p: HostPatchPhase): HostState[] => states.filter((h) => h.phase === p);
  return {
    hosts: states,
    succeeded: having("Succeeded").length,
    skipped: having("Skipped").length,
    failed: having("Failed"),
    blocked: having("Blocked"),
    active: states.filter((h) => isDisruptive(h.phase)),
    allEnded: states.every((h) => isTerminal(h.phase)),
  };
}

export function countsOf(t: Tally): Pick<PlanStatus, "succeeded" | "skipped" | "failed"> {
  return { succeeded: t.succeeded, skipped: t.skipped, failed: t.failed.length };
}

export function summaryOf(c: Pick<PlanStatus, "succeeded" | "skipped" | "failed">): string {
  return `${c.succeeded ?? 0} patched, ${c.skipped ?? 0} up to date, ${c.failed ?? 0} failed`;
}

/**
 * The plan's reason for a failed cycle: QuorumLost when any host failed on it (the cluster itself is
 * in trouble, not one node), TargetFailed otherwise.
 */
export function failedReason(failed: readonly HostState[]): string {
  return failed.some((h) => h.reason === "QuorumLost") ? "QuorumLost" : "TargetFailed";
}

export function failedMessage(failed: readonly HostState[]): string {
  return `${failed.map((h) => `${h.host}: ${h.message ?? "failed"}`).join("; ")}; no further node is touched until a person acts`;
}

export function blockedMessage(blocked: readonly HostState[]): string {
  return `blocked: ${blocked.map((h) => `${h.host} (${h.message ?? ""})`).join("; ")}`;
}

export function progressMessage(t: Tally): string {
  return `patching: ${t.hosts
    .filter((h) => !isTerminal(h.phase))
    .map((h) => `${h.host} ${h.phase ?? "Pending"}`)
    .join(", ")}`;
}

export function childPlanMessage(cycle: string, p: ChildPlan): string {
  const parts = [
    p.create.length > 0 ? `creating the HostPatch of ${p.create.join(", ")}` : "",
    p.move.length > 0 ? `moving the HostPatch of ${p.move.join(", ")} to this cycle` : "",
    p.remove.length > 0 ? `deleting ${p.remove.join(", ")} (no longer targeted)` : "",
  ].filter(Boolean);
  return `cycle ${cycle}: ${parts.join("; ")}`;
}
