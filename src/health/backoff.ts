import type { BackoffSpec } from "../api/health-check.js";
import { parseDuration } from "../api/primitives.js";
import { LATENCY_SAMPLES } from "./latency.js";

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

/**
 * The longest one runProbe of this check can take (warm-up, every attempt at its timeout, every
 * wait), so the flow can tell whether a phase's time limit leaves room for it.
 */
export function probeBudgetMs(check: {
  warmUp: string;
  timeout: string;
  interval: string;
  retries: number;
  backoff: BackoffSpec;
  latencySLO?: string | undefined;
}): number {
  const perAttempt = parseDuration(check.timeout) * (check.latencySLO === undefined ? 1 : LATENCY_SAMPLES);
  let total = parseDuration(check.warmUp) + perAttempt * (check.retries + 1);
  for (let n = 1; n <= check.retries; n++) total += waitAfterFailure(check, n);
  return total;
}
