import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { nextOccurrence, parseCron, previousOccurrence } from "../../src/schedule/cron.js";

/*
 * Properties of nextOccurrence against an oracle written independently of src/schedule: the test
 * builds expressions from a structure whose selected values it computes itself, reads wall times
 * with its own Intl formatter, and finds occurrences by walking real time minute by minute.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"] as const;
/** 2026 DST transitions of the zones above, to aim instants at. */
const TRANSITIONS: [string, number][] = [
  ["Europe/Berlin", Date.parse("2026-03-29T01:00:00Z")],
  ["Europe/Berlin", Date.parse("2026-10-25T01:00:00Z")],
  ["America/New_York", Date.parse("2026-03-08T07:00:00Z")],
  ["America/New_York", Date.parse("2026-11-01T06:00:00Z")],
  ["Australia/Lord_Howe", Date.parse("2026-04-04T15:00:00Z")],
  ["Australia/Lord_Howe", Date.parse("2026-10-03T15:30:00Z")],
];

type Item =
  | { kind: "star"; step: number | undefined }
  | { kind: "value"; v: number }
  | { kind: "range"; a: number; b: number; step: number | undefined };

type FieldValue = { items: Item[]; useNames: boolean };

interface FieldShape {
  min: number;
  max: number;
  names?: readonly string[];
  nameBase?: number;
}
const MINUTE_F: FieldShape = { min: 0, max: 59 };
const HOUR_F: FieldShape = { min: 0, max: 23 };
const DOM_F: FieldShape = { min: 1, max: 31 };
const MONTH_F: FieldShape = {
  min: 1,
  max: 12,
  names: ["jan", "FEB", "Mar", "apr", "MAY", "jun", "Jul", "aug", "SEP", "oct", "Nov", "DEC"],
  nameBase: 1,
};
const DOW_F: FieldShape = {
  min: 0,
  max: 7,
  names: ["SUN", "mon", "Tue", "WED", "thu", "Fri", "sat"],
  nameBase: 0,
};

function itemArb(f: FieldShape): fc.Arbitrary<Item> {
  const step = fc.option(fc.integer({ min: 1, max: Math.min(f.max - f.min + 1, 12) }), { nil: undefined });
  return fc.oneof(
    step.map((s): Item => ({ kind: "star", step: s })),
    fc.integer({ min: f.min, max: f.max }).map((v): Item => ({ kind: "value", v })),
    fc
      .tuple(fc.integer({ min: f.min, max: f.max }), fc.integer({ min: f.min, max: f.max }), step)
      .map(([x, y, s]): Item => ({ kind: "range", a: Math.min(x, y), b: Math.max(x, y), step: s })),
  );
}

const fieldArb = (f: FieldShape): fc.Arbitrary<FieldValue> =>
  fc.record({ items: fc.array(itemArb(f), { minLength: 1, maxLength: 3 }), useNames: fc.boolean() });

function render(f: FieldShape, field: FieldValue): string {
  const name = (v: number): string => {
    const n = f.names?.[v - (f.nameBase ?? 0)];
    return field.useNames && n !== undefined ? n : String(v);
  };
  return field.items
    .map((i) =>
      i.kind === "star"
        ? i.step === undefined
          ? "*"
          : `*/${i.step}`
        : i.kind === "value"
          ? name(i.v)
          : `${name(i.a)}-${name(i.b)}${i.step === undefined ? "" : `/${i.step}`}`,
    )
    .join(",");
}

function selected(f: FieldShape, items: Item[], weekday = false): Set<number> {
  const out = new Set<number>();
  for (const i of items) {
    const [a, b, step] =
      i.kind === "star"
        ? [f.min, weekday ? 6 : f.max, i.step ?? 1]
        : i.kind === "value"
          ? [i.v, i.v, 1]
          : [i.a, i.b, i.step ?? 1];
    for (let v = a; v <= b; v += step) out.add(weekday && v === 7 ? 0 : v);
  }
  return out;
}

interface Oracle {
  expr: string;
  matches(wall: Wall): boolean;
  /** Every day is selected, so it fires at least daily. */
  daily: boolean;
  reachable: boolean;
}

function oracle(fields: readonly FieldValue[]): Oracle {
  const [mi, ho, dm, mo, dw] = fields as [FieldValue, FieldValue, FieldValue, FieldValue, FieldValue];
  const minutes = selected(MINUTE_F, mi.items);
  const hours = selected(HOUR_F, ho.items);
  const doms = selected(DOM_F, dm.items);
  const months = selected(MONTH_F, mo.items);
  const dows = selected(DOW_F, dw.items, true);
  const domText = render(DOM_F, dm);
  const dowText = render(DOW_F, dw);
  const domRestricted = !domText.startsWith("*");
  const dowRestricted = !dowText.startsWith("*");
  const expr = [render(MINUTE_F, mi), render(HOUR_F, ho), domText, render(MONTH_F, mo), dowText].join(" ");
  const monthDays = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return {
    expr,
    matches: (w) => {
      const day =
        domRestricted && dowRestricted
          ? doms.has(w.day) || dows.has(w.weekday)
          : doms.has(w.day) && dows.has(w.weekday);
      return minutes.has(w.minute) && hours.has(w.hour) && months.has(w.month) && day;
    },
    daily: doms.size === 31 && months.size === 12 && dows.size === 7,
    reachable: dowRestricted || [...months].some((m) => [...doms].some((d) => d <= (monthDays[m] ?? 0))),
  };
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
  /** The wall time as minutes since the epoch, for ordering. */
  index: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallOf(zone: string, t: number): Wall {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
    });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, p.value]));
  const [year, month, day, hour, minute] = ["year", "month", "day", "hour", "minute"].map((k) =>
    Number(parts[k]),
  ) as [number, number, number, number, number];
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(String(parts.weekday));
  return {
    year,
    month,
    day,
    hour,
    minute,
    weekday,
    index: Date.UTC(year, month - 1, day, hour, minute) / MINUTE,
  };
}
function wallFromIndex(index: number): Wall {
  const d = new Date(index * MINUTE);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
    index,
  };
}

/**
 * The first occurrence after `t`, by walking real minutes: a minute is an occurrence when it reaches
 * wall times not reached before (so a repeated hour reaches nothing new) and one of them matches (so
 * a skipped 02:30 fires at the first minute after the gap).
 */
function bruteForceNext(o: Oracle, zone: string, t: number, limit: number): number | undefined {
  let x = Math.floor(t / MINUTE) * MINUTE - 3 * HOUR;
  let reached = wallOf(zone, x).index;
  for (x += MINUTE; x <= limit; x += MINUTE) {
    const w = wallOf(zone, x);
    let fires = false;
    for (let i = reached + 1; i <= w.index; i++) if (o.matches(wallFromIndex(i))) fires = true;
    reached = Math.max(reached, w.index);
    if (fires && x > t) return x;
  }
  return undefined;
}

const fieldsArb = fc.tuple(
  fieldArb(MINUTE_F),
  fieldArb(HOUR_F),
  fieldArb(DOM_F),
  fieldArb(MONTH_F),
  fieldArb(DOW_F),
);
const everyValue = (): FieldValue => ({ items: [{ kind: "star", step: undefined }], useNames: false });
/** Hours around the transitions of the zones above (01:00-03:00 local), so gaps and repeats get hit. */
const nightHoursArb: fc.Arbitrary<FieldValue> = fc.constantFrom<FieldValue>(
  { items: [{ kind: "value", v: 2 }], useNames: false },
  { items: [{ kind: "range", a: 1, b: 3, step: undefined }], useNames: false },
  {
    items: [
      { kind: "value", v: 1 },
      { kind: "value", v: 3 },
    ],
    useNames: false,
  },
);
const dailyArb = fc.tuple(
  fieldArb(MINUTE_F),
  fc.oneof(fieldArb(HOUR_F), nightHoursArb),
  fc.constant(null).map(everyValue),
  fc.constant(null).map(everyValue),
  fc.constant(null).map(everyValue),
);
/** A zone and an instant: anywhere in 2026-2027, or within hours of one of the zone's DST changes. */
const whenArb: fc.Arbitrary<[string, number]> = fc.oneof(
  fc.tuple(
    fc.constantFrom(...ZONES),
    fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2028-01-01T00:00:00Z") }),
  ),
  fc
    .constantFrom(...TRANSITIONS)
    .chain(([zone, tr]) =>
      fc.tuple(fc.constant(zone), fc.integer({ min: tr - 30 * HOUR, max: tr + 6 * HOUR })),
    ),
);

describe("nextOccurrence properties", () => {
  it("for daily expressions, is the first minute after t at which the brute-force walk fires", () => {
    fc.assert(
      fc.property(dailyArb, whenArb, (fields, [zone, t]) => {
        const o = oracle(fields);
        const next = nextOccurrence(o.expr, zone, t);
        expect(next).toBeGreaterThan(t);
        expect(next - t).toBeLessThanOrEqual(DAY + 2 * HOUR);
        expect(bruteForceNext(o, zone, t, next + MINUTE)).toBe(next);
      }),
      { numRuns: 120 },
    );
  });

  it("for any expression, is after t, matches in wall time (or closes a gap over a match) and is the first run", () => {
    fc.assert(
      fc.property(fieldsArb, whenArb, (fields, [zone, t]) => {
        const o = oracle(fields);
        if (!o.reachable) {
          expect(() => parseCron(o.expr)).toThrow(TerminalError);
          return;
        }
        const next = nextOccurrence(o.expr, zone, t);
        expect(next).toBeGreaterThan(t);
        const w = wallOf(zone, next);
        const before = wallOf(zone, next - MINUTE);
        let gapMatch = false;
        for (let i = before.index + 1; i < w.index; i++) if (o.matches(wallFromIndex(i))) gapMatch = true;
        expect(o.matches(w) || gapMatch).toBe(true);
        // Not a repeat of a wall time that already happened (30- and 60-minute fall-backs).
        expect(wallOf(zone, next - 30 * MINUTE).index).not.toBe(w.index);
        expect(wallOf(zone, next - HOUR).index).not.toBe(w.index);
        // previousOccurrence agrees that nothing fired in between.
        expect(previousOccurrence(o.expr, zone, next)).toBe(next);
        expect(previousOccurrence(o.expr, zone, next - 1)).toBeLessThanOrEqual(t);
        if (next - t < DAY + 2 * HOUR) expect(bruteForceNext(o, zone, t, next + MINUTE)).toBe(next);
      }),
      { numRuns: 150 },
    );
  });
});
