export type {
  ChannelSpec,
  ChannelType,
  DeliveryContext,
  DeliveryResult,
  NotificationChannelPlugin,
} from "./channel.js";
export {
  DEFAULT_EVENT_SEVERITY,
  notificationEventSchema,
  parseNotificationEvent,
  type NotificationEvent,
  type NotificationEventName,
} from "./event.js";
export { severityAllows } from "./severity.js";
export { NotifyReason } from "./reasons.js";
export {
  DELIVERED_CHANNEL_TYPES,
  channelPlugins,
  channelTypes,
  deliverTo,
  isDelivered,
  pluginFor,
} from "./registry.js";
export {
  channelStatusAfter,
  channelWants,
  deliverToChannel,
  notify,
  type ChannelDeliveryResult,
  type ChannelTarget,
  type DispatchContext,
  type DispatchOptions,
} from "./dispatcher.js";
