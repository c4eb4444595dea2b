import { TerminalError } from "../../errors.js";
import type { ChannelType, NotificationChannelPlugin } from "../channel.js";
import { NotifyReason } from "../reasons.js";

/**
 * A type the API accepts (so objects using it validate and keep working when it ships) but this
 * version does not deliver: every delivery fails terminally with a message saying so.
 */
export function notImplementedPlugin<T extends ChannelType>(
  type: T,
  delivered: readonly ChannelType[],
): NotificationChannelPlugin<T> {
  return {
    type,
    implemented: false,
    deliver(_event, _spec, ctx) {
      return Promise.reject(
        new TerminalError(
          NotifyReason.ChannelNotImplemented,
          `Notification channel ${ctx.channel} has type ${type}, which is accepted but not yet delivered by this version of Refit; use one of ${delivered.join(", ")}.`,
          { channel: ctx.channel, type, attempts: 0 },
        ),
      );
    },
  };
}
