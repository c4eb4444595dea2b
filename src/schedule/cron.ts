import { TerminalError } from "../errors.js";
import {
  DAY_MS,
  MINUTE_MS,
  assertTimeZone,
  daysInMonth,
  instantOf,
  wallDayStart,
  wallFields,
  wallMs,
} from "./zone.js";

/**
 * 5-field cron expressions (minute hour day-of-month month day-of-week) with Vixie cron semantics,
 * evaluated in an IANA time zone.
 *
 * Syntax per field: `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n`, and comma lists of those.
 * Months accept JAN-DEC and weekdays SUN-SAT (any case); weekday 0 and 7 are both Sunday, and SUN may
 * end a range (`FRI-SUN`). A bare `a/n` is refused because crons disagree on its meaning: write
 * `a-59/n` (or `*\/n`).
 *
 * Day matching (Vixie): when day-of-month and day-of-week are both restricted, a day matches if
 * EITHER matches (`0 0 13 * 5` is every 13th and every Friday). A field counts as unrestricted when it
 * starts with `*`, which includes `*\/2`: then both fields must match.
 *
 * DST rule: every wall time the expression matches fires at most once. A wall time that happens once
 * fires when it happens. A wall time that happens twice when clocks fall back fires at its first
 * occurrence only. A wall time that does not exist because clocks spring forward fires at the first
 * instant after the gap (02:30 on Europe/Berlin's spring-forward day fires at 03:00 CEST), and all the
 * skipped times together fire once, at that instant.
 */

/** A parsed expression. Build with `parseCron`. */
export interface CronSchedule {
  readonly source: string;
  /** Minutes of the day (hour * 60 + minute) the expression fires at, ascending. */
  readonly times: readonly number[];
  /** Index = day of month 1-31. */
  readonly daysOfMonth: readonly boolean[];
  /** Index = month 1-12. */
  readonly months: readonly boolean[];
  /** Index = weekday 0-6, 0 = Sunday. */
  readonly weekdays: readonly boolean[];
  readonly dayOfMonthRestricted: boolean;
  readonly weekdayRestricted: boolean;
}

/**
 * How far nextOccurrence / previousOccurrence look before giving up. The Gregorian calendar repeats
 * every 400 years, so every expression the parser accepts fires within this bound; the rarest ones
 * (February 29 that is also a Sunday: `0 0 29 2 *\/7`, where the star makes both day fields apply)
 * fire up to 40 years apart. Whole months the expression excludes are skipped, so a search costs at
 * most one cheap check per day of the selected months, and wall-time conversions only on matching days.
 */
export const SEARCH_YEARS = 400;

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Value of names[0]; months start at 1. */
  nameBase?: number;
}

const FIELDS: readonly FieldDef[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { name: "day-of-week", min: 0, max: 7, names: WEEKDAY_NAMES, nameBase: 0 },
];

class FieldError extends Error {}

function invalid(
  expression: string,
  field: FieldDef | undefined,
  text: string,
  problem: string,
): TerminalError {
  const where = field ? `${field.name} field ${JSON.stringify(text)}: ` : "";
  return new TerminalError(
    "InvalidSchedule",
    `invalid cron expression ${JSON.stringify(expression)}: ${where}${problem}. ` +
      "Expected 5 fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * 6'",
    { expression, field: field?.name },
  );
}

function parseValue(def: FieldDef, text: string): number {
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n < def.min || n > def.max) throw new FieldError(`${text} is out of range ${def.min}-${def.max}`);
    return n;
  }
  if (def.names) {
    const i = def.names.indexOf(text.toUpperCase());
    if (i >= 0) return i + (def.nameBase ?? 0);
    const kind = def.name === "month" ? "month name (JAN-DEC)" : "weekday name (SUN-SAT)";
    throw new FieldError(`${JSON.stringify(text)} is neither a number ${def.min}-${def.max} nor a ${kind}`);
  }
  throw new FieldError(`${JSON.stringify(text)} is not a number ${def.min}-${def.max}`);
}

/** The values one field selects, and whether it is unrestricted in Vixie's sense (starts with `*`). */
function parseField(def: FieldDef, text: string): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw new FieldError("a list has an empty element");
    const slash = item.indexOf("/");
    const base = slash < 0 ? item : item.slice(0, slash);
    let step = 1;
    if (slash >= 0) {
      const stepText = item.slice(slash + 1);
      if (!/^[0-9]+$/.test(stepText))
        throw new FieldError(`step ${JSON.stringify(stepText)} is not a number`);
      step = Number(stepText);
      const span = def.max - def.min + 1;
      if (step < 1 || step > span) throw new FieldError(`step ${stepText} must be between 1 and ${span}`);
    }
    let from: number;
    let to: number;
    if (base === "*") {
      from = def.min;
      to = def.name === "day-of-week" ? 6 : def.max;
    } else {
      const dash = base.indexOf("-");
      if (dash < 0) {
        if (slash >= 0)
          throw new FieldError(
            `a step needs a range: write ${base}-${def.max}/${step} or */${step}, not ${JSON.stringify(item)}`,
          );
        from = to = parseValue(def, base);
      } else {
        const endText = base.slice(dash + 1);
        if (endText.includes("-")) throw new FieldError(`${JSON.stringify(base)} is not a range a-b`);
        from = parseValue(def, base.slice(0, dash));
        to = parseValue(def, endText);
        // SUN ending a range after another day is the Sunday that closes the week (7): FRI-SUN.
        if (def.name === "day-of-week" && to === 0 && from > 0 && !/^[0-9]+$/.test(endText)) to = 7;
        if (from > to) throw new FieldError(`range ${base} runs backwards (${from} > ${to})`);
      }
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  if (def.name === "day-of-week" && values.delete(7)) values.add(0);
  return { values, star: text.startsWith("*") };
}

function flags(values: Set<number>, size: number): boolean[] {
  return Array.from({ length: size }, (_, i) => values.has(i));
}

const cache = new Map<string, CronSchedule>();

/** Parses a 5-field cron expression, or throws a TerminalError naming the field and what is wrong. */
export function parseCron(expression: string): CronSchedule {
  const cached = cache.get(expression);
  if (cached) return cached;
  const parts = expression.trim().split(/\s+/);
  if (expression.trim() === "" || parts.length !== 5) {
    const got = expression.trim() === "" ? 0 : parts.length;
    throw invalid(expression, undefined, "", `it has ${got} field${got === 1 ? "" : "s"}, not 5`);
  }
  const parsed = FIELDS.map((def, i) => {
    const text = parts[i] ?? "";
    try {
      return parseField(def, text);
    } catch (err) {
      if (err instanceof FieldError) throw invalid(expression, def, text, err.message);
      throw err;
    }
  });
  const [minute, hour, dom, month, dow] = parsed as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  const times: number[] = [];
  for (const h of [...hour.values].sort((a, b) => a - b))
    for (const m of [...minute.values].sort((a, b) => a - b)) times.push(h * 60 + m);
  const schedule: CronSchedule = {
    source: expression,
    times,
    daysOfMonth: flags(dom.values, 32),
    months: flags(month.values, 13),
    weekdays: flags(dow.values, 7),
    dayOfMonthRestricted: !dom.star,
    weekdayRestricted: !dow.star,
  };
  // With day-of-week unrestricted the days of month alone decide; "31 in February" would never fire.
  if (!schedule.weekdayRestricted) {
    const reachable = [...month.values].some((m) => [...dom.values].some((d) => d <= daysInMonth(2024, m)));
    if (!reachable) {
      const monthList = [...month.values]
        .sort((a, b) => a - b)
        .map((m) => MONTH_NAMES[m - 1])
        .join(",");
      throw invalid(
        expression,
        FIELDS[2],
        parts[2] ?? "",
        `no selected day exists in the selected months (${monthList}), so it would never run`,
      );
    }
  }
  if (cache.size >= 512) cache.clear();
  cache.set(expression, schedule);
  return schedule;
}

function resolve(expr: string | CronSchedule): CronSchedule {
  return typeof expr === "string" ? parseCron(expr) : expr;
}

function dayMatches(s: CronSchedule, year: number, month: number, day: number): boolean {
  const dom = s.daysOfMonth[day] === true;
  const dow = s.weekdays[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] === true;
  return s.dayOfMonthRestricted && s.weekdayRestricted ? dom || dow : dom && dow;
}

/** Whether the wall time (wall milliseconds, see zone.ts) is one the expression selects. */
export function cronMatchesWall(expr: string | CronSchedule, wall: number): boolean {
  const s = resolve(expr);
  const f = wallFields(wall);
  if (f.second !== 0 || wall % 1000 !== 0) return false;
  return (
    s.months[f.month] === true &&
    dayMatches(s, f.year, f.month, f.day) &&
    s.times.includes(f.hour * 60 + f.minute)
  );
}

/** Wall-day starts (midnight, wall milliseconds) the expression's day fields select, stepping by `dir`. */
function* matchingDays(s: CronSchedule, fromDay: number, dir: 1 | -1): Generator<number> {
  const limit = fromDay + dir * (SEARCH_YEARS * 366 + 2) * DAY_MS;
  let { year, month, day } = wallFields(fromDay);
  for (;;) {
    const dayStart = Date.UTC(year, month - 1, day);
    if (dir > 0 ? dayStart > limit : dayStart < limit) return;
    const dim = daysInMonth(year, month);
    // Skip whole months the month field excludes instead of walking their days.
    if (s.months[month] !== true) {
      if (dir > 0) {
        month += 1;
        if (month > 12) [month, year] = [1, year + 1];
        day = 1;
      } else {
        month -= 1;
        if (month < 1) [month, year] = [12, year - 1];
        day = daysInMonth(year, month);
      }
      continue;
    }
    if (dayMatches(s, year, month, day)) yield dayStart;
    day += dir;
    if (day > dim) {
      month += 1;
      if (month > 12) [month, year] = [1, year + 1];
      day = 1;
    } else if (day < 1) {
      month -= 1;
      if (month < 1) [month, year] = [12, year - 1];
      day = daysInMonth(year, month);
    }
  }
}

function noOccurrence(s: CronSchedule, timeZone: string, direction: string, epochMs: number): TerminalError {
  return new TerminalError(
    "NoOccurrence",
    `cron expression ${JSON.stringify(s.source)} in ${timeZone} has no occurrence within ${SEARCH_YEARS} ` +
      `years ${direction} ${new Date(epochMs).toISOString()}; check its day-of-month and month fields`,
    { expression: s.source, timeZone },
  );
}

/**
 * The first instant strictly after `afterEpochMs` at which the expression fires in `timeZone` (see the
 * DST rule above). Throws a TerminalError for an invalid expression or time zone, or when nothing
 * fires within SEARCH_YEARS.
 */
export function nextOccurrence(expr: string | CronSchedule, timeZone: string, afterEpochMs: number): number {
  const s = resolve(expr);
  assertTimeZone(timeZone);
  // Start a day early: a fall-back repeat can put an earlier wall day's time after the instant.
  const firstDay = wallDayStart(wallMs(timeZone, afterEpochMs)) - DAY_MS;
  const last = s.times[s.times.length - 1] ?? 0;
  for (const day of matchingDays(s, firstDay, 1)) {
    if (instantOf(timeZone, day + last * MINUTE_MS) <= afterEpochMs) continue;
    // instantOf never decreases along the day's ascending times: binary-search the first one after.
    let lo = 0;
    let hi = s.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (instantOf(timeZone, day + (s.times[mid] ?? 0) * MINUTE_MS) > afterEpochMs) hi = mid;
      else lo = mid + 1;
    }
    const t = s.times[lo];
    if (t !== undefined) return instantOf(timeZone, day + t * MINUTE_MS);
  }
  throw noOccurrence(s, timeZone, "after", afterEpochMs);
}

/**
 * The last instant at or before `atOrBeforeEpochMs` at which the expression fires in `timeZone`;
 * the mirror of nextOccurrence.
 */
export function previousOccurrence(
  expr: string | CronSchedule,
  timeZone: string,
  atOrBeforeEpochMs: number,
): number {
  const s = resolve(expr);
  assertTimeZone(timeZone);
  const firstDay = wallDayStart(wallMs(timeZone, atOrBeforeEpochMs)) + DAY_MS;
  const first = s.times[0] ?? 0;
  for (const day of matchingDays(s, firstDay, -1)) {
    if (instantOf(timeZone, day + first * MINUTE_MS) > atOrBeforeEpochMs) continue;
    let lo = 0;
    let hi = s.times.length;
    // First index whose instant is after the bound; the one before it is the answer.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (instantOf(timeZone, day + (s.times[mid] ?? 0) * MINUTE_MS) > atOrBeforeEpochMs) hi = mid;
      else lo = mid + 1;
    }
    const t = s.times[lo - 1];
    if (t !== undefined) return instantOf(timeZone, day + t * MINUTE_MS);
  }
  throw noOccurrence(s, timeZone, "before", atOrBeforeEpochMs);
}
