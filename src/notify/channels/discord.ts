import type { NotificationChannelPlugin } from "../channel.js";
import { plainBody, title, truncate } from "../format.js";
import { postWithRetries, secretUrl } from "../http.js";

/** Discord rejects `content` longer than 2,000 characters. */
const DISCORD_CONTENT_CHARS = 2000;

/** Discord webhook: `{"content": …}` in Discord markdown, with mentions disabled. */
export const discordPlugin: NotificationChannelPlugin<"discord"> = {
  type: "discord",
  implemented: true,
  async deliver(event, spec, ctx) {
    const url = await ctx.secrets(spec.webhookUrl);
    const content = truncate(`**${title(event)}**\n${plainBody(event)}`, DISCORD_CONTENT_CHARS);
    return postWithRetries(
      "discord",
      {
        url: secretUrl(url, "webhookUrl", ctx.channel),
        headers: {},
        contentType: "application/json",
        // Host names or summaries containing "@everyone" must not ping a whole server.
        body: JSON.stringify({ content, username: "Refit", allowed_mentions: { parse: [] } }),
        secrets: [url],
      },
      spec,
      ctx,
    );
  },
};
