import { describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { parseCron, type CronSchedule } from "../../src/schedule/cron.js";

const on = (flags: readonly boolean[]): number[] => flags.flatMap((f, i) => (f ? [i] : []));
const minutes = (s: CronSchedule): number[] => [...new Set(s.times.map((t) => t % 60))].sort((a, b) => a - b);
const hours = (s: CronSchedule): number[] =>
  [...new Set(s.times.map((t) => Math.floor(t / 60)))].sort((a, b) => a - b);
const range = (a: number, b: number, step = 1): number[] => {
  const out: number[] = [];
  for (let i = a; i <= b; i += step) out.push(i);
  return out;
};

/** The TerminalError parseCron throws for `expr`. */
function failure(expr: string): TerminalError {
  try {
    parseCron(expr);
  } catch (err) {
    if (err instanceof TerminalError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(expr)} to be rejected`);
}

describe("parseCron syntax", () => {
  it("reads * as every value of the field", () => {
    const s = parseCron("* * * * *");
    expect(minutes(s)).toEqual(range(0, 59));
    expect(hours(s)).toEqual(range(0, 23));
    expect(on(s.daysOfMonth)).toEqual(range(1, 31));
    expect(on(s.months)).toEqual(range(1, 12));
    expect(on(s.weekdays)).toEqual(range(0, 6));
    expect(s.times).toHaveLength(24 * 60);
    expect(s.dayOfMonthRestricted).toBe(false);
    expect(s.weekdayRestricted).toBe(false);
  });

  it("reads single numbers, with leading zeros", () => {
    const s = parseCron("05 02 09 03 6");
    expect(s.times).toEqual([2 * 60 + 5]);
    expect(on(s.daysOfMonth)).toEqual([9]);
    expect(on(s.months)).toEqual([3]);
    expect(on(s.weekdays)).toEqual([6]);
    expect(s.dayOfMonthRestricted).toBe(true);
    expect(s.weekdayRestricted).toBe(true);
  });

  it("reads ranges a-b inclusively", () => {
    const s = parseCron("10-12 22-23 1-3 6-8 1-5");
    expect(minutes(s)).toEqual([10, 11, 12]);
    expect(hours(s)).toEqual([22, 23]);
    expect(on(s.daysOfMonth)).toEqual([1, 2, 3]);
    expect(on(s.months)).toEqual([6, 7, 8]);
    expect(on(s.weekdays)).toEqual([1, 2, 3, 4, 5]);
  });

  it("reads steps */n and a-b/n", () => {
    const s = parseCron("*/15 1-10/3 */10 */4 1-5/2");
    expect(minutes(s)).toEqual([0, 15, 30, 45]);
    expect(hours(s)).toEqual([1, 4, 7, 10]);
    expect(on(s.daysOfMonth)).toEqual([1, 11, 21, 31]);
    expect(on(s.months)).toEqual([1, 5, 9]);
    expect(on(s.weekdays)).toEqual([1, 3, 5]);
  });

  it("reads lists mixing numbers, ranges and steps, in any order and with duplicates", () => {
    const s = parseCron("45,0-5/5,30,0 3,1 * * *");
    expect(minutes(s)).toEqual([0, 5, 30, 45]);
    expect(hours(s)).toEqual([1, 3]);
    expect(s.times).toEqual([60, 65, 90, 105, 180, 185, 210, 225]);
  });

  it("reads month names JAN-DEC in any case, alone, in ranges and lists", () => {
    expect(on(parseCron("0 0 1 jan *").months)).toEqual([1]);
    expect(on(parseCron("0 0 1 Mar-May *").months)).toEqual([3, 4, 5]);
    expect(on(parseCron("0 0 1 DEC,feb,Jun *").months)).toEqual([2, 6, 12]);
    expect(on(parseCron("0 0 1 JAN-DEC/6 *").months)).toEqual([1, 7]);
  });

  it("reads weekday names SUN-SAT in any case; 0 and 7 are both Sunday", () => {
    expect(on(parseCron("0 0 * * sun").weekdays)).toEqual([0]);
    expect(on(parseCron("0 0 * * 7").weekdays)).toEqual([0]);
    expect(on(parseCron("0 0 * * 0,7").weekdays)).toEqual([0]);
    expect(on(parseCron("0 0 * * Mon-Fri").weekdays)).toEqual([1, 2, 3, 4, 5]);
    expect(on(parseCron("0 0 * * 5-7").weekdays)).toEqual([0, 5, 6]);
    expect(on(parseCron("0 0 * * FRI-SUN").weekdays)).toEqual([0, 5, 6]);
    expect(on(parseCron("0 0 * * SUN-SUN").weekdays)).toEqual([0]);
    expect(on(parseCron("0 0 * * SUN-TUE").weekdays)).toEqual([0, 1, 2]);
    expect(on(parseCron("0 0 * * sat,TUE").weekdays)).toEqual([2, 6]);
  });

  it("counts a field starting with * as unrestricted (Vixie), so */n does not switch to the OR rule", () => {
    const s = parseCron("0 0 */10 * MON");
    expect(s.dayOfMonthRestricted).toBe(false);
    expect(s.weekdayRestricted).toBe(true);
    expect(parseCron("0 0 1-31 * *").dayOfMonthRestricted).toBe(true);
  });

  it("accepts extra whitespace between and around fields", () => {
    expect(parseCron("  0   2 *\t* 6 ").times).toEqual([120]);
  });
});

describe("parseCron errors", () => {
  const cases: [string, string, RegExp][] = [
    ["", "", /has 0 fields, not 5/],
    ["0 2 * *", "", /has 4 fields, not 5/],
    ["0 0 2 * * 6", "", /has 6 fields, not 5/],
    ["60 * * * *", "minute", /minute field "60": 60 is out of range 0-59/],
    ["x * * * *", "minute", /minute field "x": "x" is not a number 0-59/],
    ["* 24 * * *", "hour", /hour field "24": 24 is out of range 0-23/],
    ["* * 0 * *", "day-of-month", /day-of-month field "0": 0 is out of range 1-31/],
    ["* * 32 * *", "day-of-month", /day-of-month field "32": 32 is out of range 1-31/],
    ["* * * 13 *", "month", /month field "13": 13 is out of range 1-12/],
    ["* * * 0 *", "month", /month field "0": 0 is out of range 1-12/],
    [
      "* * * JANUARY *",
      "month",
      /month field "JANUARY": "JANUARY" is neither a number 1-12 nor a month name/,
    ],
    ["* * * * 8", "day-of-week", /day-of-week field "8": 8 is out of range 0-7/],
    ["* * * * MOX", "day-of-week", /"MOX" is neither a number 0-7 nor a weekday name \(SUN-SAT\)/],
    ["MON * * * *", "minute", /minute field "MON": "MON" is not a number 0-59/],
    ["*/0 * * * *", "minute", /step 0 must be between 1 and 60/],
    ["*/61 * * * *", "minute", /step 61 must be between 1 and 60/],
    ["* */x * * *", "hour", /step "x" is not a number/],
    ["* 1-5/ * * *", "hour", /step "" is not a number/],
    ["5/15 * * * *", "minute", /a step needs a range: write 5-59\/15 or \*\/15/],
    ["30-10 * * * *", "minute", /range 30-10 runs backwards \(30 > 10\)/],
    ["* * * * SAT-MON", "day-of-week", /range SAT-MON runs backwards/],
    ["* * * * 5-0", "day-of-week", /range 5-0 runs backwards \(5 > 0\)/],
    ["1-2-3 * * * *", "minute", /"1-2-3" is not a range a-b/],
    ["1,,2 * * * *", "minute", /a list has an empty element/],
    ["0 0 30 2 *", "day-of-month", /no selected day exists in the selected months \(FEB\)/],
    ["0 0 31 APR,JUN,SEP,NOV *", "day-of-month", /\(APR,JUN,SEP,NOV\), so it would never run/],
  ];
  it.each(cases)("rejects %j naming the %s field", (expr, field, message) => {
    const err = failure(expr);
    expect(err.reason).toBe("InvalidSchedule");
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`invalid cron expression ${JSON.stringify(expr)}`);
    expect(err.context.field).toBe(field === "" ? undefined : field);
  });

  it("accepts February 29 and 31 in months that have it", () => {
    expect(on(parseCron("0 0 29 2 *").daysOfMonth)).toEqual([29]);
    expect(on(parseCron("0 0 31 1-2 *").months)).toEqual([1, 2]);
  });

  it("accepts an impossible day of month when the weekday field is restricted (OR rule)", () => {
    expect(on(parseCron("0 0 31 2 MON").weekdays)).toEqual([1]);
  });
});
