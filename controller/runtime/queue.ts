/**
 * A work queue keyed by string, in the manner of client-go's rate-limited delaying queue:
 *
 * - a key added several times before it runs, runs once;
 * - a key never runs twice at the same time; added while it runs, it runs once more afterwards;
 * - `addAfter` delays a key (the earliest pending delay wins);
 * - `addRateLimited` delays it by exponential backoff with full jitter, reset by `forget`;
 * - at most `concurrency` keys run at once;
 * - all waiting uses the injected Clock.
 */
import type { Clock } from "../../src/clock.js";

export interface WorkQueueOptions {
  clock: Clock;
  /** Keys processed at the same time; default 2. */
  concurrency?: number;
  /** First backoff ceiling; default 500 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling; default 5 minutes. */
  maxDelayMs?: number;
  /** In [0, 1); default Math.random. */
  random?: () => number;
  /** Called when `process` throws (it should not: the manager catches everything). */
  onError?: (key: string, err: unknown) => void;
}

export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 5 * 60_000;

/**
 * Full jitter (uniform between 0 and the ceiling) spreads retries of many keys that failed together,
 * so a flapping host is not hit by every key at the same instant.
 */
export function backoffDelay(
  failures: number,
  random: () => number,
  baseMs = DEFAULT_BASE_DELAY_MS,
  maxMs = DEFAULT_MAX_DELAY_MS,
): number {
  return Math.floor(random() * backoffCeiling(failures, baseMs, maxMs));
}

/** The largest delay after `failures` consecutive failures (1 → base, 2 → 2×base, …, capped). */
export function backoffCeiling(
  failures: number,
  baseMs = DEFAULT_BASE_DELAY_MS,
  maxMs = DEFAULT_MAX_DELAY_MS,
) {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity long after it passes any cap, so Math.min keeps it finite.
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

interface Delayed {
  at: number;
  abort: AbortController;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly onError: (key: string, err: unknown) => void;

  private readonly ready: string[] = [];
  /** Keys waiting to run (in `ready`, or to be put there when their current run ends). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    private readonly process: (key: string) => Promise<void>,
    options: WorkQueueOptions,
  ) {
    this.clock = options.clock;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => undefined);
  }

  add(key: string): void {
    if (this.stopping || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.ready.push(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.abort.abort();
    const abort = new AbortController();
    const entry: Delayed = { at, abort };
    this.delayed.set(key, entry);
    this.clock.sleep(ms, abort.signal).then(
      () => {
        if (this.delayed.get(key) === entry) this.delayed.delete(key);
        this.add(key);
      },
      () => undefined, // aborted: replaced by an earlier delay, or the queue shut down
    );
  }

  /** Delays `key` by the next backoff step; returns the delay chosen. */
  addRateLimited(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = backoffDelay(failures, this.random, this.baseDelayMs, this.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key` (after it succeeded, or when retrying it stopped making sense). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive failures recorded for `key`. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting to run now (not delayed, not running). */
  get length(): number {
    return this.ready.length;
  }

  get running(): number {
    return this.processing.size;
  }

  /** Accepts no more keys, drops waiting and delayed ones, and resolves when running keys finish. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.ready.length = 0;
    this.dirty.clear();
    for (const d of this.delayed.values()) d.abort.abort();
    this.delayed.clear();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private pump(): void {
    while (!this.stopping && this.processing.size < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      this.dirty.delete(key);
      this.processing.add(key);
      const run: Promise<void> = this.runOne(key).finally(() => {
        this.inFlight.delete(run);
        this.processing.delete(key);
        if (this.dirty.has(key)) this.ready.push(key);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async runOne(key: string): Promise<void> {
    try {
      await this.process(key);
    } catch (err) {
      this.onError(key, err);
    }
  }
}
