import { describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { windowState, type WindowSpec, type WindowState } from "../../src/schedule/window.js";

const at = (iso: string): number => Date.parse(iso);

/** A WindowState with ISO strings, for readable expectations. */
function state(spec: WindowSpec, now: string): Record<string, unknown> {
  const s: WindowState = windowState(spec, at(now));
  const out: Record<string, unknown> = { open: s.open };
  for (const k of ["openedAt", "closesAt", "nextOpen", "nextClose"] as const) {
    const v = s[k];
    if (v !== undefined) out[k] = new Date(v).toISOString();
  }
  return out;
}

// The example fleet's window (desired-state/windows.yaml): Saturdays 01:00-05:00 Berlin time.
// Saturday 2026-01-03 01:00 CET is 00:00Z.
const weeklyNight: WindowSpec = {
  name: "weekly-night",
  schedule: "0 1 * * 6",
  duration: "4h",
  timeZone: "Europe/Berlin",
};

describe("windowState around one opening and closing", () => {
  it("is closed just before it opens, with the coming open period", () => {
    expect(state(weeklyNight, "2026-01-02T23:59:59.999Z")).toEqual({
      open: false,
      nextOpen: "2026-01-03T00:00:00.000Z",
      nextClose: "2026-01-03T04:00:00.000Z",
    });
  });

  it("is open at the opening instant", () => {
    expect(state(weeklyNight, "2026-01-03T00:00:00Z")).toEqual({
      open: true,
      openedAt: "2026-01-03T00:00:00.000Z",
      closesAt: "2026-01-03T04:00:00.000Z",
      nextOpen: "2026-01-10T00:00:00.000Z",
      nextClose: "2026-01-03T04:00:00.000Z",
    });
  });

  it("is open just before it closes", () => {
    expect(state(weeklyNight, "2026-01-03T03:59:59.999Z")).toMatchObject({
      open: true,
      closesAt: "2026-01-03T04:00:00.000Z",
    });
  });

  it("is closed at the closing instant and points at next week", () => {
    expect(state(weeklyNight, "2026-01-03T04:00:00Z")).toEqual({
      open: false,
      nextOpen: "2026-01-10T00:00:00.000Z",
      nextClose: "2026-01-10T04:00:00.000Z",
    });
  });

  it("follows summer time: the same wall times are an hour earlier in UTC", () => {
    expect(state(weeklyNight, "2026-07-03T12:00:00Z")).toEqual({
      open: false,
      nextOpen: "2026-07-03T23:00:00.000Z",
      nextClose: "2026-07-04T03:00:00.000Z",
    });
  });

  it("defaults to UTC and accepts a duration in milliseconds", () => {
    expect(state({ schedule: "0 2 * * *", duration: 90 * 60_000 }, "2026-01-01T03:00:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-01-01T02:00:00.000Z",
      closesAt: "2026-01-01T03:30:00.000Z",
    });
  });
});

describe("windows across midnight", () => {
  const nightly: WindowSpec = { schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" };
  it("is open after midnight until the duration has passed", () => {
    expect(state(nightly, "2026-01-02T01:59:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-01-01T22:00:00.000Z",
      closesAt: "2026-01-02T02:00:00.000Z",
    });
    expect(state(nightly, "2026-01-02T02:00:00Z")).toMatchObject({
      open: false,
      nextOpen: "2026-01-02T22:00:00.000Z",
    });
  });

  it("stays open into a day the schedule does not select", () => {
    // Fridays at 22:00 for 4h: Saturday 01:00 is inside although Saturday is not in the schedule.
    const friday: WindowSpec = { schedule: "0 22 * * FRI", duration: "4h" };
    expect(state(friday, "2026-01-03T01:00:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-01-02T22:00:00.000Z",
      closesAt: "2026-01-03T02:00:00.000Z",
    });
  });
});

describe("overlapping and touching occurrences", () => {
  it("merges occurrences whose durations overlap into one open period (duration longer than the period)", () => {
    // Monday and Tuesday 00:00 for 36h: open from Monday 00:00 to Wednesday 12:00 without a break.
    const spec: WindowSpec = { schedule: "0 0 * * 1,2", duration: "36h" };
    expect(state(spec, "2026-01-06T06:00:00Z")).toEqual({
      open: true,
      openedAt: "2026-01-05T00:00:00.000Z",
      closesAt: "2026-01-07T12:00:00.000Z",
      nextOpen: "2026-01-12T00:00:00.000Z",
      nextClose: "2026-01-07T12:00:00.000Z",
    });
    expect(state(spec, "2026-01-07T12:00:00Z")).toMatchObject({
      open: false,
      nextOpen: "2026-01-12T00:00:00.000Z",
    });
  });

  it("merges occurrences that touch end to start", () => {
    const spec: WindowSpec = { schedule: "0 0,6 * * *", duration: "6h" };
    expect(state(spec, "2026-01-01T05:59:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-01-01T00:00:00.000Z",
      closesAt: "2026-01-01T12:00:00.000Z",
    });
  });

  it("refuses a window that never closes, saying what to do", () => {
    const always: WindowSpec = { name: "always", schedule: "0 0,12 * * *", duration: "12h" };
    expect(() => windowState(always, at("2026-01-01T00:00:00Z"))).toThrow(TerminalError);
    expect(() => windowState(always, at("2026-01-01T00:00:00Z"))).toThrow(
      /window "always" .*stays open without a break.*remove it from windowRefs/,
    );
  });
});

describe("windows and DST (Europe/Berlin 2026)", () => {
  it("measures the duration in real time on the spring-forward night", () => {
    // 01:00 CET (00:00Z) + 4h closes at 04:00Z, which is 06:00 CEST on the wall.
    const spec: WindowSpec = { schedule: "0 1 * * *", duration: "4h", timeZone: "Europe/Berlin" };
    expect(state(spec, "2026-03-29T03:59:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-03-29T00:00:00.000Z",
      closesAt: "2026-03-29T04:00:00.000Z",
    });
  });

  it("measures the duration in real time on the fall-back night", () => {
    // 01:00 CEST (23:00Z the day before) + 4h closes at 03:00Z, which is 04:00 CET on the wall.
    const spec: WindowSpec = { schedule: "0 1 * * *", duration: "4h", timeZone: "Europe/Berlin" };
    expect(state(spec, "2026-10-25T02:59:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-10-24T23:00:00.000Z",
      closesAt: "2026-10-25T03:00:00.000Z",
    });
  });

  it("opens at 03:00 CEST when its opening time is skipped", () => {
    const spec: WindowSpec = { schedule: "30 2 * * *", duration: "1h", timeZone: "Europe/Berlin" };
    expect(state(spec, "2026-03-29T00:59:00Z")).toMatchObject({
      open: false,
      nextOpen: "2026-03-29T01:00:00.000Z",
      nextClose: "2026-03-29T02:00:00.000Z",
    });
  });

  it("opens once, at the first 02:30, when 02:30 happens twice", () => {
    const spec: WindowSpec = { schedule: "30 2 * * *", duration: "30m", timeZone: "Europe/Berlin" };
    // 00:30Z is the first 02:30 (CEST); 01:30Z, the second 02:30 (CET), opens nothing.
    expect(state(spec, "2026-10-25T00:45:00Z")).toMatchObject({
      open: true,
      openedAt: "2026-10-25T00:30:00.000Z",
    });
    expect(state(spec, "2026-10-25T01:45:00Z")).toMatchObject({
      open: false,
      nextOpen: "2026-10-26T01:30:00.000Z",
    });
  });
});

describe("invalid windows", () => {
  it.each([
    [{ schedule: "0 1 * * 6", duration: "0s" }, /duration must be longer than zero/],
    [{ schedule: "0 1 * * 6", duration: "soon" }, /duration "soon" is not a duration/],
    [{ schedule: "0 1 * * 6", duration: -5 }, /duration must be longer than zero/],
    [{ schedule: "0 1 * * 8", duration: "1h" }, /day-of-week field "8"/],
    [{ schedule: "0 1 * * 6", duration: "1h", timeZone: "Europe/Atlantis" }, /Europe\/Atlantis/],
  ] as [WindowSpec, RegExp][])("rejects %j", (spec, message) => {
    expect(() => windowState(spec, 0)).toThrow(TerminalError);
    expect(() => windowState(spec, 0)).toThrow(message);
  });
});
