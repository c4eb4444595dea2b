import { ManualClock, ScaledClock, type Clock } from "../../../src/clock.js";

/**
 * A fast clock (1000× real time) that records every wait that ran to completion. Per-attempt
 * timeouts are cancelled when the attempt ends, so in tests whose server answers what remains are
 * the retry waits, in order.
 */
export class RecordingClock implements Clock {
  readonly completedSleeps: number[] = [];
  private readonly inner = new ScaledClock(1000);
  now(): number {
    return this.inner.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const p = this.inner.sleep(ms, signal);
    p.then(
      () => this.completedSleeps.push(ms),
      () => undefined,
    );
    return p;
  }
}

/** A manual clock that shows which waits are pending, so a test can advance exactly past one. */
export class SteppedClock extends ManualClock {
  readonly pending: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.pending.push(ms);
    const done = (): void => {
      const i = this.pending.indexOf(ms);
      if (i >= 0) this.pending.splice(i, 1);
    };
    const p = super.sleep(ms, signal);
    p.then(done, done);
    return p;
  }
  /** Resolves once a wait of `ms` is pending (polling real time briefly). */
  async untilSleeping(ms: number): Promise<void> {
    for (let i = 0; i < 5000 && !this.pending.includes(ms); i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    if (!this.pending.includes(ms))
      throw new Error(`no wait of ${ms} ms became pending (pending: ${this.pending.join(", ")})`);
  }
}
