import { z } from "zod";
import { duration, objectName, objectRef } from "./primitives.js";

/** Kinds a plan can be ordered after. */
export const planKind = z.enum(["HostPatchPlan", "GuestUpdatePlan"]);
export type PlanKind = z.infer<typeof planKind>;

export const planRef = z.strictObject({ kind: planKind, name: objectName });
export type PlanRef = z.infer<typeof planRef>;

export const severity = z.enum(["info", "warning", "error", "critical"]);
export type Severity = z.infer<typeof severity>;

/** Events a plan can notify about. */
export const notificationEvent = z.enum([
  "PlanStarted",
  "BeforeReboot",
  "TargetSucceeded",
  "TargetFailed",
  "RolledBack",
  "PlanSucceeded",
  "PlanStalled",
  "Blocked",
]);

export const notificationsSpec = z.strictObject({
  channelRefs: z
    .array(objectRef)
    .default([])
    .describe("NotificationChannels that receive this plan's events"),
  minSeverity: severity.optional().describe("Overrides each channel's minimum severity for this plan"),
  events: z.array(notificationEvent).optional().describe("Events to send; default: the profile's events"),
  maxWait: duration
    .default("15s")
    .describe(
      "How long a step that notifies first (the reboot after BeforeReboot) waits for delivery; then it goes on and the notice stays in the outbox until delivered",
    ),
});
export type NotificationsSpec = z.infer<typeof notificationsSpec>;

/**
 * When a plan may act: windows, blackouts, a named mutex, ordering and suspension. Evaluated by the
 * runtime, identical for every plan kind.
 */
export const schedulingShape = {
  windowRefs: z
    .array(objectRef)
    .default([])
    .describe("MaintenanceWindows in which disruptive steps may run; empty means any time"),
  blackoutRefs: z
    .array(objectRef)
    .default([])
    .describe("MaintenanceWindows during which nothing disruptive runs, even inside a window"),
  mutex: objectName.optional().describe("Plans sharing a mutex name never act at the same time"),
  after: z.array(planRef).default([]).describe("Plans that must finish their cycle before this one starts"),
  suspend: z.boolean().default(false).describe("No new step starts while true; a step in flight finishes"),
  notifications: notificationsSpec.prefault({}),
};

/** How many targets act at once, with random start jitter so that fleets do not move in lock step. */
export const concurrencySpec = z.strictObject({
  maxParallel: z.number().int().min(1).default(1),
  jitter: duration.default("0s").describe("Random delay before each target starts, up to this much"),
  maxFailures: z.number().int().min(0).default(0).describe("Failed targets tolerated before the plan stalls"),
});

/** How one channel's delivery of a notice stood when the step that sent it went on. */
export const noticeChannelState = z.strictObject({
  name: z.string().describe("The NotificationChannel"),
  state: z
    .enum(["Delivered", "Pending", "Failed"])
    .describe("Pending: still owed, delivered in the background"),
  attempts: z.number().int().min(0),
  message: z.string().optional().describe("The last failed attempt, naming the channel, never its URL"),
});

/** A notice a step waited for (at most the plan's `notifications.maxWait`) before it went on. */
export const noticeRecord = z.strictObject({
  event: notificationEvent,
  id: z.string().describe("The event's id: its idempotency key in the outbox, sent as X-Refit-Event-Id"),
  at: z.string().describe("When the step stopped waiting for it"),
  waitedMs: z.number().int().min(0),
  channels: z.array(noticeChannelState),
});
export type NoticeRecord = z.infer<typeof noticeRecord>;
