import { describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { nextOccurrence, parseCron, previousOccurrence, type CronSchedule } from "../../src/schedule/cron.js";

// Expected instants were checked against the system tz database with GNU date, e.g.
// `TZ=Europe/Berlin date -d 2026-03-29T01:00Z` → "Sun 03:00:00 CEST".
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** [expression, zone, after, the next occurrences in order]. */
const NEXT: [string, string, string, string[]][] = [
  ["0 2 * * 6", "UTC", "2026-01-01T00:00:00Z", ["2026-01-03T02:00:00.000Z", "2026-01-10T02:00:00.000Z"]],
  [
    "*/20 23 31 12 *",
    "UTC",
    "2026-12-31T23:30:00Z",
    ["2026-12-31T23:40:00.000Z", "2027-12-31T23:00:00.000Z"],
  ],
  ["0 3 29 2 *", "UTC", "2026-03-01T00:00:00Z", ["2028-02-29T03:00:00.000Z", "2032-02-29T03:00:00.000Z"]],
  // 2100 is not a leap year: the next February 29 after 2096 is in 2104.
  ["0 3 29 2 *", "UTC", "2097-01-01T00:00:00Z", ["2104-02-29T03:00:00.000Z"]],
  // Rare by design: `*/7` starts with *, so both day fields must match. August 14 on a Sunday was
  // 11 years apart (2022, 2033); February 29 on a Sunday comes 28 or 40 years apart.
  ["0 0 14 8 */7", "UTC", "2023-01-01T00:00:00Z", ["2033-08-14T00:00:00.000Z", "2039-08-14T00:00:00.000Z"]],
  [
    "0 0 29 2 */7",
    "UTC",
    "2005-01-01T00:00:00Z",
    [
      "2032-02-29T00:00:00.000Z",
      "2060-02-29T00:00:00.000Z",
      "2088-02-29T00:00:00.000Z",
      "2128-02-29T00:00:00.000Z",
    ],
  ],
  [
    "0 1 * * 6",
    "Europe/Berlin",
    "2026-01-01T00:00:00Z",
    ["2026-01-03T00:00:00.000Z", "2026-01-10T00:00:00.000Z"],
  ],
  [
    "0 1 * * 6",
    "Europe/Berlin",
    "2026-07-01T00:00:00Z",
    ["2026-07-03T23:00:00.000Z", "2026-07-10T23:00:00.000Z"],
  ],
  [
    "0 9 * * 1-5",
    "America/New_York",
    "2026-01-01T00:00:00Z",
    ["2026-01-01T14:00:00.000Z", "2026-01-02T14:00:00.000Z", "2026-01-05T14:00:00.000Z"],
  ],
  ["0 9 * * 1-5", "America/New_York", "2026-07-01T00:00:00Z", ["2026-07-01T13:00:00.000Z"]],
  ["0 12 * * *", "Australia/Lord_Howe", "2026-01-15T00:00:00Z", ["2026-01-15T01:00:00.000Z"]],
  ["0 12 * * *", "Australia/Lord_Howe", "2026-07-15T00:00:00Z", ["2026-07-15T01:30:00.000Z"]],
  [
    "0 9 * * *",
    "Asia/Kolkata",
    "2026-06-01T00:00:00Z",
    ["2026-06-01T03:30:00.000Z", "2026-06-02T03:30:00.000Z"],
  ],
  ["30 23 31 12 *", "Asia/Kolkata", "2026-06-01T00:00:00Z", ["2026-12-31T18:00:00.000Z"]],
  // Day-of-month and day-of-week both restricted: a day matches if either does (Vixie). April 2026:
  // Fridays are the 3rd, 10th, 17th, 24th; the 13th is a Monday.
  [
    "0 0 13 * 5",
    "UTC",
    "2026-04-01T00:00:00Z",
    [
      "2026-04-03T00:00:00.000Z",
      "2026-04-10T00:00:00.000Z",
      "2026-04-13T00:00:00.000Z",
      "2026-04-17T00:00:00.000Z",
      "2026-04-24T00:00:00.000Z",
    ],
  ],
  // A field starting with * is unrestricted, so both must match: days 1, 11, 21, 31 that are Mondays.
  ["0 0 */10 * MON", "UTC", "2026-01-01T00:00:00Z", ["2026-05-11T00:00:00.000Z", "2026-06-01T00:00:00.000Z"]],
  // Only the weekday is restricted: every Friday, no 13ths.
  ["0 0 * * 5", "UTC", "2026-04-10T00:00:00Z", ["2026-04-17T00:00:00.000Z"]],
];

/** Europe/Berlin 2026: clocks go 02:00 CET → 03:00 CEST on March 29 and 03:00 CEST → 02:00 CET on October 25. */
const DST: [string, string, string, string, string[]][] = [
  [
    "skipped 02:30 runs at 03:00 CEST, once",
    "30 2 * * *",
    "Europe/Berlin",
    "2026-03-28T12:00:00Z",
    ["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"],
  ],
  [
    "times around the gap run normally",
    "59 1 * * *",
    "Europe/Berlin",
    "2026-03-28T12:00:00Z",
    ["2026-03-29T00:59:00.000Z", "2026-03-29T23:59:00.000Z"],
  ],
  [
    "every skipped time and 03:00 itself collapse into one run",
    "0,30 2,3 * * *",
    "Europe/Berlin",
    "2026-03-29T00:00:00Z",
    ["2026-03-29T01:00:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-30T00:00:00.000Z"],
  ],
  [
    "repeated 02:30 runs at its first occurrence only",
    "30 2 * * *",
    "Europe/Berlin",
    "2026-10-24T12:00:00Z",
    ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
  ],
  [
    "a half-hourly job does not repeat the second 02:xx hour",
    "*/30 * * * *",
    "Europe/Berlin",
    "2026-10-25T00:00:00Z",
    ["2026-10-25T00:30:00.000Z", "2026-10-25T02:00:00.000Z", "2026-10-25T02:30:00.000Z"],
  ],
  [
    "03:00 after the fall-back runs once, in CET",
    "0 3 25 10 *",
    "Europe/Berlin",
    "2026-10-01T00:00:00Z",
    ["2026-10-25T02:00:00.000Z"],
  ],
  [
    "New York: skipped 02:30 runs at 03:00 EDT",
    "30 2 * * *",
    "America/New_York",
    "2026-03-07T12:00:00Z",
    ["2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z"],
  ],
  [
    "New York: repeated 01:30 runs in EDT only",
    "30 1 * * *",
    "America/New_York",
    "2026-10-31T12:00:00Z",
    ["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"],
  ],
  [
    "Lord Howe: 30-minute gap, 02:15 runs at 02:30 +11",
    "15 2 * * *",
    "Australia/Lord_Howe",
    "2026-10-03T00:00:00Z",
    ["2026-10-03T15:30:00.000Z", "2026-10-04T15:15:00.000Z"],
  ],
  [
    "Lord Howe: repeated 01:45 runs at +11 only",
    "45 1 * * *",
    "Australia/Lord_Howe",
    "2026-04-04T00:00:00Z",
    ["2026-04-04T14:45:00.000Z", "2026-04-05T15:15:00.000Z"],
  ],
];

function chain(expr: string, zone: string, after: string, count: number): string[] {
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < count; i++) {
    t = nextOccurrence(expr, zone, t);
    out.push(iso(t));
  }
  return out;
}

describe("nextOccurrence", () => {
  it.each(NEXT)("%s in %s after %s", (expr, zone, after, expected) => {
    expect(chain(expr, zone, after, expected.length)).toEqual(expected);
  });

  it.each(DST)("%s (%s in %s)", (_why, expr, zone, after, expected) => {
    expect(chain(expr, zone, after, expected.length)).toEqual(expected);
  });

  it("is strictly after the given instant, even exactly on an occurrence", () => {
    expect(iso(nextOccurrence("0 2 * * *", "UTC", at("2026-01-01T02:00:00Z")))).toBe(
      "2026-01-02T02:00:00.000Z",
    );
    expect(iso(nextOccurrence("0 2 * * *", "UTC", at("2026-01-01T01:59:59.999Z")))).toBe(
      "2026-01-01T02:00:00.000Z",
    );
  });

  it("accepts a parsed schedule as well as text", () => {
    const s = parseCron("15 4 * * *");
    expect(nextOccurrence(s, "UTC", at("2026-01-01T00:00:00Z"))).toBe(at("2026-01-01T04:15:00Z"));
  });

  it("gives up with a NoOccurrence TerminalError when nothing fires within the search bound", () => {
    // Every expression the parser accepts fires within 400 years (one calendar cycle), so hand it a schedule
    // that selects no day at all.
    const never: CronSchedule = {
      ...parseCron("0 0 * * *"),
      source: "no day",
      daysOfMonth: new Array<boolean>(32).fill(false),
    };
    expect(() => nextOccurrence(never, "UTC", at("2026-01-01T00:00:00Z"))).toThrow(
      /"no day" in UTC has no occurrence within 400 years after 2026-01-01T00:00:00.000Z/,
    );
    expect(() => previousOccurrence(never, "UTC", at("2026-01-01T00:00:00Z"))).toThrow(
      /within 400 years before/,
    );
  });

  it("rejects an unknown time zone with a TerminalError", () => {
    expect(() => nextOccurrence("0 0 * * *", "Mars/Olympus", 0)).toThrow(TerminalError);
    expect(() => nextOccurrence("0 0 * * *", "Mars/Olympus", 0)).toThrow(/Mars\/Olympus.*IANA name/);
  });

  it("rejects an invalid expression with the parser's TerminalError", () => {
    expect(() => nextOccurrence("0 25 * * *", "UTC", 0)).toThrow(/hour field "25"/);
  });
});

describe("previousOccurrence", () => {
  const PREVIOUS: [string, string, string, string][] = [
    ["0 2 * * 6", "UTC", "2026-01-10T02:00:00Z", "2026-01-10T02:00:00.000Z"], // at-or-before includes itself
    ["0 2 * * 6", "UTC", "2026-01-10T01:59:59Z", "2026-01-03T02:00:00.000Z"],
    ["0 3 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2024-02-29T03:00:00.000Z"],
    ["0 1 * * 6", "Europe/Berlin", "2026-07-10T22:59:59Z", "2026-07-03T23:00:00.000Z"],
    ["30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00.000Z"], // the gap run
    ["30 2 * * *", "Europe/Berlin", "2026-03-29T00:59:00Z", "2026-03-28T01:30:00.000Z"],
    ["30 2 * * *", "Europe/Berlin", "2026-10-25T01:45:00Z", "2026-10-25T00:30:00.000Z"], // not the repeat
    ["45 1 * * *", "Australia/Lord_Howe", "2026-04-04T15:20:00Z", "2026-04-04T14:45:00.000Z"],
    ["0 9 * * *", "Asia/Kolkata", "2026-06-01T03:29:59Z", "2026-05-31T03:30:00.000Z"],
    ["30 1 * * *", "America/New_York", "2026-11-01T07:00:00Z", "2026-11-01T05:30:00.000Z"],
    ["0 0 13 * 5", "UTC", "2026-04-16T00:00:00Z", "2026-04-13T00:00:00.000Z"],
  ];
  it.each(PREVIOUS)("%s in %s at or before %s", (expr, zone, bound, expected) => {
    expect(iso(previousOccurrence(expr, zone, at(bound)))).toBe(expected);
  });

  it("mirrors nextOccurrence: previous(next(t)) is next(t) and previous(next(t) - 1) is before t", () => {
    for (const [expr, zone, after] of NEXT) {
      const n = nextOccurrence(expr, zone, at(after));
      expect(previousOccurrence(expr, zone, n)).toBe(n);
      expect(previousOccurrence(expr, zone, n - 1)).toBeLessThanOrEqual(at(after));
    }
  });
});
