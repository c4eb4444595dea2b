import type { NotificationChannelSpec, NotificationChannelType } from "../api/notification-channel.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../log/logger.js";
import type { SecretResolver } from "../secrets/resolve.js";
import type { NotificationEvent } from "./event.js";

export type ChannelType = NotificationChannelType;

/** The validated spec (defaults applied) of one channel type. */
export type ChannelSpec<T extends ChannelType> = Extract<NotificationChannelSpec, { type: T }>;

/** What every delivery is given. */
export interface DeliveryContext {
  /** Name of the NotificationChannel: the only way errors refer to it (its URL is a secret). */
  channel: string;
  secrets: SecretResolver;
  /** Retry backoff waits on this clock (and per-attempt timeouts, unless `transportClock` is given). */
  clock: Clock;
  /**
   * Per-attempt timeouts wait on this clock: they measure the network, which a scaled clock does not
   * speed up, so the controller passes the system clock (as SSH does). Default: `clock`.
   */
  transportClock?: Clock;
  /**
   * Each backoff wait is shortened by up to this fraction (0–1) at random, so deliveries that failed
   * together do not retry in lock step. Default 0; a server's Retry-After is never shortened.
   */
  jitter?: number;
  /** Random numbers in [0, 1) for the jitter; default Math.random. */
  random?: () => number;
  /**
   * Attempts already made for this delivery (by an earlier process): numbering and backoff continue
   * from there, and only the remaining `retries` are made. Default 0.
   */
  attemptsBefore?: number;
  /**
   * Called after each failed attempt that will be retried, before the wait: the outbox records the
   * attempt so a restart continues the count. Errors it throws are ignored.
   */
  onRetry?: (info: { attempt: number; max: number; waitMs: number; message: string }) => Promise<void> | void;
  /** Cancels the delivery (controller shutdown); an aborted delivery rejects as retryable. */
  signal?: AbortSignal;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** One line per failed attempt; no URL or header value ever reaches it. */
  log?: Logger;
}

/** A delivery that succeeded. A failed one rejects with a RefitError carrying `attempts` in its context. */
export interface DeliveryResult {
  /** Attempts made, including the successful one. */
  attempts: number;
  /** HTTP status of the successful attempt. */
  status?: number;
}

/**
 * One notification service. Plugins are registered explicitly in `registry.ts`, one per type in
 * `notificationChannelTypes`; a contract test fails if one is missing.
 */
export interface NotificationChannelPlugin<T extends ChannelType> {
  readonly type: T;
  /** False for types the API accepts but this version cannot deliver yet. */
  readonly implemented: boolean;
  /**
   * Delivers one event, retrying as the spec says. Rejects with a TerminalError when retrying cannot
   * help (4xx, missing secret, not implemented) and a RetryableError when every attempt failed.
   * Error messages name the channel, never its URL, token or header values.
   */
  deliver(event: NotificationEvent, spec: ChannelSpec<T>, ctx: DeliveryContext): Promise<DeliveryResult>;
}
