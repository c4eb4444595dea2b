export {
  SEARCH_YEARS,
  cronMatchesWall,
  nextOccurrence,
  parseCron,
  previousOccurrence,
  type CronSchedule,
} from "./cron.js";
export {
  MAX_MERGED_OCCURRENCES,
  MAX_OPEN_SPAN_MS,
  windowDurationMs,
  windowLabel,
  windowState,
  type WindowSpec,
  type WindowState,
} from "./window.js";
export {
  parseForce,
  scheduleGate,
  type Force,
  type GateInput,
  type GateReason,
  type GateResult,
} from "./gate.js";
export { MutexTable, type AcquireResult, type MutexEntry, type MutexTableOptions } from "./mutex.js";
export { afterGate, type AfterOther, type AfterPlan, type AfterReason, type AfterResult } from "./after.js";
export { jitterMs } from "./jitter.js";
export { formatDuration, formatInZone, formatInstant } from "./format.js";
export { assertTimeZone, instantOf, wallMs } from "./zone.js";
