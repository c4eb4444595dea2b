import { describe, expect, it } from "vitest";
import { notificationEvent, severity } from "../../src/api/plan-common.js";
import { TerminalError } from "../../src/errors.js";
import {
  DEFAULT_EVENT_SEVERITY,
  notificationEventSchema,
  parseNotificationEvent,
  severityAllows,
} from "../../src/notify/index.js";
import { beforeReboot } from "./support/fixtures.js";

describe("NotificationEvent", () => {
  it("accepts a complete event and one with only the required fields", () => {
    expect(parseNotificationEvent(beforeReboot)).toEqual(beforeReboot);
    const minimal = {
      id: "x1",
      event: "PlanStarted",
      severity: "info",
      plan: { kind: "GuestUpdatePlan", name: "apps" },
      hosts: [],
      summary: "Plan apps started",
      at: "2026-03-29T01:30:00+01:00",
    };
    expect(parseNotificationEvent(minimal)).toEqual(minimal);
  });

  it.each([
    ["a summary on two lines", { summary: "a\nb" }, "summary"],
    ["an unknown event", { event: "Rebooted" }, "event"],
    ["an unknown severity", { severity: "fatal" }, "severity"],
    ["an id with a space (it travels as a header)", { id: "a b" }, "id"],
    ["a time that is not ISO 8601", { at: "yesterday" }, "at"],
    ["an unknown field", { extra: 1 }, "(event)"],
    ["a plan kind that is not a plan", { plan: { kind: "HostPatch", name: "x" } }, "plan.kind"],
  ])("rejects %s, naming the field", (_what, change, field) => {
    let caught: unknown;
    try {
      parseNotificationEvent({ ...beforeReboot, ...change });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TerminalError);
    expect((caught as TerminalError).message).toContain(`${field}:`);
  });

  it("has a default severity for every event", () => {
    expect(Object.keys(DEFAULT_EVENT_SEVERITY).sort()).toEqual([...notificationEvent.options].sort());
    expect(DEFAULT_EVENT_SEVERITY.PlanStalled).toBe("error");
    expect(DEFAULT_EVENT_SEVERITY.TargetFailed).toBe("error");
  });

  it("is the schema the webhook body follows (round trip through JSON)", () => {
    expect(notificationEventSchema.parse(JSON.parse(JSON.stringify(beforeReboot)))).toEqual(beforeReboot);
  });
});

describe("severityAllows", () => {
  it("passes events at or above the minimum", () => {
    const table = severity.options.flatMap((min) =>
      severity.options.map((sev) => `${min}>${sev}:${severityAllows(min, sev) ? "y" : "n"}`),
    );
    expect(table).toEqual([
      "info>info:y",
      "info>warning:y",
      "info>error:y",
      "info>critical:y",
      "warning>info:n",
      "warning>warning:y",
      "warning>error:y",
      "warning>critical:y",
      "error>info:n",
      "error>warning:n",
      "error>error:y",
      "error>critical:y",
      "critical>info:n",
      "critical>warning:n",
      "critical>error:n",
      "critical>critical:y",
    ]);
  });
});
