import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { notificationChannelSpec } from "../../src/api/notification-channel.js";
import type { Clock } from "../../src/clock.js";
import { RefitError, RetryableError, TerminalError } from "../../src/errors.js";
import { createLogger } from "../../src/log/logger.js";
import {
  NotifyReason,
  notify,
  pluginFor,
  type ChannelSpec,
  type DeliveryContext,
} from "../../src/notify/index.js";
import { secretResolver } from "../../src/secrets/index.js";
import { beforeReboot, refitUserAgent } from "./support/fixtures.js";
import { startServer, type Reply, type TestServer } from "./support/http-server.js";
import { RecordingClock, SteppedClock } from "./support/clocks.js";

const TOKEN = "Bearer hdr-s3cret-9f8e7d";
const HOOK_PATH = "/hooks/T0KEN-PATH-5ecr3t";

let dir: string;
let server: TestServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "refit-webhook-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function webhookSpec(input: Record<string, unknown>): ChannelSpec<"webhook"> {
  const spec = notificationChannelSpec.parse({ type: "webhook", ...input });
  if (spec.type !== "webhook") throw new Error("not a webhook spec");
  return spec;
}

/** A server on loopback, its secret URL in a file (with the newline editors add), a token in env. */
async function setup(
  reply: (n: number) => Reply | Promise<Reply>,
  clock: Clock = new RecordingClock(),
): Promise<{ spec: ChannelSpec<"webhook">; ctx: DeliveryContext; url: string }> {
  server = await startServer((_req, n) => reply(n));
  const url = `${server.origin}${HOOK_PATH}?sig=q5ecr3tq`;
  await writeFile(join(dir, "hook-url"), `${url}\n`);
  // RecordingClock runs 1000× real time: a long timeout keeps loopback round trips well inside it.
  const spec = webhookSpec({
    url: { file: "hook-url" },
    headers: { Authorization: { env: "HOOK_TOKEN" } },
    timeout: "1h",
  });
  const ctx: DeliveryContext = {
    channel: "ops-hook",
    clock,
    secrets: secretResolver({ baseDir: dir, env: { HOOK_TOKEN: TOKEN } }),
  };
  return { spec, ctx, url };
}

async function rejection(p: Promise<unknown>): Promise<RefitError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RefitError) return err;
    throw new Error(`rejected with something other than a RefitError: ${String(err)}`, { cause: err });
  }
  throw new Error("expected a rejection");
}

const deliver = pluginFor("webhook").deliver.bind(pluginFor("webhook"));

describe("webhook delivery", () => {
  it("POSTs the event as JSON with its headers, the URL read from a file and a header from env", async () => {
    const { spec, ctx } = await setup(() => ({ status: 200 }));
    const result = await deliver(beforeReboot, spec, ctx);
    expect(result).toEqual({ attempts: 1, status: 200 });
    expect(server?.requests).toHaveLength(1);
    const req = server!.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe(`${HOOK_PATH}?sig=q5ecr3tq`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe(refitUserAgent);
    expect(req.headers.authorization).toBe(TOKEN);
    expect(req.headers["x-refit-event"]).toBe("BeforeReboot");
    expect(req.headers["x-refit-event-id"]).toBe(beforeReboot.id);
    expect(JSON.parse(req.body)).toEqual(beforeReboot);
  });

  it("reads the URL from an environment variable", async () => {
    server = await startServer();
    const spec = webhookSpec({ url: { env: "HOOK_URL" }, timeout: "1h" });
    const result = await deliver(beforeReboot, spec, {
      channel: "env-hook",
      clock: new RecordingClock(),
      secrets: secretResolver({ env: { HOOK_URL: `${server.origin}/from-env` } }),
    });
    expect(result.attempts).toBe(1);
    expect(server.requests.map((r) => r.url)).toEqual(["/from-env"]);
  });

  it("a user header may replace the User-Agent but not the content type", async () => {
    server = await startServer();
    const spec = webhookSpec({
      url: { env: "U" },
      headers: { "User-Agent": { env: "UA" }, "Content-Type": { env: "CT" } },
      timeout: "1h",
    });
    await deliver(beforeReboot, spec, {
      channel: "h",
      clock: new RecordingClock(),
      secrets: secretResolver({ env: { U: server.origin, UA: "custom-agent", CT: "text/plain" } }),
    });
    expect(server.requests[0]?.headers["user-agent"]).toBe("custom-agent");
    expect(server.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it("retries 5xx with backoff doubling from retryBackoff, then succeeds", async () => {
    const clock = new RecordingClock();
    const { spec, ctx } = await setup(
      (n) => (n <= 3 ? { status: n === 2 ? 503 : 500 } : { status: 204 }),
      clock,
    );
    const result = await deliver(beforeReboot, spec, ctx);
    expect(result).toEqual({ attempts: 4, status: 204 });
    expect(server?.requests).toHaveLength(4);
    // Defaults: retryBackoff 5s, doubling.
    expect(clock.completedSleeps).toEqual([5000, 10000, 20000]);
    // Each retry is the same event: receivers dedupe by the id.
    expect(new Set(server!.requests.map((r) => r.headers["x-refit-event-id"]))).toEqual(
      new Set([beforeReboot.id]),
    );
  });

  it("429 waits what Retry-After says (seconds or HTTP date), then retries", async () => {
    const clock = new SteppedClock();
    const { spec, ctx } = await setup((n) => {
      if (n === 1) return { status: 429, headers: { "Retry-After": "7" } };
      if (n === 2)
        return { status: 429, headers: { "Retry-After": new Date(clock.now() + 60_000).toUTCString() } };
      return { status: 200 };
    }, clock);
    const outcome = deliver(beforeReboot, spec, ctx);
    await server!.waitForRequests(1);
    await clock.untilSleeping(7_000);
    clock.advance(7_000);
    await server!.waitForRequests(2);
    await clock.untilSleeping(60_000);
    clock.advance(60_000);
    const result = await outcome;
    expect(result.attempts).toBe(3);
    expect(server?.requests).toHaveLength(3);
  });

  it("a Retry-After beyond five minutes is capped rather than blocking delivery for hours", async () => {
    const clock = new RecordingClock();
    const { spec, ctx } = await setup(
      (n) => (n === 1 ? { status: 503, headers: { "Retry-After": "86400" } } : { status: 200 }),
      clock,
    );
    await deliver(beforeReboot, spec, ctx);
    expect(clock.completedSleeps).toEqual([300_000]);
  });

  it("400 is not retried and fails terminally, quoting what the service said", async () => {
    const { spec, ctx } = await setup(() => ({ status: 400, body: '{"error":"unknown field foo"}' }));
    const err = await rejection(deliver(beforeReboot, spec, ctx));
    expect(server?.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.reason).toBe(NotifyReason.DeliveryRejected);
    expect(err.message).toMatch(/^webhook POST to ops-hook failed: HTTP 400 \(attempt 1\/6\)/);
    expect(err.message).toContain("unknown field foo");
    expect(err.context.attempts).toBe(1);
  });

  it("gives up after retries + 1 attempts with a retryable error naming the last failure", async () => {
    const clock = new RecordingClock();
    const { ctx } = await setup(() => ({ status: 500 }), clock);
    const spec = webhookSpec({ url: { file: "hook-url" }, retries: 2, retryBackoff: "1s", timeout: "1h" });
    const err = await rejection(deliver(beforeReboot, spec, ctx));
    expect(server?.requests).toHaveLength(3);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.reason).toBe(NotifyReason.DeliveryFailed);
    expect(err.message).toBe("webhook POST to ops-hook failed: HTTP 500 (attempt 3/3)");
    expect(clock.completedSleeps).toEqual([1000, 2000]);
  });

  it("retries: 0 makes exactly one attempt", async () => {
    const { ctx } = await setup(() => ({ status: 502 }));
    const spec = webhookSpec({ url: { file: "hook-url" }, retries: 0, timeout: "1h" });
    const err = await rejection(deliver(beforeReboot, spec, ctx));
    expect(server?.requests).toHaveLength(1);
    expect(err.message).toContain("(attempt 1/1)");
  });

  it("a hanging server times out each attempt on the injected clock, then retries", async () => {
    const clock = new SteppedClock();
    const { ctx } = await setup(() => "hang", clock);
    const spec = webhookSpec({ url: { file: "hook-url" }, timeout: "10s", retries: 1, retryBackoff: "2s" });
    const outcome = rejection(deliver(beforeReboot, spec, ctx));

    await server!.waitForRequests(1);
    await clock.untilSleeping(10_000);
    clock.advance(10_000); // attempt 1 times out
    await clock.untilSleeping(2_000);
    clock.advance(2_000); // backoff
    await server!.waitForRequests(2);
    await clock.untilSleeping(10_000);
    clock.advance(10_000); // attempt 2 times out

    const err = await outcome;
    expect(server?.requests).toHaveLength(2);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toBe("webhook POST to ops-hook failed: timed out after 10s (attempt 2/2)");
  });

  it("a connection refused is retried and reported by its code, without host or port", async () => {
    const { spec, ctx, url } = await setup(() => ({ status: 200 }));
    await server!.close();
    server = undefined;
    const err = await rejection(deliver(beforeReboot, { ...spec, retries: 1, retryBackoff: "1s" }, ctx));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toBe(
      "webhook POST to ops-hook failed: connection refused (ECONNREFUSED) (attempt 2/2)",
    );
    expect(err.message).not.toContain(new URL(url).port);
  });

  it("a dropped connection is retried", async () => {
    const { spec, ctx } = await setup((n) => (n === 1 ? "drop" : { status: 200 }));
    const result = await deliver(beforeReboot, spec, ctx);
    expect(result.attempts).toBe(2);
    expect(server?.requests).toHaveLength(2);
  });

  it("a redirect is not followed and fails terminally", async () => {
    const { spec, ctx } = await setup(() => ({ status: 302, headers: { Location: "/elsewhere" } }));
    const err = await rejection(deliver(beforeReboot, spec, ctx));
    expect(err).toBeInstanceOf(TerminalError);
    expect(server?.requests.map((r) => r.url)).toEqual([`${HOOK_PATH}?sig=q5ecr3tq`]);
    expect(err.message).toContain("HTTP 302 redirect");
  });

  it("cancelling through the signal stops a delivery waiting for its retry", async () => {
    const clock = new SteppedClock();
    const { spec, ctx } = await setup(() => ({ status: 500 }), clock);
    const controller = new AbortController();
    const outcome = rejection(deliver(beforeReboot, spec, { ...ctx, signal: controller.signal }));
    await server!.waitForRequests(1);
    await clock.untilSleeping(5000);
    controller.abort(new Error("shutting down"));
    const err = await outcome;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.reason).toBe(NotifyReason.DeliveryAborted);
    expect(server?.requests).toHaveLength(1);
  });

  it("a URL secret that is not an http(s) URL fails before any request, without its value", async () => {
    await writeFile(join(dir, "bad-url"), "ftp://files.example.com/abc-SECRET-xyz\n");
    const err = await rejection(
      deliver(beforeReboot, webhookSpec({ url: { file: "bad-url" } }), {
        channel: "bad",
        clock: new RecordingClock(),
        secrets: secretResolver({ baseDir: dir }),
      }),
    );
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.reason).toBe(NotifyReason.InvalidChannelSecret);
    expect(err.message).toContain("bad");
    expect(err.message).not.toContain("abc-SECRET-xyz");
  });

  it("a header secret with a line break fails before any request, naming the header only", async () => {
    server = await startServer();
    const spec = webhookSpec({ url: { env: "U" }, headers: { "X-Api-Key": { env: "K" } } });
    const err = await rejection(
      deliver(beforeReboot, spec, {
        channel: "h",
        clock: new RecordingClock(),
        secrets: secretResolver({ env: { U: server.origin, K: "line1-S3CRET\nline2" } }),
      }),
    );
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.message).toContain("X-Api-Key");
    expect(err.message).not.toContain("S3CRET");
    expect(server.requests).toHaveLength(0);
  });

  it("a header name HTTP cannot carry fails before any request instead of being retried", async () => {
    server = await startServer();
    const spec = webhookSpec({ url: { env: "U" }, headers: { "X Api Key": { env: "K" } } });
    const err = await rejection(
      deliver(beforeReboot, spec, {
        channel: "h",
        clock: new RecordingClock(),
        secrets: secretResolver({ env: { U: server.origin, K: "v4lue-S3CRET" } }),
      }),
    );
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.message).toContain('"X Api Key"');
    expect(err.message).not.toContain("S3CRET");
    expect(server.requests).toHaveLength(0);
  });
});

describe("webhook secrets never leak into results, errors or logs", () => {
  it("even when the server echoes the request URL and headers back in every failure", async () => {
    const echo = (n: number): Reply => {
      const req = server!.requests[n - 1]!;
      const body = `you called ${server!.origin}${req.url} path=${req.url} auth=${String(req.headers.authorization)}`;
      if (n === 1) return { status: 500, body };
      if (n === 2) return { status: 429, body, headers: { "Retry-After": "1" } };
      return { status: 401, body };
    };
    const { spec, ctx, url } = await setup(echo);
    const lines: string[] = [];
    const log = createLogger({ pretty: false, destination: { write: (s: string) => void lines.push(s) } });

    const results = await notify(beforeReboot, [{ name: "ops-hook", spec }], { ...ctx, log });
    expect(server?.requests).toHaveLength(3);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      channel: "ops-hook",
      ok: false,
      attempts: 3,
      reason: NotifyReason.DeliveryRejected,
    });
    expect(results[0]?.error).toContain("[redacted]");

    const serialized = JSON.stringify(results) + lines.join("");
    for (const secret of [url, HOOK_PATH, "q5ecr3tq", "T0KEN-PATH-5ecr3t", TOKEN, "hdr-s3cret-9f8e7d"]) {
      expect(serialized).not.toContain(secret);
    }
    expect(lines.length).toBeGreaterThan(0);
  });
});
