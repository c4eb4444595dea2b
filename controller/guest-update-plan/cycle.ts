/**
 * Pure facts about a cycle in progress: where each container stands, the counts, and the messages
 * that say so.
 */
import type { GuestUpdatePhase } from "../../src/api/guest-update.js";
import type { GuestUpdateCounts } from "../../src/api/guest-update-plan.js";
import type { ChildView, CycleTarget, PlanStatus } from "./types.js";

/** A cycle is in progress: its intent is recorded and it has not finished. */
export function inCycle(s: Partial<PlanStatus> | undefined): s is PlanStatus & { currentCycle: string } {
  return s?.currentCycle !== undefined && s.phase === "Progressing";
}

export type TargetState =
  "pending" | "active" | "succeeded" | "skipped" | "failed" | "rolledBack" | "blocked";

/** Phases a GuestUpdate does not leave within its cycle. Blocked: held by a gate until the next cycle. */
const ENDED: Partial<Record<GuestUpdatePhase, TargetState>> = {
  Succeeded: "succeeded",
  Skipped: "skipped",
  Failed: "failed",
  RolledBack: "rolledBack",
  Blocked: "blocked",
};

/** Containers whose GuestUpdate of a cycle other than `cycle` is still in flight (or has no status yet). */
export function busyElsewhere(children: readonly ChildView[], cycle: string): Set<number> {
  return new Set(
    children
      .filter((c) => c.cycle !== cycle)
      .filter((c) => !c.current || c.phase === undefined || ENDED[c.phase] === undefined)
      .map((c) => c.vmid),
  );
}

export interface TargetView {
  target: CycleTarget;
  state: TargetState;
  child?: ChildView;
}

/** The child of `vmid` in `cycle`, if there is one. */
export function childOf(children: readonly ChildView[], cycle: string, vmid: number): ChildView | undefined {
  return children.find((c) => c.cycle === cycle && c.vmid === vmid);
}

function stateOf(target: CycleTarget, child: ChildView | undefined): TargetState {
  if (target.startedAt === undefined) return "pending";
  // Started but its update has not written a status for this spec yet: in flight.
  if (!child || !child.current || child.phase === undefined) return "active";
  return ENDED[child.phase] ?? "active";
}

export interface Tally {
  targets: TargetView[];
  pending: TargetView[];
  active: TargetView[];
  /** Failed or rolled back: counted against maxFailures. */
  failures: TargetView[];
  counts: GuestUpdateCounts;
}

export function tally(
  cycle: string,
  targets: readonly CycleTarget[],
  children: readonly ChildView[],
  conflicts = 0,
): Tally {
  const views = targets.map((target) => {
    const child = childOf(children, cycle, target.vmid);
    return { target, state: stateOf(target, child), ...(child ? { child } : {}) };
  });
  const having = (...s: TargetState[]): TargetView[] => views.filter((v) => s.includes(v.state));
  return {
    targets: views,
    pending: having("pending"),
    active: having("active"),
    failures: having("failed", "rolledBack"),
    counts: {
      targets: views.length,
      pending: having("pending").length,
      inProgress: having("active").length,
      succeeded: having("succeeded").length,
      failed: having("failed").length,
      rolledBack: having("rolledBack").length,
      blocked: having("blocked").length,
      skipped: having("skipped").length,
      notStarted: 0,
      conflicts,
    },
  };
}

export function summaryOf(c: Partial<GuestUpdateCounts>): string {
  const parts = [
    `${c.succeeded ?? 0} updated`,
    `${c.skipped ?? 0} up to date`,
    `${c.rolledBack ?? 0} rolled back`,
    `${c.failed ?? 0} failed`,
  ];
  if (c.blocked) parts.push(`${c.blocked} blocked`);
  if (c.notStarted) parts.push(`${c.notStarted} not started`);
  if (c.conflicts) parts.push(`${c.conflicts} in conflict`);
  return parts.join(", ");
}

export function failedMessage(failures: readonly TargetView[], maxFailures: number): string {
  const list = failures.map((f) => `${f.target.vmid}: ${f.child?.message ?? f.state}`).join("; ");
  return (
    `${failures.length} container(s) failed, more than maxFailures ${maxFailures} (${list}); ` +
    "no further container starts until a person acts (fix, then set refit.dev/requested-at or edit the plan)"
  );
}

export function progressMessage(t: Tally): string {
  const active = t.active.map((v) => `${v.target.vmid} ${v.child?.phase ?? "Pending"}`).join(", ");
  return `updating ${active || "nothing yet"}; ${t.pending.length} waiting; ${summaryOf(t.counts)}`;
}
