import { createHash } from "node:crypto";
import type { RefitObject } from "../../src/api/kinds.js";
import { parseDuration } from "../../src/api/primitives.js";
import { systemClock, type Clock } from "../../src/clock.js";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import {
  channelStatusAfter,
  channelWants,
  parseNotificationEvent,
  type ChannelTarget,
  type NotificationEvent,
} from "../../src/notify/index.js";
import { secretResolver } from "../../src/secrets/index.js";
import type { NoticeReceipt, Notifier, NotifyOptions, PlanNotice } from "../context.js";
import type { ObjectStore } from "../runtime/store.js";
import { Outbox, type OutboxEntry } from "./outbox.js";
import { OutboxSender } from "./outbox-sender.js";

export interface PlanNotifierOptions {
  store: ObjectStore;
  /** The controller's clock: event times, backoff waits and the plan's `maxWait`. */
  clock: Clock;
  log: Logger;
  /** Relative secret file paths are read from here (the desired-state directory). */
  baseDir: string;
  /** The outbox lives in `<stateDir>/outbox`. */
  stateDir: string;
  /** Per-attempt HTTP timeouts; default the system clock (a scaled clock does not speed up the network). */
  transportClock?: Clock;
  fetch?: typeof fetch;
  /** Fraction by which each backoff wait is shortened at random; default 0.2. */
  jitter?: number;
}

const EVENT_ID = /^[\x21-\x7e]{1,253}$/;

/** The event id for an idempotency key: the key itself when it is a valid id, else a digest of it. */
export function eventIdFor(key: string, notice: Pick<PlanNotice, "plan" | "event">): string {
  if (EVENT_ID.test(key)) return key;
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 24);
  return `${notice.plan.kind}/${notice.plan.name}/${notice.event}/${digest}`.slice(0, 253);
}

/**
 * Plan, event, hosts and the plan's current cycle: the same notice within one cycle is sent once.
 * Outside a cycle (no cycle id yet) the notice's time takes its place, so each is its own event.
 */
export function defaultNoticeKey(notice: PlanNotice, plan: RefitObject | undefined, atMs: number): string {
  const status = (plan?.status ?? {}) as { cycle?: unknown; currentCycle?: unknown };
  const cycle = typeof status.cycle === "string" ? status.cycle : status.currentCycle;
  return [
    notice.plan.kind,
    notice.plan.name,
    notice.event,
    notice.hosts.join(",") || "-",
    typeof cycle === "string" && cycle !== "" ? cycle : `at-${new Date(atMs).toISOString()}`,
  ].join("/");
}

/**
 * Sends a plan's notices to the NotificationChannels its spec names, through the persistent outbox:
 * `notify` records the event (once per idempotency key) and returns; the background sender delivers
 * it and records each outcome on the channel's status. With `wait`, `notify` waits at most the plan's
 * `notifications.maxWait` for the delivery and reports how it stood. A failed channel is logged and
 * recorded, never thrown: notifying must not stop a patch.
 */
export class PlanNotifier implements Notifier {
  readonly outbox: Outbox;
  readonly sender: OutboxSender;
  private readonly store: ObjectStore;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(opts: PlanNotifierOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.log = opts.log;
    this.outbox = new Outbox(opts.stateDir, opts.log);
    this.sender = new OutboxSender({
      outbox: this.outbox,
      clock: opts.clock,
      transportClock: opts.transportClock ?? systemClock,
      log: opts.log,
      secrets: secretResolver({ baseDir: opts.baseDir }),
      channel: async (namespace, name) => {
        const ch = await this.store.get("NotificationChannel", namespace, name);
        return ch ? { name, spec: ch.spec } : undefined;
      },
      onFinished: async (namespace, result) => {
        const ch = await this.store.get("NotificationChannel", namespace, result.channel);
        if (!ch) return;
        ch.status = { ...(ch.status ?? {}), ...channelStatusAfter(ch.status, result) };
        await this.store.updateStatus(ch);
      },
      ...(opts.jitter === undefined ? {} : { jitter: opts.jitter }),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  start(): Promise<void> {
    return this.sender.start();
  }

  stop(): Promise<void> {
    return this.sender.stop();
  }

  async notify(notice: PlanNotice, options: NotifyOptions = {}): Promise<void> {
    await this.send(notice, options, false);
  }

  notifyAndWait(notice: PlanNotice, options: NotifyOptions = {}): Promise<NoticeReceipt | undefined> {
    return this.send(notice, options, true);
  }

  private async send(
    notice: PlanNotice,
    options: NotifyOptions,
    wait: boolean,
  ): Promise<NoticeReceipt | undefined> {
    try {
      const plan = await this.store.get(notice.plan.kind, notice.plan.namespace, notice.plan.name);
      if (!plan) return undefined;
      const now = this.clock.now();
      const key = options.key ?? defaultNoticeKey(notice, plan, now);
      const event: NotificationEvent = parseNotificationEvent({
        id: eventIdFor(key, notice),
        event: notice.event,
        severity: notice.severity,
        plan: { kind: notice.plan.kind, name: notice.plan.name },
        ...(notice.cluster ? { cluster: notice.cluster } : {}),
        hosts: notice.hosts,
        summary: notice.summary.replace(/[\r\n]+/g, " ").slice(0, 1000),
        ...(notice.details ? { details: notice.details } : {}),
        at: new Date(now).toISOString(),
      });
      this.log.info(
        { plan: notice.plan.name, event: notice.event, severity: notice.severity, hosts: notice.hosts },
        notice.summary,
      );
      const settings = plan.spec.notifications;
      const filter = {
        ...(settings.minSeverity ? { minSeverity: settings.minSeverity } : {}),
        ...(settings.events ? { events: settings.events } : {}),
      };
      const wanted: ChannelTarget[] = [];
      for (const ref of settings.channelRefs) {
        const ch = await this.store.get("NotificationChannel", notice.plan.namespace, ref.name);
        if (ch && channelWants(ch.spec, event, filter)) wanted.push({ name: ref.name, spec: ch.spec });
      }
      if (wanted.length === 0) return undefined;
      const entry: OutboxEntry = {
        version: 1,
        key,
        namespace: notice.plan.namespace,
        event,
        enqueuedAt: event.at,
        channels: wanted.map((c) => ({ name: c.name, state: "Pending", attempts: 0 })),
      };
      const inForce = await this.sender.enqueue(entry);
      const waitedMs = wait
        ? await this.sender.waitFor(key, parseDuration(settings.maxWait), options.signal)
        : 0;
      return {
        id: inForce.event.id,
        waitedMs,
        channels: inForce.channels.map((c) => ({
          name: c.name,
          state: c.state,
          attempts: c.attempts,
          ...(c.state !== "Delivered" && c.message !== undefined ? { message: c.message } : {}),
        })),
      };
    } catch (err) {
      this.log.warn(
        { plan: notice.plan.name, event: notice.event, err: errorMessage(err) },
        "notification not sent",
      );
      return undefined;
    }
  }
}
