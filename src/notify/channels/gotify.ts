import type { Severity } from "../../api/plan-common.js";
import type { NotificationChannelPlugin } from "../channel.js";
import { plainBody, title } from "../format.js";
import { joinUrl, postWithRetries, secretUrl } from "../http.js";

/** Gotify clients: 8+ pops up, 4-7 notifies with sound, below is quiet. */
const PRIORITY: Record<Severity, number> = { info: 4, warning: 6, error: 8, critical: 10 };

/**
 * Gotify: `POST <url>/message` with `{title, message, priority}`. The application token goes in the
 * X-Gotify-Key header rather than `?token=`, so it stays out of proxy access logs.
 */
export const gotifyPlugin: NotificationChannelPlugin<"gotify"> = {
  type: "gotify",
  implemented: true,
  async deliver(event, spec, ctx) {
    const [url, token] = await Promise.all([ctx.secrets(spec.url), ctx.secrets(spec.token)]);
    return postWithRetries(
      "gotify",
      {
        url: joinUrl(secretUrl(url, "url", ctx.channel), "message"),
        headers: { "X-Gotify-Key": token.reveal() },
        contentType: "application/json",
        body: JSON.stringify({
          title: title(event),
          message: plainBody(event),
          priority: PRIORITY[event.severity],
        }),
        secrets: [url, token],
      },
      spec,
      ctx,
    );
  },
};
