import { z } from "zod";
import { TerminalError } from "../errors.js";
import { notificationEvent, planRef, severity, type Severity } from "../api/plan-common.js";

export type NotificationEventName = z.infer<typeof notificationEvent>;

/**
 * What a plan tells the channels. This object is also, unchanged, the JSON body of a `webhook`
 * delivery, so its fields are a public contract: add, never rename.
 */
export const notificationEventSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[\x21-\x7e]{1,253}$/, "must be 1-253 printable ASCII characters without spaces")
    .describe("Stable id of this occurrence; receivers dedupe retries by it (also sent as X-Refit-Event-Id)"),
  event: notificationEvent,
  severity,
  plan: planRef,
  cluster: z.string().min(1).optional(),
  hosts: z.array(z.string().min(1)).describe("Hosts or guests the event is about; may be empty"),
  summary: z
    .string()
    .min(1)
    .max(1000)
    .regex(/^[^\r\n]*$/, "must be one line")
    .describe("One line for humans"),
  details: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Facts behind the event: versions, ZFS summary, root usage, cluster status, packages, reason"),
  at: z.iso.datetime({ offset: true }).describe("When it happened, ISO 8601"),
});
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

/** The severity each event is sent with unless the controller has a reason to raise it. */
export const DEFAULT_EVENT_SEVERITY: Record<NotificationEventName, Severity> = {
  PlanStarted: "info",
  BeforeReboot: "info",
  TargetSucceeded: "info",
  TargetFailed: "error",
  RolledBack: "warning",
  PlanSucceeded: "info",
  PlanStalled: "error",
  Blocked: "warning",
};

/** Validates an event built by the controller; an invalid one is a bug, reported with its fields. */
export function parseNotificationEvent(input: unknown): NotificationEvent {
  const result = notificationEventSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(event)"}: ${i.message}`)
    .join("; ");
  throw new TerminalError("InvalidNotificationEvent", `Notification event is invalid: ${problems}.`);
}
