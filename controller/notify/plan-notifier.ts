import { createHash } from "node:crypto";
import type { Clock } from "../../src/clock.js";
import { channelStatusAfter, notify, type ChannelTarget } from "../../src/notify/dispatcher.js";
import { secretResolver } from "../../src/secrets/index.js";
import type { Notifier, PlanNotice } from "../context.js";
import type { Logger } from "../../src/log/logger.js";
import type { ObjectStore } from "../runtime/store.js";

/**
 * Sends a plan's notices to the NotificationChannels its spec names and records each delivery on the
 * channel's status. A failed channel is logged and recorded, never thrown: notifying must not stop
 * a patch.
 */
export class PlanNotifier implements Notifier {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly baseDir: string,
    private readonly fetchImpl?: typeof fetch,
  ) {}

  async notify(notice: PlanNotice): Promise<void> {
    const plan = await this.store.get(notice.plan.kind, notice.plan.namespace, notice.plan.name);
    if (!plan) return;
    const channels: ChannelTarget[] = [];
    for (const ref of plan.spec.notifications.channelRefs) {
      const ch = await this.store.get("NotificationChannel", notice.plan.namespace, ref.name);
      if (ch) channels.push({ name: ref.name, spec: ch.spec });
    }
    const at = new Date(this.clock.now()).toISOString();
    const id = createHash("sha256")
      .update(`${notice.plan.kind}/${notice.plan.name}/${notice.event}/${notice.hosts.join(",")}/${at}`)
      .digest("hex")
      .slice(0, 24);
    this.log.info(
      { plan: notice.plan.name, event: notice.event, severity: notice.severity, hosts: notice.hosts },
      notice.summary,
    );
    if (channels.length === 0) return;
    try {
      const results = await notify(
        {
          id,
          event: notice.event,
          severity: notice.severity,
          plan: { kind: notice.plan.kind, name: notice.plan.name },
          ...(notice.cluster ? { cluster: notice.cluster } : {}),
          hosts: notice.hosts,
          summary: notice.summary.replace(/[\r\n]+/g, " ").slice(0, 1000),
          ...(notice.details ? { details: notice.details } : {}),
          at,
        },
        channels,
        {
          secrets: secretResolver({ baseDir: this.baseDir }),
          clock: this.clock,
          ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
        },
        {
          ...(plan.spec.notifications.minSeverity
            ? { minSeverity: plan.spec.notifications.minSeverity }
            : {}),
          ...(plan.spec.notifications.events ? { events: plan.spec.notifications.events } : {}),
        },
      );
      for (const r of results) {
        if (!r.ok)
          this.log.warn(
            { channel: r.channel, event: r.event, reason: r.reason },
            r.error ?? "delivery failed",
          );
        const ch = await this.store.get("NotificationChannel", notice.plan.namespace, r.channel);
        if (!ch) continue;
        ch.status = { ...(ch.status ?? {}), ...channelStatusAfter(ch.status, r) };
        await this.store
          .updateStatus(ch)
          .catch((err: unknown) =>
            this.log.warn({ channel: r.channel, err: String(err) }, "channel status not recorded"),
          );
      }
    } catch (err) {
      this.log.warn(
        { plan: notice.plan.name, event: notice.event, err: String(err) },
        "notification not sent",
      );
    }
  }
}
