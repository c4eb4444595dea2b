import { z } from "zod";
import { baseStatusShape, kindSchema } from "./meta.js";
import { cron, duration, timeZone } from "./primitives.js";

/** A recurring window: opens at each `schedule` time in `timeZone` and stays open for `duration`. */
export const maintenanceWindowSpec = z.strictObject({
  schedule: cron.describe("When the window opens: 5-field cron in timeZone, e.g. '0 1 * * 6'"),
  duration: duration.describe("How long the window stays open, e.g. 4h"),
  timeZone: timeZone.default("UTC").describe("IANA time zone of the schedule; DST is honoured"),
  description: z.string().max(1024).optional(),
});
export type MaintenanceWindowSpec = z.infer<typeof maintenanceWindowSpec>;

export const maintenanceWindowStatus = z.strictObject({
  ...baseStatusShape,
  open: z.boolean().optional(),
  nextOpen: z.string().optional(),
  nextClose: z.string().optional(),
});

export const maintenanceWindow = kindSchema(
  "MaintenanceWindow",
  maintenanceWindowSpec,
  maintenanceWindowStatus,
);
export type MaintenanceWindow = z.infer<typeof maintenanceWindow>;
