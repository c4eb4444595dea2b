import { describe, expect, it } from "vitest";
import { formatDuration, formatInZone, formatInstant } from "../../src/schedule/format.js";
import { instantOf, instantsOf, offsetMs, wallMs } from "../../src/schedule/zone.js";

const at = (iso: string): number => Date.parse(iso);
/** A wall time written as if it were UTC: the representation zone.ts uses. */
const wall = (local: string): number => Date.parse(`${local}Z`);

describe("zone conversions", () => {
  it("reads wall time and offset, to the millisecond", () => {
    expect(wallMs("Europe/Berlin", at("2026-01-03T00:00:00.250Z"))).toBe(wall("2026-01-03T01:00:00.250"));
    expect(offsetMs("Asia/Kolkata", at("2026-06-01T00:00:00Z"))).toBe(5.5 * 3_600_000);
    expect(offsetMs("America/New_York", at("2026-07-01T00:00:00Z"))).toBe(-4 * 3_600_000);
    expect(offsetMs("Australia/Lord_Howe", at("2026-07-01T00:00:00Z"))).toBe(10.5 * 3_600_000);
    expect(offsetMs("Australia/Lord_Howe", at("2026-01-01T00:00:00Z"))).toBe(11 * 3_600_000);
  });

  it("finds no instant for a skipped wall time, two for a repeated one, one otherwise", () => {
    expect(instantsOf("Europe/Berlin", wall("2026-03-29T02:30:00"))).toEqual([]);
    expect(instantsOf("Europe/Berlin", wall("2026-10-25T02:30:00"))).toEqual([
      at("2026-10-25T00:30:00Z"),
      at("2026-10-25T01:30:00Z"),
    ]);
    expect(instantsOf("Australia/Lord_Howe", wall("2026-04-05T01:45:00"))).toEqual([
      at("2026-04-04T14:45:00Z"),
      at("2026-04-04T15:15:00Z"),
    ]);
    expect(instantsOf("Europe/Berlin", wall("2026-06-01T12:00:00"))).toEqual([at("2026-06-01T10:00:00Z")]);
  });

  it("maps wall times to instants by the DST rule: first occurrence, or the end of the gap", () => {
    expect(instantOf("Europe/Berlin", wall("2026-03-29T02:00:00"))).toBe(at("2026-03-29T01:00:00Z"));
    expect(instantOf("Europe/Berlin", wall("2026-03-29T02:59:00"))).toBe(at("2026-03-29T01:00:00Z"));
    expect(instantOf("Europe/Berlin", wall("2026-10-25T02:30:00"))).toBe(at("2026-10-25T00:30:00Z"));
    expect(instantOf("Australia/Lord_Howe", wall("2026-10-04T02:10:00"))).toBe(at("2026-10-03T15:30:00Z"));
    expect(instantOf("America/New_York", wall("2026-03-08T02:30:00"))).toBe(at("2026-03-08T07:00:00Z"));
  });

  it("handles a skipped calendar day (Pacific/Apia, 30 December 2011)", () => {
    // Samoa jumped from 29 December 23:59:59 (UTC-10) to 31 December 00:00 (UTC+14).
    expect(instantsOf("Pacific/Apia", wall("2011-12-30T12:00:00"))).toEqual([]);
    expect(instantOf("Pacific/Apia", wall("2011-12-30T12:00:00"))).toBe(at("2011-12-30T10:00:00Z"));
  });
});

describe("formatting for messages", () => {
  it("shows wall time, zone and offset", () => {
    expect(formatInZone(at("2026-01-03T00:00:00Z"), "Europe/Berlin")).toBe(
      "2026-01-03 01:00 Europe/Berlin (UTC+01:00)",
    );
    expect(formatInZone(at("2026-06-01T03:30:00Z"), "Asia/Kolkata")).toBe(
      "2026-06-01 09:00 Asia/Kolkata (UTC+05:30)",
    );
    expect(formatInZone(at("2026-01-01T14:00:30Z"), "America/New_York")).toBe(
      "2026-01-01 09:00:30 America/New_York (UTC-05:00)",
    );
  });

  it("shows UTC instants once and others in both UTC and local time", () => {
    expect(formatInstant(at("2026-01-03T00:00:00Z"), "UTC")).toBe("2026-01-03T00:00:00.000Z");
    expect(formatInstant(at("2026-01-03T00:00:00Z"), "Europe/Berlin")).toBe(
      "2026-01-03T00:00:00.000Z (2026-01-03 01:00 Europe/Berlin (UTC+01:00))",
    );
  });

  it("writes durations the way the API accepts them", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(90 * 60_000)).toBe("1h30m");
    expect(formatDuration(2 * 86_400_000 + 3_600_000 + 1500)).toBe("2d1h1s500ms");
  });
});
