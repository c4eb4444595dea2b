import { z } from "zod";
import { baseStatusShape, kindSchema } from "./meta.js";
import { severity } from "./plan-common.js";
import { duration, secretSource } from "./primitives.js";

/** Fields every channel type shares. */
const common = {
  minSeverity: severity.default("info").describe("Events below this severity are not sent"),
  timeout: duration.default("10s").describe("Timeout of one delivery attempt"),
  retries: z.number().int().min(0).max(20).default(5).describe("Further attempts after a failed delivery"),
  retryBackoff: duration.default("5s").describe("First retry delay; doubles on each retry"),
};

const webhook = z.strictObject({
  type: z.literal("webhook"),
  ...common,
  url: secretSource.describe("URL the JSON event is POSTed to (a secret: it often embeds a token)"),
  headers: z
    .record(z.string().min(1), secretSource)
    .optional()
    .describe("Extra headers, values from secrets"),
});
const slack = z.strictObject({ type: z.literal("slack"), ...common, webhookUrl: secretSource });
const discord = z.strictObject({ type: z.literal("discord"), ...common, webhookUrl: secretSource });
const teams = z.strictObject({ type: z.literal("teams"), ...common, webhookUrl: secretSource });
const telegram = z.strictObject({
  type: z.literal("telegram"),
  ...common,
  botToken: secretSource,
  chatId: z
    .union([z.string().min(1), z.number().int()])
    .describe("Chat, group or channel id (channel ids are negative numbers such as -1001234567890)"),
});
const email = z.strictObject({
  type: z.literal("email"),
  ...common,
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    security: z.enum(["starttls", "tls", "none"]).default("starttls"),
    username: z.string().optional(),
    password: secretSource.optional(),
  }),
  from: z.string().regex(/^[^@\s]+@[^@\s]+$/, "must be an email address"),
  to: z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, "must be an email address")).min(1),
});
const ntfy = z.strictObject({
  type: z.literal("ntfy"),
  ...common,
  server: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("https://ntfy.sh"),
  topic: secretSource.describe("The topic name; anyone who knows it can read it, so it is a secret"),
  token: secretSource.optional(),
});
const gotify = z.strictObject({
  type: z.literal("gotify"),
  ...common,
  url: secretSource.describe("Gotify server URL"),
  token: secretSource.describe("Application token"),
});

export const notificationChannelTypes = [
  "webhook",
  "slack",
  "discord",
  "teams",
  "telegram",
  "email",
  "ntfy",
  "gotify",
] as const;

export const notificationChannelSpec = z.discriminatedUnion("type", [
  webhook,
  slack,
  discord,
  teams,
  telegram,
  email,
  ntfy,
  gotify,
]);
export type NotificationChannelSpec = z.infer<typeof notificationChannelSpec>;
export type NotificationChannelType = NotificationChannelSpec["type"];

export const notificationChannelStatus = z.strictObject({
  ...baseStatusShape,
  lastDelivery: z
    .strictObject({ at: z.string(), event: z.string(), ok: z.boolean(), message: z.string().optional() })
    .optional(),
  failures: z.number().int().min(0).optional().describe("Failed deliveries since the last success"),
});

export const notificationChannel = kindSchema(
  "NotificationChannel",
  notificationChannelSpec,
  notificationChannelStatus,
);
export type NotificationChannel = z.infer<typeof notificationChannel>;
