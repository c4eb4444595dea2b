import type { NotificationChannelPlugin } from "../channel.js";
import { plainBody, title, truncate } from "../format.js";
import { postWithRetries, secretUrl } from "../http.js";

/** Slack's limit for `text` is 40,000 characters; stay well below it. */
const SLACK_TEXT_CHARS = 30_000;

/** Slack treats `&`, `<` and `>` as control characters in mrkdwn text. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Slack incoming webhook: `{"text": …}` in mrkdwn. */
export const slackPlugin: NotificationChannelPlugin<"slack"> = {
  type: "slack",
  implemented: true,
  async deliver(event, spec, ctx) {
    const url = await ctx.secrets(spec.webhookUrl);
    const text = truncate(
      `*${escapeMrkdwn(title(event))}*\n${escapeMrkdwn(plainBody(event))}`,
      SLACK_TEXT_CHARS,
    );
    return postWithRetries(
      "slack",
      {
        url: secretUrl(url, "webhookUrl", ctx.channel),
        headers: {},
        contentType: "application/json",
        body: JSON.stringify({ text }),
        secrets: [url],
      },
      spec,
      ctx,
    );
  },
};
