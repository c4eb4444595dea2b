import { parseDuration } from "../api/primitives.js";
import { TerminalError } from "../errors.js";
import { nextOccurrence, parseCron, previousOccurrence } from "./cron.js";
import { formatDuration } from "./format.js";
import { DAY_MS, assertTimeZone } from "./zone.js";

/**
 * A recurring window: it opens at every occurrence of `schedule` in `timeZone` and stays open for
 * `duration` of absolute time (a 4h window that opens at 01:00 on a spring-forward night closes at
 * 06:00 local, four real hours later). It is open at t iff some occurrence o has o <= t < o + duration.
 * Occurrences whose open spans overlap or touch form one continuous open period: `openedAt` is where
 * that period began and `closesAt` where it ends, however many occurrences it spans.
 */
export interface WindowSpec {
  /** The MaintenanceWindow's name, for messages. */
  name?: string;
  schedule: string;
  /** A duration string (`4h`, `1h30m`) or milliseconds. */
  duration: string | number;
  /** IANA time zone; UTC when absent. */
  timeZone?: string;
}

export interface WindowState {
  open: boolean;
  /** When open: the start of the continuous open period containing now. */
  openedAt?: number;
  /** When open: the end of that period. */
  closesAt?: number;
  /** The start of the next open period after now (after `closesAt` when open). */
  nextOpen: number;
  /** The end of the current open period when open, else of the one starting at `nextOpen`. */
  nextClose: number;
}

/** A window open continuously for longer than this is reported as never closing. */
export const MAX_OPEN_SPAN_MS = 366 * DAY_MS;
/** Occurrences merged into one open period before giving up (a dense schedule with a short duration). */
export const MAX_MERGED_OCCURRENCES = 5000;

export function windowLabel(spec: WindowSpec): string {
  return spec.name !== undefined
    ? `window ${JSON.stringify(spec.name)}`
    : `window ${JSON.stringify(spec.schedule)} (${spec.timeZone ?? "UTC"})`;
}

/** The duration in milliseconds, or a TerminalError when it is not a positive duration. */
export function windowDurationMs(spec: WindowSpec): number {
  let ms: number;
  try {
    ms = typeof spec.duration === "number" ? spec.duration : parseDuration(spec.duration);
  } catch (err) {
    throw new TerminalError(
      "InvalidDuration",
      `${windowLabel(spec)}: duration ${JSON.stringify(spec.duration)} is not a duration such as 4h or 1h30m`,
      { window: spec.name },
      { cause: err },
    );
  }
  if (!Number.isFinite(ms) || ms <= 0)
    throw new TerminalError(
      "InvalidDuration",
      `${windowLabel(spec)}: duration must be longer than zero, got ${JSON.stringify(spec.duration)}`,
      { window: spec.name },
    );
  return ms;
}

function neverCloses(spec: WindowSpec, durationMs: number, from: number): TerminalError {
  return new TerminalError(
    "WindowNeverCloses",
    `${windowLabel(spec)} (schedule ${JSON.stringify(spec.schedule)}, duration ${formatDuration(durationMs)}) ` +
      `stays open without a break from ${new Date(from).toISOString()} for more than ` +
      `${formatDuration(MAX_OPEN_SPAN_MS)} or ${MAX_MERGED_OCCURRENCES} occurrences; a window that never ` +
      "closes means 'any time': remove it from windowRefs, or shorten its duration",
    { window: spec.name },
  );
}

/** Evaluates a window at `nowMs`. Throws a TerminalError for an invalid schedule, zone or duration. */
export function windowState(spec: WindowSpec, nowMs: number): WindowState {
  const timeZone = spec.timeZone ?? "UTC";
  const cron = parseCron(spec.schedule);
  assertTimeZone(timeZone);
  const durationMs = windowDurationMs(spec);

  // The end of the open period that is open just before `end`: follow occurrences that start before
  // the current end (or exactly at it) until one does not reach past it.
  const closeOf = (end: number, from: number): number => {
    for (let i = 0; i < MAX_MERGED_OCCURRENCES; i++) {
      if (end - from > MAX_OPEN_SPAN_MS) break;
      const p = previousOccurrence(cron, timeZone, end);
      if (p + durationMs <= end) return end;
      end = p + durationMs;
    }
    throw neverCloses(spec, durationMs, from);
  };
  // The start of the open period containing occurrence `start`: walk back while an earlier occurrence
  // was still open when this one began.
  const openOf = (start: number): number => {
    const from = start;
    for (let i = 0; i < MAX_MERGED_OCCURRENCES; i++) {
      if (from - start > MAX_OPEN_SPAN_MS) break;
      const q = previousOccurrence(cron, timeZone, start - 1);
      if (q + durationMs < start) return start;
      start = q;
    }
    throw neverCloses(spec, durationMs, start);
  };

  const last = previousOccurrence(cron, timeZone, nowMs);
  if (last + durationMs > nowMs) {
    const openedAt = openOf(last);
    const closesAt = closeOf(last + durationMs, openedAt);
    return {
      open: true,
      openedAt,
      closesAt,
      nextOpen: nextOccurrence(cron, timeZone, closesAt),
      nextClose: closesAt,
    };
  }
  const nextOpen = nextOccurrence(cron, timeZone, nowMs);
  return { open: false, nextOpen, nextClose: closeOf(nextOpen + durationMs, nextOpen) };
}
