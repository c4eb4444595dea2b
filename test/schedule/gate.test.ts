import { describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { parseForce, scheduleGate, type Force, type GateResult } from "../../src/schedule/gate.js";
import type { WindowSpec } from "../../src/schedule/window.js";

const at = (iso: string): number => Date.parse(iso);
const MIN = 60_000;

// The example fleet (desired-state/windows.yaml). On Saturday 2026-01-03 (CET, UTC+1):
// weekly-night is open 00:00Z-04:00Z (01:00-05:00 local), dns-blackout 00:30Z-01:30Z (01:30-02:30).
const weeklyNight: WindowSpec = {
  name: "weekly-night",
  schedule: "0 1 * * 6",
  duration: "4h",
  timeZone: "Europe/Berlin",
};
const dnsBlackout: WindowSpec = {
  name: "dns-blackout",
  schedule: "30 1 * * 6",
  duration: "1h",
  timeZone: "Europe/Berlin",
};

function gate(now: string, expectedMin: number, force: Force = false, windows = [weeklyNight]): GateResult {
  return scheduleGate({
    windows,
    blackouts: [dnsBlackout],
    nowMs: at(now),
    expectedDurationMs: expectedMin * MIN,
    force,
  });
}

function blocked(r: GateResult): Extract<GateResult, { allowed: false }> {
  if (r.allowed) throw new Error("expected the gate to block");
  return r;
}

describe("scheduleGate outcomes", () => {
  it("allows a step that fits inside the window before the blackout", () => {
    expect(gate("2026-01-03T00:00:00Z", 10)).toEqual({ allowed: true, overridden: [] });
  });

  it("blocks outside every window until the next opening, saying when in UTC and local time", () => {
    const r = blocked(gate("2026-01-02T12:00:00Z", 30));
    expect(r.reason).toBe("OutsideWindow");
    expect(r.retryAt).toBe(at("2026-01-03T00:00:00Z"));
    expect(r.message).toContain('window "weekly-night"');
    expect(r.message).toContain("2026-01-03T00:00:00.000Z (2026-01-03 01:00 Europe/Berlin (UTC+01:00))");
    expect(r.message).toContain("refit.dev/force=windows");
  });

  it("blocks inside a blackout until it closes", () => {
    const r = blocked(gate("2026-01-03T00:45:00Z", 5));
    expect(r.reason).toBe("InBlackout");
    expect(r.retryAt).toBe(at("2026-01-03T01:30:00Z"));
    expect(r.message).toContain('blackout window "dns-blackout" is open');
    expect(r.message).toContain("2026-01-03T01:30:00.000Z (2026-01-03 02:30 Europe/Berlin (UTC+01:00))");
  });

  it("blocks a step that would run past the window's close, retrying at the next opening", () => {
    const r = blocked(gate("2026-01-03T03:30:00Z", 60));
    expect(r.reason).toBe("WindowClosing");
    expect(r.retryAt).toBe(at("2026-01-10T00:00:00Z"));
    expect(r.message).toContain("expected to take 1h");
    expect(r.message).toContain(
      "closes at 2026-01-03T04:00:00.000Z (2026-01-03 05:00 Europe/Berlin (UTC+01:00)), in 30m",
    );
    expect(r.message).not.toContain("never fit");
  });

  it("says so when a step is longer than the whole window", () => {
    const r = blocked(gate("2026-01-03T01:30:00Z", 5 * 60));
    expect(r.reason).toBe("WindowClosing");
    expect(r.message).toContain("longer than the whole open period (4h)");
  });

  it("allows a step that ends exactly when the window closes", () => {
    expect(gate("2026-01-03T03:00:00Z", 60).allowed).toBe(true);
  });

  it("blocks a step that a blackout would interrupt, retrying after the blackout", () => {
    const r = blocked(gate("2026-01-03T00:00:00Z", 45));
    expect(r.reason).toBe("BlackoutStarting");
    expect(r.retryAt).toBe(at("2026-01-03T01:30:00Z"));
    expect(r.message).toContain(
      "opens at 2026-01-03T00:30:00.000Z (2026-01-03 01:30 Europe/Berlin (UTC+01:00))",
    );
    expect(r.message).toContain("expected 45m");
  });

  it("allows a step that ends exactly when a blackout opens", () => {
    expect(gate("2026-01-03T00:00:00Z", 30).allowed).toBe(true);
  });

  it("with no windows allows any time outside blackouts", () => {
    expect(gate("2026-01-07T12:00:00Z", 60, false, []).allowed).toBe(true);
    expect(blocked(gate("2026-01-03T01:00:00Z", 1, false, [])).reason).toBe("InBlackout");
    expect(blocked(gate("2026-01-03T00:20:00Z", 20, false, [])).reason).toBe("BlackoutStarting");
  });

  it("reports the blackout before the window when both apply", () => {
    const r = blocked(gate("2026-01-03T00:45:00Z", 10 * 60));
    expect(r.reason).toBe("InBlackout");
  });

  it("treats windows that touch as one open period and retries at the earliest opening", () => {
    const early: WindowSpec = { name: "early", schedule: "0 0 * * *", duration: "2h" };
    const late: WindowSpec = { name: "late", schedule: "0 2 * * *", duration: "2h" };
    const windows = [late, early];
    const r = (now: string, min: number): GateResult =>
      scheduleGate({ windows, blackouts: [], nowMs: at(now), expectedDurationMs: min * MIN, force: false });
    expect(r("2026-01-05T00:30:00Z", 3 * 60).allowed).toBe(true);
    const closing = blocked(r("2026-01-05T01:30:00Z", 3 * 60));
    expect(closing.reason).toBe("WindowClosing");
    expect(closing.message).toContain('window "late" closes at 2026-01-05T04:00:00.000Z');
    expect(closing.retryAt).toBe(at("2026-01-06T00:00:00Z"));
    const outside = blocked(r("2026-01-05T12:00:00Z", 10));
    expect(outside.reason).toBe("OutsideWindow");
    expect(outside.retryAt).toBe(at("2026-01-06T00:00:00Z"));
    expect(outside.message).toContain('window "early"');
  });

  it("waits for overlapping blackouts to all close", () => {
    const b2: WindowSpec = {
      name: "backups",
      schedule: "0 2 * * 6",
      duration: "2h",
      timeZone: "Europe/Berlin",
    };
    const r = blocked(
      scheduleGate({
        windows: [],
        blackouts: [dnsBlackout, b2],
        nowMs: at("2026-01-03T00:45:00Z"),
        expectedDurationMs: 0,
        force: false,
      }),
    );
    expect(r.reason).toBe("InBlackout");
    // dns-blackout ends 01:30Z but backups (01:00Z-03:00Z) is already open by then.
    expect(r.retryAt).toBe(at("2026-01-03T03:00:00Z"));
  });
});

describe("force", () => {
  it('"windows" overrides being outside a window', () => {
    expect(gate("2026-01-02T12:00:00Z", 30, "windows")).toEqual({
      allowed: true,
      overridden: ["OutsideWindow"],
    });
  });

  it('"windows" overrides a closing window', () => {
    expect(gate("2026-01-03T03:30:00Z", 60, "windows")).toEqual({
      allowed: true,
      overridden: ["WindowClosing"],
    });
  });

  it('"windows" does not override a blackout, open or starting', () => {
    expect(blocked(gate("2026-01-03T00:45:00Z", 5, "windows")).reason).toBe("InBlackout");
    expect(blocked(gate("2026-01-03T00:00:00Z", 45, "windows")).reason).toBe("BlackoutStarting");
    // Outside the window, the blackout next Saturday is not in the way of a 30-minute step.
    expect(gate("2026-01-02T12:00:00Z", 30, "windows").allowed).toBe(true);
  });

  it('"all" overrides blackouts as well, and lists what it overrode', () => {
    expect(gate("2026-01-03T00:45:00Z", 5, "all")).toEqual({ allowed: true, overridden: ["InBlackout"] });
    expect(gate("2026-01-03T00:00:00Z", 45, "all")).toEqual({
      allowed: true,
      overridden: ["BlackoutStarting"],
    });
    expect(gate("2026-01-03T00:45:00Z", 4 * 60, "all")).toEqual({
      allowed: true,
      overridden: ["InBlackout", "WindowClosing"],
    });
  });

  it("parses the refit.dev/force annotation", () => {
    expect(parseForce(undefined)).toBe(false);
    expect(parseForce("false")).toBe(false);
    expect(parseForce("true")).toBe("windows");
    expect(parseForce("windows")).toBe("windows");
    expect(parseForce(" All ")).toBe("all");
    expect(() => parseForce("yes please")).toThrow(TerminalError);
    expect(() => parseForce("")).toThrow(/refit.dev\/force="" is not understood: use "windows"/);
  });
});
