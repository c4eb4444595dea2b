import { TerminalError } from "../errors.js";
import { formatDuration, formatInstant } from "./format.js";
import { windowLabel, windowState, type WindowSpec, type WindowState } from "./window.js";

/**
 * Whether a disruptive step may start now, given the plan's allowed windows and blackouts.
 *
 * Rules, checked in this order (the first that applies is reported):
 * 1. InBlackout: a blackout is open now. retryAt = when no blackout is open any more (blackouts that
 *    overlap or touch are followed to their common end).
 * 2. OutsideWindow: the plan lists windows and none is open now. retryAt = the earliest next opening.
 * 3. WindowClosing: a window is open but the step's expected duration would run past the end of the
 *    open time (windows that overlap or touch count as one). retryAt = the next opening after that end.
 * 4. BlackoutStarting: a blackout opens before the step's expected duration ends. retryAt = when it,
 *    and any blackout it runs into, has closed.
 * No windows means any time. A step that ends exactly when a window closes or a blackout opens fits.
 *
 * `force` is the `refit.dev/force` annotation (see parseForce): `"windows"` skips rules 2 and 3, so a
 * person can patch outside the windows; `"all"` skips every rule, blackouts included; `false` skips none.
 * Blackouts usually protect someone else's work (DNS maintenance, backups), so forcing past them takes
 * the explicit `all`.
 */

export type Force = "windows" | "all" | false;

export type GateReason = "OutsideWindow" | "InBlackout" | "WindowClosing" | "BlackoutStarting";

export type GateResult =
  | {
      allowed: true;
      /** Rules that would have blocked the step but were overridden by `force`, in rule order. */
      overridden: GateReason[];
    }
  | { allowed: false; reason: GateReason; message: string; retryAt: number };

export interface GateInput {
  /** Allowed windows; empty means any time. */
  windows: readonly WindowSpec[];
  blackouts: readonly WindowSpec[];
  nowMs: number;
  /** How long the step is expected to take; 0 checks only the instant. */
  expectedDurationMs: number;
  force: Force;
}

/**
 * Reads the `refit.dev/force` annotation: absent or `false` → false; `true` or `windows` → "windows";
 * `all` → "all". Any other value is a TerminalError (the controller reports it and does not force).
 */
export function parseForce(annotation: string | undefined): Force {
  if (annotation === undefined) return false;
  const v = annotation.trim().toLowerCase();
  if (v === "false") return false;
  if (v === "true" || v === "windows") return "windows";
  if (v === "all") return "all";
  throw new TerminalError(
    "InvalidForce",
    `annotation refit.dev/force=${JSON.stringify(annotation)} is not understood: use "windows" (or "true") ` +
      `to act outside maintenance windows, or "all" to also act during blackouts`,
    { annotation },
  );
}

interface Evaluated {
  spec: WindowSpec;
  state: WindowState;
}

const zoneOf = (spec: WindowSpec): string => spec.timeZone ?? "UTC";

/**
 * From `start`, the first instant at which none of `specs` is open, following open periods that
 * overlap or touch. Bounded: each step moves to a later close, and there are only so many specs.
 */
function clearAt(specs: readonly WindowSpec[], start: number): number {
  let t = start;
  for (let i = 0; i <= specs.length * 64; i++) {
    const open = specs.map((s) => windowState(s, t)).filter((s) => s.open);
    if (open.length === 0) return t;
    t = Math.max(...open.map((s) => s.closesAt ?? t));
  }
  throw new TerminalError(
    "WindowNeverCloses",
    `the windows ${specs.map(windowLabel).join(", ")} keep each other open without a break from ` +
      `${new Date(start).toISOString()}; check their schedules and durations`,
  );
}

function earliestOpening(specs: readonly WindowSpec[], at: number): Evaluated {
  const all = specs.map((spec) => ({ spec, state: windowState(spec, at) }));
  return all.reduce((a, b) => (b.state.nextOpen < a.state.nextOpen ? b : a));
}

export function scheduleGate(input: GateInput): GateResult {
  const { windows, blackouts, nowMs, force } = input;
  const expected = Math.max(0, input.expectedDurationMs);
  const ends = nowMs + expected;
  const overridden: GateReason[] = [];
  const honourBlackouts = force !== "all";
  const honourWindows = force === false;

  const blackoutStates: Evaluated[] = blackouts.map((spec) => ({ spec, state: windowState(spec, nowMs) }));
  const openBlackouts = blackoutStates.filter((b) => b.state.open);
  const firstOpen = openBlackouts[0];
  if (firstOpen) {
    if (honourBlackouts) {
      const retryAt = clearAt(blackouts, nowMs);
      const names = openBlackouts.map((b) => windowLabel(b.spec)).join(", ");
      return {
        allowed: false,
        reason: "InBlackout",
        retryAt,
        message:
          `blackout ${names} is open; nothing disruptive starts until ` +
          `${openBlackouts.length > 1 ? "they close" : "it closes"} at ${formatInstant(retryAt, zoneOf(firstOpen.spec))}`,
      };
    }
    overridden.push("InBlackout");
  }

  if (windows.length > 0) {
    const windowStates: Evaluated[] = windows.map((spec) => ({ spec, state: windowState(spec, nowMs) }));
    const openWindows = windowStates.filter((w) => w.state.open);
    const firstOpenWindow = openWindows[0];
    if (!firstOpenWindow) {
      if (honourWindows) {
        const next = windowStates.reduce((a, b) => (b.state.nextOpen < a.state.nextOpen ? b : a));
        return {
          allowed: false,
          reason: "OutsideWindow",
          retryAt: next.state.nextOpen,
          message:
            `outside every maintenance window; the next, ${windowLabel(next.spec)}, opens at ` +
            `${formatInstant(next.state.nextOpen, zoneOf(next.spec))}. ` +
            "Annotate the plan refit.dev/force=windows to act now",
        };
      }
      overridden.push("OutsideWindow");
    } else {
      const closesAt = clearAt(windows, nowMs);
      if (ends > closesAt) {
        if (honourWindows) {
          // The window whose end is the end of the open time: the one still open just before it.
          const closing =
            windows.find((spec) => windowState(spec, closesAt - 1).open) ?? firstOpenWindow.spec;
          const next = earliestOpening(windows, closesAt);
          const periodStart = Math.min(...openWindows.map((w) => w.state.openedAt ?? nowMs));
          const never =
            expected > closesAt - periodStart
              ? ` The step is longer than the whole open period (${formatDuration(closesAt - periodStart)}):` +
                " lengthen the window, or it will never fit."
              : "";
          return {
            allowed: false,
            reason: "WindowClosing",
            retryAt: next.state.nextOpen,
            message:
              `the step is expected to take ${formatDuration(expected)} but ${windowLabel(closing)} ` +
              `closes at ${formatInstant(closesAt, zoneOf(closing))}, in ${formatDuration(closesAt - nowMs)}; ` +
              `waiting for ${windowLabel(next.spec)} at ${formatInstant(next.state.nextOpen, zoneOf(next.spec))}.` +
              never,
          };
        }
        overridden.push("WindowClosing");
      }
    }
  }

  const starting = blackoutStates
    .filter((b) => !b.state.open && b.state.nextOpen < ends)
    .sort((a, b) => a.state.nextOpen - b.state.nextOpen)[0];
  if (starting) {
    if (honourBlackouts) {
      const retryAt = clearAt(blackouts, starting.state.nextOpen);
      const zone = zoneOf(starting.spec);
      return {
        allowed: false,
        reason: "BlackoutStarting",
        retryAt,
        message:
          `blackout ${windowLabel(starting.spec)} opens at ${formatInstant(starting.state.nextOpen, zone)}, ` +
          `before the step's expected ${formatDuration(expected)} would end; ` +
          `retrying after it closes at ${formatInstant(retryAt, zone)}`,
      };
    }
    overridden.push("BlackoutStarting");
  }

  return { allowed: true, overridden };
}
