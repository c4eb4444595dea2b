import { afterEach, describe, expect, it } from "vitest";
import { notificationChannelSpec } from "../../src/api/notification-channel.js";
import type { Severity } from "../../src/api/plan-common.js";
import { ManualClock } from "../../src/clock.js";
import { TerminalError } from "../../src/errors.js";
import {
  NotifyReason,
  channelStatusAfter,
  notify,
  type ChannelTarget,
  type NotificationEvent,
} from "../../src/notify/index.js";
import { SecretReason, secretResolver } from "../../src/secrets/index.js";
import { beforeReboot } from "./support/fixtures.js";
import { startServer, type Reply, type TestServer } from "./support/http-server.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(reply?: (n: number) => Reply | Promise<Reply>): Promise<TestServer> {
  const s = await startServer(reply === undefined ? undefined : (_req, n) => reply(n));
  servers.push(s);
  return s;
}

/** A webhook channel to `origin`, its URL given through the environment variable `URL_<name>`. */
function hook(name: string, minSeverity: Severity, extra: Record<string, unknown> = {}): ChannelTarget {
  return {
    name,
    spec: notificationChannelSpec.parse({
      type: "webhook",
      url: { env: `URL_${name.replace(/-/g, "_")}` },
      minSeverity,
      retries: 0,
      ...extra,
    }),
  };
}

function event(severity: Severity, overrides: Partial<NotificationEvent> = {}): NotificationEvent {
  return { ...beforeReboot, severity, ...overrides };
}

const START = "2026-01-01T00:00:00.000Z";

describe("notify", () => {
  async function threeChannels() {
    const [info, warning, error] = [await serve(), await serve(), await serve()];
    const env = {
      URL_all: info.origin,
      URL_warnings: warning.origin,
      URL_errors: error.origin,
    };
    const channels = [hook("all", "info"), hook("warnings", "warning"), hook("errors", "error")];
    const ctx = { clock: new ManualClock(), secrets: secretResolver({ env }) };
    return { info, warning, error, channels, ctx };
  }

  it("sends to each channel whose minSeverity allows the event's severity", async () => {
    const { info, warning, error, channels, ctx } = await threeChannels();
    const results = await notify(event("warning"), channels, ctx);
    expect(results.map((r) => r.channel)).toEqual(["all", "warnings"]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect([info.requests.length, warning.requests.length, error.requests.length]).toEqual([1, 1, 0]);
  });

  it("the plan's minSeverity overrides every channel's, both ways", async () => {
    const { info, warning, error, channels, ctx } = await threeChannels();
    expect(await notify(event("warning"), channels, ctx, { minSeverity: "error" })).toEqual([]);
    const all = await notify(event("info"), channels, ctx, { minSeverity: "info" });
    expect(all.map((r) => r.channel)).toEqual(["all", "warnings", "errors"]);
    expect([info.requests.length, warning.requests.length, error.requests.length]).toEqual([1, 1, 1]);
  });

  it("events the plan does not send go nowhere", async () => {
    const { info, channels, ctx } = await threeChannels();
    expect(await notify(event("error"), channels, ctx, { events: ["PlanStalled", "TargetFailed"] })).toEqual(
      [],
    );
    expect(info.requests).toHaveLength(0);
    const sent = await notify(event("error", { event: "PlanStalled" }), channels, ctx, {
      events: ["PlanStalled"],
    });
    expect(sent).toHaveLength(3);
  });

  it("reports each channel's outcome and never throws for a failed one", async () => {
    const failing = await serve(() => ({ status: 500 }));
    const working = await serve();
    const channels: ChannelTarget[] = [
      hook("failing", "info"),
      hook("working", "info"),
      hook("no-secret", "info", { url: { file: "/nonexistent/refit/hook-url" } }),
      {
        name: "tg",
        spec: notificationChannelSpec.parse({ type: "telegram", botToken: { env: "TG" }, chatId: 42 }),
      },
    ];
    const results = await notify(event("error"), channels, {
      clock: new ManualClock(),
      secrets: secretResolver({ env: { URL_failing: failing.origin, URL_working: working.origin } }),
    });
    expect(results).toEqual([
      {
        channel: "failing",
        type: "webhook",
        event: "BeforeReboot",
        ok: false,
        attempts: 1,
        at: START,
        error: "webhook POST to failing failed: HTTP 500 (attempt 1/1)",
        reason: NotifyReason.DeliveryFailed,
        retryable: true,
      },
      { channel: "working", type: "webhook", event: "BeforeReboot", ok: true, attempts: 1, at: START },
      expect.objectContaining({
        channel: "no-secret",
        ok: false,
        attempts: 0,
        reason: SecretReason.FileMissing,
        retryable: false,
        error: expect.stringContaining("/nonexistent/refit/hook-url") as unknown,
      }),
      expect.objectContaining({
        channel: "tg",
        type: "telegram",
        ok: false,
        attempts: 0,
        reason: NotifyReason.ChannelNotImplemented,
        retryable: false,
      }),
    ]);
    expect(working.requests).toHaveLength(1);
  });

  it("delivers to all channels at once: each server answers only when both have the event", async () => {
    let release: () => void = () => undefined;
    const bothArrived = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    const barrier = async (): Promise<Reply> => {
      arrived += 1;
      if (arrived === 2) release();
      await bothArrived;
      return { status: 200 };
    };
    const a = await serve(barrier);
    const b = await serve(barrier);
    // Sequential delivery would leave the first request waiting until its timeout (never: the clock is manual).
    const results = await notify(event("info"), [hook("a", "info"), hook("b", "info")], {
      clock: new ManualClock(),
      secrets: secretResolver({ env: { URL_a: a.origin, URL_b: b.origin } }),
    });
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });

  it("rejects an invalid event, which is the caller's bug, before sending anything", async () => {
    const s = await serve();
    const ctx = { clock: new ManualClock(), secrets: secretResolver({ env: { URL_x: s.origin } }) };
    await expect(notify(event("info", { summary: "two\nlines" }), [hook("x", "info")], ctx)).rejects.toThrow(
      TerminalError,
    );
    await expect(notify(event("info", { summary: "two\nlines" }), [hook("x", "info")], ctx)).rejects.toThrow(
      /summary: must be one line/,
    );
    expect(s.requests).toHaveLength(0);
  });
});

describe("channelStatusAfter", () => {
  const ok = {
    channel: "c",
    type: "webhook" as const,
    event: "PlanStarted" as const,
    ok: true,
    attempts: 1,
    at: START,
  };
  const failed = { ...ok, ok: false, attempts: 6, error: "webhook POST to c failed: HTTP 500 (attempt 6/6)" };

  it("counts failures since the last success and records the last delivery", () => {
    const first = channelStatusAfter(undefined, failed);
    expect(first).toEqual({
      lastDelivery: { at: START, event: "PlanStarted", ok: false, message: failed.error },
      failures: 1,
    });
    expect(channelStatusAfter(first, failed).failures).toBe(2);
    expect(channelStatusAfter({ failures: 2 }, ok)).toEqual({
      lastDelivery: { at: START, event: "PlanStarted", ok: true },
      failures: 0,
    });
  });
});
