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
  /** Per-attempt timeouts and retry backoff wait on this clock. */
  clock: Clock;
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
