import { describe, expect, it } from "vitest";
import { ChannelLimiter } from "../../src/ssh/channel-limiter.js";

const aborted = (): Error => new Error("aborted");

describe("ChannelLimiter", () => {
  it("grants free slots at once and queues the rest, counting both exactly", async () => {
    const l = new ChannelLimiter(2);
    const a = l.acquire(undefined, aborted);
    const b = l.acquire(undefined, aborted);
    const c = l.acquire(undefined, aborted);
    expect({ inUse: l.inUse, queued: l.queued, peak: l.peak }).toEqual({ inUse: 2, queued: 1, peak: 2 });
    (await a)();
    await c;
    expect({ inUse: l.inUse, queued: l.queued }).toEqual({ inUse: 2, queued: 0 });
    (await b)();
    expect(l.inUse).toBe(1);
  });

  it("serves waiters first come, first served", async () => {
    const l = new ChannelLimiter(1);
    const first = await l.acquire(undefined, aborted);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      l.acquire(undefined, aborted).then((release) => {
        order.push(n);
        release();
      }),
    );
    first();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(l.peak).toBe(1);
  });

  it("does not let a new caller overtake queued ones when a slot frees", async () => {
    const l = new ChannelLimiter(1);
    const first = await l.acquire(undefined, aborted);
    const order: string[] = [];
    const queued = l.acquire(undefined, aborted).then((r) => {
      order.push("queued");
      r();
    });
    first();
    const late = l.acquire(undefined, aborted).then((r) => {
      order.push("late");
      r();
    });
    await Promise.all([queued, late]);
    expect(order).toEqual(["queued", "late"]);
  });

  it("removes an aborted waiter from the queue", async () => {
    const l = new ChannelLimiter(1);
    const held = await l.acquire(undefined, aborted);
    const ac = new AbortController();
    const waiting = l.acquire(ac.signal, aborted);
    expect(l.queued).toBe(1);
    ac.abort();
    await expect(waiting).rejects.toThrow("aborted");
    expect(l.queued).toBe(0);
    held();
    expect(l.inUse).toBe(0);
  });

  it("ignores a second release of the same slot", async () => {
    const l = new ChannelLimiter(2);
    const r = await l.acquire(undefined, aborted);
    await l.acquire(undefined, aborted);
    r();
    r();
    expect(l.inUse).toBe(1);
  });
});
