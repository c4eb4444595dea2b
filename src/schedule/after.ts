/**
 * Ordering between plans inside one cycle (`after`): "PVE before PBS before the control node".
 *
 * The rule: a plan may start its cycle's work when every plan in its `after` list
 * - exists (else `PredecessorMissing`: a plan deleted after validation; fail closed),
 * - is not stalled (`stalled` or phase `Stalled`; else `PredecessorStalled`: a person must act first),
 * - is not `Progressing` (else `WaitingForPlan`), and
 * - has finished a cycle at or after `cycleStartedAtMs` (else `WaitingForPlan`).
 * `cycleStartedAtMs` is where this plan's cycle began; pass the opening of the current window
 * (`windowState(...).openedAt`) for a windowed plan, so that a predecessor that already finished
 * earlier in the same window counts, and last week's run does not. A predecessor that is suspended
 * or outside its own window therefore holds this plan until it has run.
 */

export interface AfterPlan {
  kind: string;
  name: string;
  after: readonly { kind: string; name: string }[];
}

export interface AfterOther {
  kind: string;
  name: string;
  phase?: string;
  /** RFC 3339 time the plan's last cycle finished (status.lastCycle.finishedAt). */
  cycleFinishedAt?: string;
  stalled?: boolean;
}

export type AfterReason = "WaitingForPlan" | "PredecessorStalled" | "PredecessorMissing";

export type AfterResult =
  | { allowed: true }
  | {
      allowed: false;
      reason: AfterReason;
      message: string;
      /** The predecessors holding this plan, as `Kind/name`. */
      blockers: string[];
    };

const label = (r: { kind: string; name: string }): string => `${r.kind}/${r.name}`;

export function afterGate(
  plan: AfterPlan,
  others: readonly AfterOther[],
  cycleStartedAtMs: number,
): AfterResult {
  const since = new Date(cycleStartedAtMs).toISOString();
  const missing: string[] = [];
  const stalled: string[] = [];
  const waiting: string[] = [];
  const why: string[] = [];
  for (const ref of plan.after) {
    const other = others.find((o) => o.kind === ref.kind && o.name === ref.name);
    if (!other) {
      missing.push(label(ref));
      continue;
    }
    if (other.stalled === true || other.phase === "Stalled") {
      stalled.push(label(ref));
      continue;
    }
    if (other.phase === "Progressing") {
      waiting.push(label(ref));
      why.push(`${label(ref)} is still progressing`);
      continue;
    }
    const finished = other.cycleFinishedAt === undefined ? Number.NaN : Date.parse(other.cycleFinishedAt);
    if (!(finished >= cycleStartedAtMs)) {
      waiting.push(label(ref));
      const phase = other.phase !== undefined ? ` (phase ${other.phase})` : "";
      why.push(
        other.cycleFinishedAt === undefined
          ? `${label(ref)} has not finished a cycle${phase}`
          : Number.isNaN(finished)
            ? `${label(ref)} reports an unreadable cycle finish time ${JSON.stringify(other.cycleFinishedAt)}`
            : `${label(ref)} last finished a cycle at ${other.cycleFinishedAt}, before this cycle began at ${since}${phase}`,
      );
    }
  }
  const self = label(plan);
  if (stalled.length > 0)
    return {
      allowed: false,
      reason: "PredecessorStalled",
      blockers: stalled,
      message:
        `${self} runs after ${stalled.join(", ")}, which ${stalled.length > 1 ? "are" : "is"} stalled; ` +
        "fix and resume it first",
    };
  if (missing.length > 0)
    return {
      allowed: false,
      reason: "PredecessorMissing",
      blockers: missing,
      message:
        `${self} runs after ${missing.join(", ")}, which ${missing.length > 1 ? "do" : "does"} not exist; ` +
        "create it or remove it from after",
    };
  if (waiting.length > 0)
    return {
      allowed: false,
      reason: "WaitingForPlan",
      blockers: waiting,
      message: `${self} waits: ${why.join("; ")}`,
    };
  return { allowed: true };
}
