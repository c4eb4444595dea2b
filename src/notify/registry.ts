import { notificationChannelTypes } from "../api/notification-channel.js";
import type {
  ChannelSpec,
  ChannelType,
  DeliveryContext,
  DeliveryResult,
  NotificationChannelPlugin,
} from "./channel.js";
import type { NotificationEvent } from "./event.js";
import { discordPlugin } from "./channels/discord.js";
import { gotifyPlugin } from "./channels/gotify.js";
import { notImplementedPlugin } from "./channels/not-implemented.js";
import { ntfyPlugin } from "./channels/ntfy.js";
import { slackPlugin } from "./channels/slack.js";
import { teamsPlugin } from "./channels/teams.js";
import { webhookPlugin } from "./channels/webhook.js";

/** Types this version delivers; the rest are accepted by the API and fail with ChannelNotImplemented. */
export const DELIVERED_CHANNEL_TYPES = [
  "webhook",
  "slack",
  "discord",
  "teams",
  "ntfy",
  "gotify",
] as const satisfies readonly ChannelType[];

export type ChannelPlugins = { readonly [T in ChannelType]: NotificationChannelPlugin<T> };

/**
 * Every channel type's plugin, in one explicit map: the mapped type makes a missing type a compile
 * error, and the contract test checks that each plugin's `type` matches its key.
 */
export const channelPlugins: ChannelPlugins = {
  webhook: webhookPlugin,
  slack: slackPlugin,
  discord: discordPlugin,
  teams: teamsPlugin,
  telegram: notImplementedPlugin("telegram", DELIVERED_CHANNEL_TYPES),
  email: notImplementedPlugin("email", DELIVERED_CHANNEL_TYPES),
  ntfy: ntfyPlugin,
  gotify: gotifyPlugin,
};

export function pluginFor<T extends ChannelType>(type: T): NotificationChannelPlugin<T> {
  return channelPlugins[type];
}

/** Delivers with the plugin of the spec's own type; the generic keeps type and spec paired. */
export function deliverTo<T extends ChannelType>(
  event: NotificationEvent,
  spec: ChannelSpec<T> & { type: T },
  ctx: DeliveryContext,
): Promise<DeliveryResult> {
  return channelPlugins[spec.type].deliver(event, spec, ctx);
}

/** Whether this version delivers `type` (for `refit validate` warnings and docs). */
export function isDelivered(type: ChannelType): boolean {
  return channelPlugins[type].implemented;
}

/** The API's channel types, in its order; for the contract test and listings. */
export const channelTypes: readonly ChannelType[] = notificationChannelTypes;
