/**
 * A FIFO counting semaphore for the session channels of one connection. OpenSSH refuses sessions
 * beyond MaxSessions (10 by default); staying at 8 leaves room for a session whose process outlives
 * its closed channel (sshd counts it until the process exits).
 */
export class ChannelLimiter {
  private active = 0;
  private highWater = 0;
  private readonly waiters: { grant: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`channel limit must be a positive integer, got ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiters.length;
  }
  /** The most slots ever held at once. */
  get peak(): number {
    return this.highWater;
  }

  /**
   * Resolves with a release function once a slot is free. A free slot is taken synchronously, so
   * counters are exact right after the call. Aborting while queued leaves the queue and rejects with
   * `onAbort()`'s error.
   */
  acquire(signal: AbortSignal | undefined, onAbort: () => Error): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(onAbort());
    if (this.active < this.limit && this.waiters.length === 0) return Promise.resolve(this.take());
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener("abort", abort);
          resolve(this.take());
        },
      };
      const abort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(onAbort());
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private take(): () => void {
    this.active++;
    this.highWater = Math.max(this.highWater, this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.grant();
    };
  }
}
