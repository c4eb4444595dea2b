/**
 * Injected time. Everything that waits, times out or stamps a time takes a Clock, so the simulator
 * and the controller can share a scaled clock and tests can run hours of maintenance in seconds.
 */
export interface Clock {
  /** Milliseconds since the epoch, in this clock's time. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortableTimeout(realMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, realMs),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Wall-clock time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => abortableTimeout(ms, signal),
};

/**
 * A clock that runs `factor` times faster than real time from `start` (default: now). A factor of
 * 100 makes a 90-second reboot take 0.9 real seconds.
 */
export class ScaledClock implements Clock {
  /**
   * `start` is this clock's time at the real instant `realStart`. Two processes that construct a
   * ScaledClock with the same three numbers share one time (a simulator and a controller under test).
   */
  constructor(
    readonly factor: number,
    readonly start: number = Date.now(),
    readonly realStart: number = Date.now(),
  ) {
    if (!(factor > 0)) throw new RangeError(`clock factor must be > 0, got ${factor}`);
  }
  now(): number {
    return this.start + (Date.now() - this.realStart) * this.factor;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableTimeout(ms / this.factor, signal);
  }
}

/** A clock that moves only when told to; for unit tests. */
export class ManualClock implements Clock {
  private waiters: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  constructor(private current: number = Date.parse("2026-01-01T00:00:00Z")) {}
  now(): number {
    return this.current;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        return;
      }
      const waiter = { at: this.current + Math.max(0, ms), resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        },
        { once: true },
      );
    });
  }
  /** Moves time forward and wakes every sleeper whose time has come, in order. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.waiters.filter((w) => w.at <= this.current).sort((a, b) => a.at - b.at);
    this.waiters = this.waiters.filter((w) => w.at > this.current);
    for (const w of due) w.resolve();
  }
  set(epochMs: number): void {
    this.advance(Math.max(0, epochMs - this.current));
  }
}
