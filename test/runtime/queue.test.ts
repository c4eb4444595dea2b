import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay, WorkQueue } from "../../controller/runtime/queue.js";
import { ManualClock } from "../../src/clock.js";
import { settle } from "./support.js";

/** A processor whose runs the test finishes by hand. */
class Gate {
  readonly started: string[] = [];
  private readonly pending = new Map<string, (() => void)[]>();
  running = 0;
  maxRunning = 0;

  process = (key: string): Promise<void> => {
    this.started.push(key);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise((resolve) => {
      const list = this.pending.get(key) ?? [];
      list.push(() => {
        this.running--;
        resolve();
      });
      this.pending.set(key, list);
    });
  };

  finish(key: string): void {
    const list = this.pending.get(key);
    const done = list?.shift();
    if (!done) throw new Error(`${key} is not running`);
    done();
  }
}

/** A processor that finishes at once. */
function counter(): { runs: string[]; process: (k: string) => Promise<void> } {
  const runs: string[] = [];
  return { runs, process: (k) => (runs.push(k), Promise.resolve()) };
}

describe("work queue", () => {
  it("runs a key added several times before it starts once", async () => {
    const clock = new ManualClock();
    const gate = new Gate();
    const q = new WorkQueue(gate.process, { clock, concurrency: 1 });
    q.add("blocker");
    q.add("a");
    q.add("a");
    q.add("a");
    await settle();
    gate.finish("blocker");
    await settle();
    gate.finish("a");
    await settle();
    expect(gate.started).toEqual(["blocker", "a"]);
    await q.shutdown();
  });

  it("never runs one key twice at once; added while running, it runs once more afterwards", async () => {
    const clock = new ManualClock();
    const gate = new Gate();
    const q = new WorkQueue(gate.process, { clock, concurrency: 4 });
    q.add("a");
    await settle();
    q.add("a");
    q.add("a");
    await settle();
    expect(gate.started).toEqual(["a"]);
    expect(gate.running).toBe(1);
    gate.finish("a");
    await settle();
    expect(gate.started).toEqual(["a", "a"]);
    gate.finish("a");
    await settle();
    expect(gate.started).toEqual(["a", "a"]);
    await q.shutdown();
  });

  it("caps the keys running at once", async () => {
    const clock = new ManualClock();
    const gate = new Gate();
    const q = new WorkQueue(gate.process, { clock, concurrency: 2 });
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    await settle();
    expect(gate.started).toEqual(["a", "b"]);
    expect(q.length).toBe(3);
    gate.finish("a");
    await settle();
    expect(gate.started).toEqual(["a", "b", "c"]);
    gate.finish("b");
    gate.finish("c");
    await settle();
    gate.finish("d");
    gate.finish("e");
    await settle();
    expect(gate.started).toEqual(["a", "b", "c", "d", "e"]);
    expect(gate.maxRunning).toBe(2);
    await q.shutdown();
  });

  it("addAfter runs the key when the injected clock reaches the delay, and the earliest delay wins", async () => {
    const clock = new ManualClock();
    const c = counter();
    const q = new WorkQueue(c.process, { clock });
    q.addAfter("a", 10_000);
    q.addAfter("a", 30_000); // later: ignored, a sooner run is already due
    q.addAfter("b", 5_000);
    clock.advance(4_999);
    await settle();
    expect(c.runs).toEqual([]);
    clock.advance(1);
    await settle();
    expect(c.runs).toEqual(["b"]);
    clock.advance(5_000);
    await settle();
    expect(c.runs).toEqual(["b", "a"]);
    clock.advance(60_000);
    await settle();
    expect(c.runs).toEqual(["b", "a"]);
    q.addAfter("c", 20_000);
    q.addAfter("c", 1_000); // sooner: replaces the later one
    clock.advance(1_000);
    await settle();
    expect(c.runs).toEqual(["b", "a", "c"]);
    clock.advance(30_000);
    await settle();
    expect(c.runs).toEqual(["b", "a", "c"]);
    await q.shutdown();
  });

  it("addRateLimited backs off exponentially from 500 ms to a 5 minute cap; forget resets it", async () => {
    const clock = new ManualClock();
    const c = counter();
    // random() just below 1 gives the ceiling (full jitter draws from [0, ceiling)).
    const q = new WorkQueue(c.process, { clock, random: () => 0.999999999 });
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) delays.push(q.addRateLimited("a"));
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 15999, 31999, 63999, 127999, 255999, 299999, 299999]);
    expect(q.retries("a")).toBe(12);
    q.forget("a");
    expect(q.retries("a")).toBe(0);
    expect(q.addRateLimited("a")).toBe(499);
    await q.shutdown();
  });

  it("a rate-limited key runs only after its backoff has passed on the clock", async () => {
    const clock = new ManualClock();
    const c = counter();
    const q = new WorkQueue(c.process, { clock, random: () => 0.5 });
    expect(q.addRateLimited("a")).toBe(250);
    clock.advance(249);
    await settle();
    expect(c.runs).toEqual([]);
    clock.advance(1);
    await settle();
    expect(c.runs).toEqual(["a"]);
    expect(q.addRateLimited("a")).toBe(500);
    clock.advance(499);
    await settle();
    expect(c.runs).toEqual(["a"]);
    clock.advance(1);
    await settle();
    expect(c.runs).toEqual(["a", "a"]);
    await q.shutdown();
  });

  it("full jitter: every delay lies between 0 and the capped exponential ceiling", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const d = backoffDelay(n, () => r);
          const ceiling = backoffCeiling(n);
          expect(ceiling).toBe(Math.min(300_000, 500 * 2 ** (n - 1)));
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.max(1, ceiling));
          expect(Number.isInteger(d)).toBe(true);
        },
      ),
    );
  });

  it("shutdown waits for running keys, drops waiting and delayed ones, and refuses new keys", async () => {
    const clock = new ManualClock();
    const gate = new Gate();
    const q = new WorkQueue(gate.process, { clock, concurrency: 1 });
    q.add("a");
    q.add("b");
    q.addAfter("c", 1_000);
    await settle();
    let stopped = false;
    const stopping = q.shutdown().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    q.add("d");
    gate.finish("a");
    await stopping;
    expect(stopped).toBe(true);
    clock.advance(10_000);
    await settle();
    expect(gate.started).toEqual(["a"]);
  });

  it("a processor that throws does not stop the queue", async () => {
    const clock = new ManualClock();
    const errors: string[] = [];
    const runs: string[] = [];
    const q = new WorkQueue(
      (k) => {
        runs.push(k);
        return k === "bad" ? Promise.reject(new Error("boom")) : Promise.resolve();
      },
      { clock, concurrency: 1, onError: (k, e) => errors.push(`${k}: ${(e as Error).message}`) },
    );
    q.add("bad");
    q.add("good");
    await settle();
    expect(runs).toEqual(["bad", "good"]);
    expect(errors).toEqual(["bad: boom"]);
    await q.shutdown();
  });
});
