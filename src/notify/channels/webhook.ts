import type { NotificationChannelPlugin } from "../channel.js";
import { postWithRetries, secretUrl } from "../http.js";
import type { Secret } from "../../secrets/secret.js";

/** The event itself, as JSON, POSTed to a URL; headers (e.g. Authorization) come from secrets. */
export const webhookPlugin: NotificationChannelPlugin<"webhook"> = {
  type: "webhook",
  implemented: true,
  async deliver(event, spec, ctx) {
    const [url, headerSecrets] = await Promise.all([
      ctx.secrets(spec.url),
      Promise.all(
        Object.entries(spec.headers ?? {}).map(async ([name, source]): Promise<[string, Secret]> => [
          name,
          await ctx.secrets(source),
        ]),
      ),
    ]);
    const headers: Record<string, string> = {};
    for (const [name, value] of headerSecrets) headers[name] = value.reveal();
    headers["x-refit-event"] = event.event;
    headers["x-refit-event-id"] = event.id;
    return postWithRetries(
      "webhook",
      {
        url: secretUrl(url, "url", ctx.channel),
        headers,
        contentType: "application/json",
        body: JSON.stringify(event),
        secrets: [url, ...headerSecrets.map(([, value]) => value)],
      },
      spec,
      ctx,
    );
  },
};
