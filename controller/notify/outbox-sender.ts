/**
 * The outbox's background sender: delivers every owed (entry, channel) with the channel's own
 * retries, backoff and jitter (src/notify's dispatcher and retry loop; nothing here retries on its
 * own), records each failed attempt and each end in the entry atomically, and lets a caller wait a
 * bounded time for an entry. Backoff waits run on the controller's clock; each HTTP attempt's
 * timeout on the transport clock (real time), like SSH.
 *
 * Never twice: a channel marked Delivered is never sent to again, in this process or after a
 * restart. The one gap is a crash between the service's 2xx and that durable mark; then the event
 * is sent once more with the same id (X-Refit-Event-Id), by which a receiver drops it.
 */
import { systemClock, type Clock } from "../../src/clock.js";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import {
  deliverToChannel,
  NotifyReason,
  type ChannelDeliveryResult,
  type ChannelTarget,
} from "../../src/notify/index.js";
import type { SecretResolver } from "../../src/secrets/resolve.js";
import type { Outbox, OutboxChannel, OutboxEntry } from "./outbox.js";

export interface OutboxSenderOptions {
  outbox: Outbox;
  /** Backoff waits, bounded waits and timestamps. */
  clock: Clock;
  /** Per-attempt HTTP timeouts; default the system clock. */
  transportClock?: Clock;
  log: Logger;
  secrets: SecretResolver;
  /** The channel named `name` in `namespace`, or undefined when it no longer exists. */
  channel: (namespace: string, name: string) => Promise<ChannelTarget | undefined>;
  /** Called once per channel when its delivery ends (Delivered or Failed), e.g. to write its status. */
  onFinished?: (namespace: string, result: ChannelDeliveryResult) => Promise<void>;
  /** Fraction by which each backoff wait is shortened at random; default 0.2. */
  jitter?: number;
  random?: () => number;
  fetch?: typeof fetch;
}

type Waiter = () => void;

export class OutboxSender {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private abort = new AbortController();
  private running = false;

  constructor(private readonly opts: OutboxSenderOptions) {}

  get outbox(): Outbox {
    return this.opts.outbox;
  }

  /** Loads the outbox and starts delivering what it owes (what an earlier process left Pending). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.outbox.load();
    await this.outbox.prune(this.opts.clock.now());
    this.abort = new AbortController();
    this.running = true;
    const owed = this.outbox.owed();
    if (owed.length > 0) this.opts.log.info({ owed: owed.length }, "outbox: resending owed notifications");
    for (const { entry } of owed) this.kick(entry);
  }

  /** Cancels deliveries in flight (they stay Pending, with their attempts) and waits for them to end. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort(new Error("controller stopping"));
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    await this.outbox.idle();
    for (const key of [...this.waiters.keys()]) this.wake(key);
  }

  /** Adds an entry (a no-op for a key already there) and, when running, starts delivering it. */
  async enqueue(entry: OutboxEntry): Promise<OutboxEntry> {
    const { entry: inForce, added } = await this.outbox.enqueue(entry);
    if (!added) this.opts.log.debug({ key: entry.key }, "outbox: notice already recorded; not sent again");
    this.kick(inForce);
    return inForce;
  }

  /**
   * Resolves when no channel of `key` is Pending any more, `ms` of the controller's clock have
   * passed, or `signal` aborts, whichever is first. Resolves to how long it waited.
   */
  async waitFor(key: string, ms: number, signal?: AbortSignal): Promise<number> {
    const started = this.opts.clock.now();
    const settled = (): boolean =>
      !(this.outbox.get(key)?.channels.some((c) => c.state === "Pending") ?? false);
    if (settled() || ms <= 0) return 0;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const waiter: Waiter = () => {
      if (settled()) stop.abort();
    };
    const set = this.waiters.get(key) ?? new Set<Waiter>();
    set.add(waiter);
    this.waiters.set(key, set);
    try {
      await this.opts.clock.sleep(ms, stop.signal).catch(() => undefined);
    } finally {
      set.delete(waiter);
      if (set.size === 0) this.waiters.delete(key);
      signal?.removeEventListener("abort", onAbort);
    }
    return Math.max(0, Math.min(ms, this.opts.clock.now() - started));
  }

  /** Resolves when nothing is in flight (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    await this.outbox.idle();
  }

  private wake(key: string): void {
    for (const w of [...(this.waiters.get(key) ?? [])]) w();
  }

  private kick(entry: OutboxEntry): void {
    if (!this.running) return;
    for (const channel of entry.channels) {
      if (channel.state !== "Pending") continue;
      const id = `${entry.key}\u0000${channel.name}`;
      if (this.inFlight.has(id)) continue;
      const task = this.deliver(entry, channel)
        .catch((err: unknown) =>
          this.opts.log.warn(
            { key: entry.key, channel: channel.name, err: errorMessage(err) },
            "outbox: delivery not recorded",
          ),
        )
        .finally(() => {
          this.inFlight.delete(id);
          this.wake(entry.key);
        });
      this.inFlight.set(id, task);
    }
  }

  private async deliver(entry: OutboxEntry, channel: OutboxChannel): Promise<void> {
    const { clock, log } = this.opts;
    const signal = this.abort.signal;
    const at = (): string => new Date(clock.now()).toISOString();
    const target = await this.opts.channel(entry.namespace, channel.name);
    if (signal.aborted) return;
    let result: ChannelDeliveryResult;
    if (!target) {
      result = {
        channel: channel.name,
        type: "webhook",
        event: entry.event.event,
        ok: false,
        attempts: channel.attempts,
        at: at(),
        error: `NotificationChannel ${channel.name} no longer exists; the notice is not sent to it`,
        reason: "ChannelNotFound",
        retryable: false,
      };
    } else {
      result = await deliverToChannel(entry.event, target, {
        secrets: this.opts.secrets,
        clock,
        transportClock: this.opts.transportClock ?? systemClock,
        jitter: this.opts.jitter ?? 0.2,
        ...(this.opts.random ? { random: this.opts.random } : {}),
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
        signal,
        log,
        attemptsBefore: channel.attempts,
        onRetry: async ({ attempt, message }) => {
          channel.attempts = attempt;
          channel.message = message;
          channel.at = at();
          this.wake(entry.key);
          await this.outbox.save(entry);
        },
      });
    }
    if (!result.ok && result.reason === NotifyReason.DeliveryAborted) {
      // Cancelled by a stop: still owed, with the attempts made; the next start resends it.
      channel.attempts = Math.max(channel.attempts, result.attempts);
      await this.outbox.save(entry);
      return;
    }
    channel.state = result.ok ? "Delivered" : "Failed";
    channel.attempts = Math.max(channel.attempts, result.attempts);
    channel.at = result.at;
    if (result.ok) {
      delete channel.message;
      delete channel.reason;
    } else {
      channel.message = result.error ?? "delivery failed";
      channel.reason = result.reason ?? NotifyReason.DeliveryFailed;
    }
    if (entry.channels.every((c) => c.state !== "Pending")) entry.finishedAt = result.at;
    await this.outbox.save(entry);
    this.wake(entry.key);
    log.info(
      { key: entry.key, channel: channel.name, state: channel.state, attempts: channel.attempts },
      `outbox: ${entry.event.event} ${channel.state === "Delivered" ? "delivered to" : "not delivered to"} ${channel.name}`,
    );
    await this.opts
      .onFinished?.(entry.namespace, result)
      .catch((err: unknown) =>
        log.warn({ channel: channel.name, err: errorMessage(err) }, "channel status not recorded"),
      );
  }
}
