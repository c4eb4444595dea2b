import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { notificationChannelSpec } from "../../src/api/notification-channel.js";
import { createLogger } from "../../src/log/logger.js";
import { PlanNotifier } from "../../controller/notify/plan-notifier.js";
import type { PlanNotice } from "../../controller/context.js";
import type { ObjectStore } from "../../controller/runtime/store.js";
import { SteppedClock } from "./support/clocks.js";

const log = createLogger({ pretty: false, level: "silent" });

let state: string;
beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), "refit-plan-notifier-"));
  process.env.REFIT_TEST_HOOK = "http://127.0.0.1:9/hook";
});
afterEach(async () => {
  delete process.env.REFIT_TEST_HOOK;
  await rm(state, { recursive: true, force: true });
});

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: unknown;
  status?: Record<string, unknown>;
}

/** Just enough of a store: a plan, its channels, and the channel status writes. */
function fakeStore(objects: Obj[]): { store: ObjectStore; statusWrites: Obj[] } {
  const statusWrites: Obj[] = [];
  const store = {
    get: (kind: string, _ns: string, name: string) =>
      Promise.resolve(structuredClone(objects.find((o) => o.kind === kind && o.metadata.name === name))),
    updateStatus: (o: Obj) => {
      statusWrites.push(structuredClone(o));
      const i = objects.findIndex((x) => x.kind === o.kind && x.metadata.name === o.metadata.name);
      if (i >= 0) objects[i] = structuredClone(o);
      return Promise.resolve(o);
    },
  };
  return { store: store as unknown as ObjectStore, statusWrites };
}

function world(notifications: Record<string, unknown>, channel: Record<string, unknown> = {}): Obj[] {
  return [
    {
      kind: "HostPatchPlan",
      metadata: { name: "pve-nodes" },
      spec: { notifications: { channelRefs: [{ name: "ops" }], ...notifications } },
      status: { cycle: "c20260101000000" },
    },
    {
      kind: "NotificationChannel",
      metadata: { name: "ops" },
      spec: notificationChannelSpec.parse({
        type: "webhook",
        url: { env: "REFIT_TEST_HOOK" },
        ...channel,
      }),
    },
  ];
}

const notice: PlanNotice = {
  plan: { kind: "HostPatchPlan", name: "pve-nodes", namespace: "" },
  event: "BeforeReboot",
  severity: "info",
  cluster: "pve-lab",
  hosts: ["pve2"],
  summary: "rebooting pve2",
};

function fetchAnswering(status: number): { fetch: typeof fetch; ids: string[] } {
  const ids: string[] = [];
  const impl = (_u: string | URL | Request, init?: RequestInit): Promise<Response> => {
    ids.push((init?.headers as Record<string, string>)["x-refit-event-id"] ?? "");
    return Promise.resolve(new Response(null, { status }));
  };
  return { fetch: impl, ids };
}

describe("PlanNotifier", () => {
  it("records a notice once per plan, event, hosts and cycle, delivers it and writes the channel's status", async () => {
    const clock = new SteppedClock();
    const { store, statusWrites } = fakeStore(world({}));
    const http = fetchAnswering(204);
    const notifier = new PlanNotifier({
      store,
      clock,
      log,
      baseDir: state,
      stateDir: state,
      fetch: http.fetch,
    });
    await notifier.start();
    await notifier.notify(notice);
    await notifier.notify(notice);
    await notifier.sender.idle();
    await notifier.stop();
    const key = "HostPatchPlan/pve-nodes/BeforeReboot/pve2/c20260101000000";
    expect(notifier.outbox.all().map((e) => e.key)).toEqual([key]);
    expect(notifier.outbox.all()[0]?.channels[0]).toMatchObject({ state: "Delivered", attempts: 1 });
    expect(http.ids).toEqual([key]);
    expect(statusWrites.map((w) => w.status)).toMatchObject([
      { lastDelivery: { event: "BeforeReboot", ok: true }, failures: 0 },
    ]);
  });

  it("notifyAndWait waits at most the plan's maxWait for a failing channel and reports it Pending", async () => {
    const clock = new SteppedClock();
    const { store } = fakeStore(
      world({ maxWait: "3s" }, { url: { env: "REFIT_TEST_HOOK" }, retryBackoff: "1m" }),
    );
    process.env.REFIT_TEST_HOOK = "http://127.0.0.1:9/hook";
    const http = fetchAnswering(503);
    const notifier = new PlanNotifier({
      store,
      clock,
      log,
      baseDir: state,
      stateDir: state,
      fetch: http.fetch,
      jitter: 0,
    });
    await notifier.start();
    const receipt = notifier.notifyAndWait(notice, { key: "k/BeforeReboot/pve2/c1" });
    await clock.untilSleeping(60_000);
    await clock.untilSleeping(3_000);
    clock.advance(3_000);
    const r = await receipt;
    await notifier.stop();
    expect(r).toMatchObject({ id: "k/BeforeReboot/pve2/c1", waitedMs: 3_000 });
    expect(r?.channels).toEqual([
      {
        name: "ops",
        state: "Pending",
        attempts: 1,
        message: "webhook POST to ops failed: HTTP 503 (attempt 1/6)",
      },
    ]);
    expect(http.ids).toEqual(["k/BeforeReboot/pve2/c1"]);
    // Stopped mid-backoff: still owed, for the next start.
    expect(notifier.outbox.owed().map((o) => o.channel.name)).toEqual(["ops"]);
  });

  it("records nothing when no channel wants the event", async () => {
    const clock = new SteppedClock();
    const { store } = fakeStore(world({ minSeverity: "error" }));
    const notifier = new PlanNotifier({ store, clock, log, baseDir: state, stateDir: state });
    await notifier.start();
    expect(await notifier.notifyAndWait(notice)).toBeUndefined();
    await notifier.stop();
    expect(notifier.outbox.all()).toEqual([]);
  });
});
