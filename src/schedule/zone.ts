import { TerminalError } from "../errors.js";

/**
 * Wall-clock time in an IANA time zone, computed with the runtime's Intl time zone database (no date
 * library). A wall time is represented as "wall milliseconds": the epoch milliseconds the same calendar
 * fields would have in UTC (`Date.UTC(year, month - 1, day, hour, minute, second)`), which makes
 * calendar arithmetic on wall times plain integer arithmetic.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Calendar fields of a wall time; `month` is 1-12, `weekday` 0-6 with 0 = Sunday. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  const cached = formatters.get(timeZone);
  if (cached) return cached;
  let made: Intl.DateTimeFormat;
  try {
    made = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch (err) {
    throw new TerminalError(
      "InvalidTimeZone",
      `time zone ${JSON.stringify(timeZone)} is not in this runtime's time zone database; ` +
        "use an IANA name such as Europe/Berlin or UTC",
      { timeZone },
      { cause: err },
    );
  }
  formatters.set(timeZone, made);
  return made;
}

/** Throws a TerminalError unless `timeZone` is a zone the runtime knows. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

const FORMATTED = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** The wall time of instant `epochMs` in `timeZone`, as wall milliseconds. */
export function wallMs(timeZone: string, epochMs: number): number {
  const f = formatter(timeZone);
  const subSecond = epochMs - Math.floor(epochMs / 1000) * 1000;
  // format() and a regex are several times faster than formatToParts(); the parts are the fallback
  // for anything the fixed en-US shape does not cover (eras before year 1).
  const m = FORMATTED.exec(f.format(epochMs));
  if (m) {
    const [, month, day, year, hour, minute, second] = m.map(Number);
    return utc(year ?? 0, month ?? 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0) + subSecond;
  }
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(f.formatToParts(epochMs).find((p) => p.type === type)?.value ?? Number.NaN);
  return utc(get("year"), get("month"), get("day"), get("hour"), get("minute"), get("second")) + subSecond;
}

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The zone's offset from UTC at `epochMs` (wall minus instant), e.g. +3_600_000 for CET. */
export function offsetMs(timeZone: string, epochMs: number): number {
  return wallMs(timeZone, epochMs) - epochMs;
}

/** Calendar fields of wall milliseconds. */
export function wallFields(wall: number): WallTime {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** Every instant whose wall time in `timeZone` is `wall`, earliest first: none in a DST gap, two in a repeat. */
export function instantsOf(timeZone: string, wall: number): number[] {
  // Offsets a day either side cover every transition that can bear on this wall time; the exact
  // instants are then the candidates that map back to the same wall time.
  const offsets = new Set<number>();
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const o = offsetMs(timeZone, probe);
    offsets.add(o);
    offsets.add(offsetMs(timeZone, wall - o));
  }
  const found = new Set<number>();
  for (const o of offsets) if (wallMs(timeZone, wall - o) === wall) found.add(wall - o);
  return [...found].sort((a, b) => a - b);
}

/**
 * The instant at which wall time `wall` happens in `timeZone`, by Refit's DST rule: the instant it
 * occurs; its first occurrence when clocks fall back and it happens twice; and when clocks spring
 * forward over it, the first instant after the gap (03:00 for a skipped 02:30). The result never
 * decreases as `wall` increases, which is what lets callers binary-search wall times.
 */
export function instantOf(timeZone: string, wall: number): number {
  // Fast path: the offset is the same a day either side, so no transition can bear on this wall time.
  const guess = offsetMs(timeZone, wall - offsetMs(timeZone, wall));
  const t = wall - guess;
  if (
    wallMs(timeZone, t) === wall &&
    offsetMs(timeZone, t - DAY_MS) === guess &&
    offsetMs(timeZone, t + DAY_MS) === guess
  )
    return t;
  const exact = instantsOf(timeZone, wall);
  if (exact[0] !== undefined) return exact[0];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const o = offsetMs(timeZone, probe);
    lo = Math.min(lo, wall - o);
    hi = Math.max(hi, wall - o);
  }
  // Inside a gap the wall time runs ahead of `wall` from the transition on and behind it before:
  // binary-search the transition to the second (zone transitions fall on whole seconds).
  lo = Math.floor(lo / 1000);
  hi = Math.ceil(hi / 1000);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallMs(timeZone, mid * 1000) >= wall) hi = mid;
    else lo = mid + 1;
  }
  return lo * 1000;
}

/** `wall` truncated to its day's midnight. */
export function wallDayStart(wall: number): number {
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
