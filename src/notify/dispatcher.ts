import type { NotificationChannelSpec, NotificationChannel } from "../api/notification-channel.js";
import type { Severity } from "../api/plan-common.js";
import { RefitError } from "../errors.js";
import type { ChannelType, DeliveryContext } from "./channel.js";
import { parseNotificationEvent, type NotificationEvent, type NotificationEventName } from "./event.js";
import { deliverTo } from "./registry.js";
import { severityAllows } from "./severity.js";

/** A NotificationChannel as the dispatcher needs it: its name (for messages) and validated spec. */
export interface ChannelTarget {
  name: string;
  spec: NotificationChannelSpec;
}

/** The plan's `notifications` settings that filter what is sent. */
export interface DispatchOptions {
  /** The plan's override of every channel's `minSeverity`. */
  minSeverity?: Severity;
  /** Events the plan sends (its own list or its profile's); others are sent to no channel. */
  events?: readonly NotificationEventName[];
}

export type DispatchContext = Omit<DeliveryContext, "channel">;

/** The outcome for one channel: what the controller writes to its NotificationChannel status. */
export interface ChannelDeliveryResult {
  channel: string;
  type: ChannelType;
  event: NotificationEventName;
  ok: boolean;
  /** HTTP attempts made; 0 when the delivery failed before any (secret missing, type not delivered). */
  attempts: number;
  /** When the delivery finished, ISO 8601 on the injected clock. */
  at: string;
  /** Why it failed; names the channel, never a URL, token or header value. */
  error?: string;
  reason?: string;
  /** Whether a later delivery might succeed without a person changing anything. */
  retryable?: boolean;
}

/** Whether `channel` receives `event` under the plan's options. */
export function channelWants(
  spec: NotificationChannelSpec,
  event: NotificationEvent,
  options: DispatchOptions = {},
): boolean {
  if (options.events !== undefined && !options.events.includes(event.event)) return false;
  return severityAllows(options.minSeverity ?? spec.minSeverity, event.severity);
}

/**
 * Delivers a valid event to one channel (with the channel's retries) and reports the outcome; never
 * throws. The outbox's sender delivers through this, one entry and channel at a time.
 */
export async function deliverToChannel(
  event: NotificationEvent,
  target: ChannelTarget,
  ctx: DispatchContext,
): Promise<ChannelDeliveryResult> {
  const base = { channel: target.name, type: target.spec.type, event: event.event };
  try {
    const result = await deliverTo(event, target.spec, { ...ctx, channel: target.name });
    return { ...base, ok: true, attempts: result.attempts, at: new Date(ctx.clock.now()).toISOString() };
  } catch (err) {
    const attempts =
      err instanceof RefitError && typeof err.context.attempts === "number" ? err.context.attempts : 0;
    // Plugins word their own errors without secrets; anything else may quote a URL, so only its kind is kept.
    const error =
      err instanceof RefitError
        ? err.message
        : `${target.spec.type} delivery to ${target.name} failed unexpectedly (${err instanceof Error ? err.name : typeof err})`;
    const failure: ChannelDeliveryResult = {
      ...base,
      ok: false,
      attempts,
      at: new Date(ctx.clock.now()).toISOString(),
      error,
      reason: err instanceof RefitError ? err.reason : "DeliveryFailed",
      retryable: err instanceof RefitError ? err.retryable : true,
    };
    ctx.log?.error(
      { channel: target.name, type: target.spec.type, event: event.event, attempts, reason: failure.reason },
      error,
    );
    return failure;
  }
}

/**
 * Delivers `event` to every channel that wants it, in parallel, and reports each outcome. One
 * channel failing never affects another and never throws; only an invalid event (a bug in the
 * caller) does.
 */
export async function notify(
  event: NotificationEvent,
  channels: readonly ChannelTarget[],
  ctx: DispatchContext,
  options: DispatchOptions = {},
): Promise<ChannelDeliveryResult[]> {
  const valid = parseNotificationEvent(event);
  const wanted = channels.filter((c) => channelWants(c.spec, valid, options));
  return Promise.all(wanted.map((c) => deliverToChannel(valid, c, ctx)));
}

type ChannelStatus = NonNullable<NotificationChannel["status"]>;

/**
 * The NotificationChannel status fields after a delivery: `lastDelivery` from the result, `failures`
 * counting failed deliveries since the last success.
 */
export function channelStatusAfter(
  previous: Pick<ChannelStatus, "failures"> | undefined,
  result: ChannelDeliveryResult,
): Pick<ChannelStatus, "lastDelivery" | "failures"> {
  return {
    lastDelivery: {
      at: result.at,
      event: result.event,
      ok: result.ok,
      ...(result.error === undefined ? {} : { message: result.error }),
    },
    failures: result.ok ? 0 : (previous?.failures ?? 0) + 1,
  };
}
