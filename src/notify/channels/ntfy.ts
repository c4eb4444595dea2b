import type { Severity } from "../../api/plan-common.js";
import type { NotificationChannelPlugin } from "../channel.js";
import { boundedBytes, plainBody, title } from "../format.js";
import { joinUrl, postWithRetries, secretUrl } from "../http.js";
import type { Secret } from "../../secrets/secret.js";

/** ntfy turns messages over 4,096 bytes into attachments; keep it a message. */
const NTFY_MESSAGE_BYTES = 4000;
/** ntfy priorities: 3 default, 4 high, 5 urgent. */
const PRIORITY: Record<Severity, string> = { info: "3", warning: "4", error: "5", critical: "5" };
/** Emoji short codes ntfy shows in front of the title. */
const TAG: Record<Severity, string> = {
  info: "information_source",
  warning: "warning",
  error: "rotating_light",
  critical: "sos",
};

/** ntfy: the message as the plain-text body POSTed to `<server>/<topic>`, metadata in headers. */
export const ntfyPlugin: NotificationChannelPlugin<"ntfy"> = {
  type: "ntfy",
  implemented: true,
  async deliver(event, spec, ctx) {
    const [topic, token] = await Promise.all([
      ctx.secrets(spec.topic),
      spec.token === undefined ? Promise.resolve(undefined) : ctx.secrets(spec.token),
    ]);
    const headers: Record<string, string> = {
      Title: title(event),
      Priority: PRIORITY[event.severity],
      Tags: `${TAG[event.severity]},${event.event}`,
    };
    if (token !== undefined) headers.Authorization = `Bearer ${token.reveal()}`;
    const secrets: Secret[] = token === undefined ? [topic] : [topic, token];
    return postWithRetries(
      "ntfy",
      {
        url: joinUrl(secretUrl(spec.server, "server", ctx.channel), encodeURIComponent(topic.reveal())),
        headers,
        contentType: "text/plain; charset=utf-8",
        body: boundedBytes(plainBody(event), NTFY_MESSAGE_BYTES),
        secrets,
      },
      spec,
      ctx,
    );
  },
};
