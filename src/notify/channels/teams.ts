import type { Severity } from "../../api/plan-common.js";
import type { NotificationChannelPlugin } from "../channel.js";
import type { NotificationEvent } from "../event.js";
import { facts, title } from "../format.js";
import { postWithRetries, secretUrl } from "../http.js";

const COLOR: Record<Severity, string> = {
  info: "Default",
  warning: "Warning",
  error: "Attention",
  critical: "Attention",
};

/**
 * An Adaptive Card in a message envelope: what Teams Workflows ("Post to a channel when a webhook
 * request is received") accepts; the retired Office 365 connectors took MessageCards instead.
 */
export function adaptiveCardMessage(event: NotificationEvent): object {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            {
              type: "TextBlock",
              text: title(event),
              weight: "Bolder",
              size: "Medium",
              color: COLOR[event.severity],
              wrap: true,
            },
            { type: "TextBlock", text: event.summary, wrap: true },
            {
              type: "FactSet",
              facts: facts(event).map(([label, value]) => ({ title: label, value })),
            },
          ],
        },
      },
    ],
  };
}

/** Microsoft Teams via a Workflows webhook URL. */
export const teamsPlugin: NotificationChannelPlugin<"teams"> = {
  type: "teams",
  implemented: true,
  async deliver(event, spec, ctx) {
    const url = await ctx.secrets(spec.webhookUrl);
    return postWithRetries(
      "teams",
      {
        url: secretUrl(url, "webhookUrl", ctx.channel),
        headers: {},
        contentType: "application/json",
        body: JSON.stringify(adaptiveCardMessage(event)),
        secrets: [url],
      },
      spec,
      ctx,
    );
  },
};
