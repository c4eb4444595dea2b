import type { BackoffSpec } from "../api/health-check.js";
import { parseDuration } from "../api/primitives.js";

/**
 * How long to wait after the `failed`-th failed attempt (1-based) before the next one. Fixed waits
 * `interval` each time; exponential multiplies it by `factor` per failure, never beyond `max`.
 */
export function waitAfterFailure(check: { interval: string; backoff: BackoffSpec }, failed: number): number {
  const interval = parseDuration(check.interval);
  if (check.backoff.strategy === "fixed") return interval;
  const grown = interval * check.backoff.factor ** Math.max(0, failed - 1);
  return Math.min(grown, parseDuration(check.backoff.max));
}
