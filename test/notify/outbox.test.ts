import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { notificationChannelSpec, type NotificationChannelSpec } from "../../src/api/notification-channel.js";
import { ManualClock, ScaledClock, type Clock } from "../../src/clock.js";
import { createLogger } from "../../src/log/logger.js";
import type { ChannelDeliveryResult, NotificationEvent } from "../../src/notify/index.js";
import { secretResolver } from "../../src/secrets/index.js";
import { Outbox, outboxDir, type OutboxEntry } from "../../controller/notify/outbox.js";
import { OutboxSender } from "../../controller/notify/outbox-sender.js";
import { beforeReboot } from "./support/fixtures.js";
import { SteppedClock } from "./support/clocks.js";
import { startServer, type TestServer } from "./support/http-server.js";

const log = createLogger({ pretty: false, level: "silent" });

let state: string;
let server: TestServer | undefined;
beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), "refit-outbox-"));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(state, { recursive: true, force: true });
});

function spec(input: Record<string, unknown>): NotificationChannelSpec {
  return notificationChannelSpec.parse({ type: "webhook", url: { env: "HOOK_URL" }, ...input });
}

/** A fetch that answers each request with the next status of `statuses` (the last one repeats). */
function fakeFetch(statuses: number[]): { fetch: typeof fetch; ids: string[]; channels: string[] } {
  const ids: string[] = [];
  const channels: string[] = [];
  let n = 0;
  const impl = (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    ids.push(headers["x-refit-event-id"] ?? "");
    channels.push(headers["x-channel"] ?? "");
    const status = statuses[Math.min(n++, statuses.length - 1)] ?? 200;
    return Promise.resolve(new Response(null, { status }));
  };
  return { fetch: impl, ids, channels };
}

interface Setup {
  clock: Clock;
  specs: Record<string, NotificationChannelSpec>;
  fetch?: typeof fetch;
  transportClock?: Clock;
  finished?: ChannelDeliveryResult[];
  url?: string;
}

function makeSender(s: Setup): OutboxSender {
  return new OutboxSender({
    outbox: new Outbox(state, log),
    clock: s.clock,
    transportClock: s.transportClock ?? s.clock,
    log,
    secrets: secretResolver({
      baseDir: state,
      env: { HOOK_URL: s.url ?? "http://127.0.0.1:9/hook", REJECT_URL: "http://127.0.0.1:9/reject" },
    }),
    channel: (_ns, name) => {
      const found = s.specs[name];
      return Promise.resolve(found ? { name, spec: found } : undefined);
    },
    onFinished: (_ns, r) => {
      s.finished?.push(r);
      return Promise.resolve();
    },
    jitter: 0,
    ...(s.fetch ? { fetch: s.fetch } : {}),
  });
}

function entry(key: string, channels: string[], event: NotificationEvent = beforeReboot): OutboxEntry {
  return {
    version: 1,
    key,
    namespace: "",
    event: { ...event, id: key },
    enqueuedAt: event.at,
    channels: channels.map((name) => ({ name, state: "Pending", attempts: 0 })),
  };
}

async function onDisk(): Promise<OutboxEntry[]> {
  const dir = outboxDir(state);
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), "utf8")) as OutboxEntry));
}

describe("notification outbox", () => {
  it("enqueueing the same key twice is a no-op: one record, one delivery", async () => {
    const http = fakeFetch([200]);
    const sender = makeSender({ clock: new ManualClock(), specs: { ops: spec({}) }, fetch: http.fetch });
    await sender.start();
    const key = "HostPatchPlan/pve-nodes/BeforeReboot/pve2/c1";
    const first = await sender.enqueue(entry(key, ["ops"]));
    await sender.idle();
    const second = await sender.enqueue({ ...entry(key, ["ops"]), enqueuedAt: "2030-01-01T00:00:00.000Z" });
    await sender.idle();
    await sender.stop();
    expect(second).toBe(first);
    expect(http.ids).toEqual([key]);
    const records = await onDisk();
    expect(records).toHaveLength(1);
    expect(records[0]?.channels).toMatchObject([{ name: "ops", state: "Delivered", attempts: 1 }]);
  });

  it("backs off on the injected clock (retryBackoff doubling, shortened by the jitter) and records each attempt", async () => {
    const clock = new SteppedClock();
    const http = fakeFetch([500, 503, 200]);
    const finished: ChannelDeliveryResult[] = [];
    const sender = new OutboxSender({
      outbox: new Outbox(state, log),
      clock,
      transportClock: new ScaledClock(1),
      log,
      secrets: secretResolver({ baseDir: state, env: { HOOK_URL: "http://127.0.0.1:9/hook" } }),
      channel: (_ns, name) => Promise.resolve({ name, spec: spec({ retries: 5, retryBackoff: "10s" }) }),
      onFinished: (_ns, r) => Promise.resolve(void finished.push(r)),
      jitter: 0.2,
      random: () => 0.5,
      fetch: http.fetch,
    });
    await sender.start();
    await sender.enqueue(entry("k1", ["ops"]));
    // 10 s shortened by 0.2 × 0.5 = 10 %: 9 s; then 20 s → 18 s. Nothing moves until the clock does.
    await clock.untilSleeping(9_000);
    expect(http.ids).toHaveLength(1);
    expect((await onDisk())[0]?.channels[0]).toMatchObject({ state: "Pending", attempts: 1 });
    expect((await onDisk())[0]?.channels[0]?.message).toMatch(/HTTP 500 \(attempt 1\/6\)/);
    clock.advance(9_000);
    await clock.untilSleeping(18_000);
    expect(http.ids).toHaveLength(2);
    expect(clock.pending).toEqual([18_000]);
    clock.advance(18_000);
    await sender.idle();
    await sender.stop();
    expect(http.ids).toHaveLength(3);
    expect((await onDisk())[0]?.channels[0]).toMatchObject({ state: "Delivered", attempts: 3 });
    expect(finished.map((r) => [r.ok, r.attempts])).toEqual([[true, 3]]);
  });

  it("a restart resends only what is owed, continuing the attempt count, and never what was delivered", async () => {
    const clock = new SteppedClock();
    const specs = { good: spec({}), dead: spec({ retries: 5, retryBackoff: "1m" }) };
    // The first process: `good` answers, `dead` fails and is mid-backoff when the process stops.
    const first = fakeFetch([200, 500]);
    const a = makeSender({ clock, specs: { good: specs.good }, fetch: first.fetch });
    await a.start();
    await a.enqueue(entry("delivered-one", ["good"]));
    await a.idle();
    const b = makeSender({ clock, specs, fetch: fakeFetch([500]).fetch });
    await b.start();
    await b.enqueue(entry("owed-one", ["dead"]));
    await clock.untilSleeping(60_000);
    await b.stop();
    await a.stop();
    expect((await onDisk()).find((e) => e.key === "owed-one")?.channels[0]).toMatchObject({
      state: "Pending",
      attempts: 1,
    });

    // The next process, on the same state directory: only the owed event is sent, as attempt 2.
    const finished: ChannelDeliveryResult[] = [];
    const second = fakeFetch([200]);
    const c = makeSender({ clock, specs, fetch: second.fetch, finished });
    await c.start();
    await c.idle();
    expect(second.ids).toEqual(["owed-one"]);
    expect(finished.map((r) => [r.channel, r.ok, r.attempts])).toEqual([["dead", true, 2]]);
    // The same keys enqueued again after the restart change nothing.
    await c.enqueue(entry("delivered-one", ["good"]));
    await c.enqueue(entry("owed-one", ["dead"]));
    await c.idle();
    await c.stop();
    expect(second.ids).toEqual(["owed-one"]);

    // A third start owes nothing and sends nothing.
    const third = fakeFetch([200]);
    const d = makeSender({ clock, specs, fetch: third.fetch });
    await d.start();
    await d.idle();
    await d.stop();
    expect(third.ids).toEqual([]);
    const records = await onDisk();
    expect(records.map((e) => [e.key, e.channels.map((ch) => ch.state)]).sort()).toEqual([
      ["delivered-one", ["Delivered"]],
      ["owed-one", ["Delivered"]],
    ]);
  });

  it("a wait for a dead channel ends at its bound, with the entry still owed and the failed attempt shown", async () => {
    const clock = new SteppedClock();
    const sender = makeSender({
      clock,
      specs: { dead: spec({ retries: 5, retryBackoff: "1m" }) },
      fetch: fakeFetch([503]).fetch,
    });
    await sender.start();
    await sender.enqueue(entry("k", ["dead"]));
    const waited = sender.waitFor("k", 15_000);
    await clock.untilSleeping(60_000);
    await clock.untilSleeping(15_000);
    clock.advance(15_000);
    expect(await waited).toBe(15_000);
    expect(sender.outbox.get("k")?.channels[0]).toMatchObject({ state: "Pending", attempts: 1 });
    expect(sender.outbox.get("k")?.channels[0]?.message).toMatch(/HTTP 503 \(attempt 1\/6\)/);
    await sender.stop();
  });

  it("a wait ends as soon as every channel has ended, delivered or failed", async () => {
    const clock = new SteppedClock();
    const sender = makeSender({
      clock,
      specs: { ok: spec({}), rejects: spec({ url: { env: "REJECT_URL" } }) },
      fetch: (url: string | URL | Request) =>
        Promise.resolve(
          new Response(null, { status: url instanceof URL && url.pathname.endsWith("/reject") ? 404 : 200 }),
        ),
    });
    await sender.start();
    await sender.enqueue(entry("both", ["ok", "rejects"]));
    expect(await sender.waitFor("both", 15_000)).toBe(0);
    expect(sender.outbox.get("both")?.channels.map((c) => [c.name, c.state, c.reason])).toEqual([
      ["ok", "Delivered", undefined],
      ["rejects", "Failed", "DeliveryRejected"],
    ]);
    await sender.stop();
  });

  it("times an HTTP attempt out on the transport clock, not on the controller's clock", async () => {
    server = await startServer(() => "hang");
    const controllerClock = new ManualClock(); // never advanced: it must not be what ends the attempt
    const sender = makeSender({
      clock: controllerClock,
      transportClock: new ScaledClock(100),
      specs: { slow: spec({ timeout: "10s", retries: 0 }) },
      url: `${server.origin}/hook`,
    });
    await sender.start();
    await sender.enqueue(entry("t", ["slow"]));
    await sender.idle();
    await sender.stop();
    expect(sender.outbox.get("t")?.channels[0]).toMatchObject({ state: "Failed", attempts: 1 });
    expect(sender.outbox.get("t")?.channels[0]?.message).toMatch(/timed out after 10s \(attempt 1\/1\)/);
  });

  it("prunes finished entries after the retention and keeps owed ones", async () => {
    const clock = new ManualClock();
    const sender = makeSender({ clock, specs: { ok: spec({}) }, fetch: fakeFetch([200]).fetch });
    await sender.start();
    await sender.enqueue(entry("old", ["ok"]));
    await sender.idle();
    await sender.stop();
    const outbox = new Outbox(state, log);
    await outbox.load();
    await outbox.enqueue(entry("owed", ["gone"]));
    expect(await outbox.prune(clock.now() + 8 * 24 * 3_600_000)).toBe(1);
    expect(outbox.all().map((e) => e.key)).toEqual(["owed"]);
    expect((await onDisk()).map((e) => e.key)).toEqual(["owed"]);
  });
});
