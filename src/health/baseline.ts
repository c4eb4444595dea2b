/**
 * The baseline: the checks taken before the update, several samples each. A check that already
 * failed before the update is "pre-existing" afterwards and does not trigger a rollback (unless the
 * check opts out with compareWithBaseline: false).
 */
import type { HealthCheck } from "../api/health-check.js";
import type { HealthResult } from "../api/guest-update.js";
import { parseDuration } from "../api/primitives.js";
import type { ProbeIo, ProbeTarget, RunProbe } from "./contract.js";
import { runProbe } from "./probe.js";

export const BASELINE_SAMPLES = 3;

/**
 * A check's baseline: `samples` probes `interval` apart, without warm-up (nothing was changed).
 * Healthy only if every sample was, so a flapping check counts as failing before the update.
 */
export async function baselineProbe(
  check: HealthCheck,
  target: ProbeTarget,
  io: ProbeIo,
  samples = BASELINE_SAMPLES,
  probe: RunProbe = runProbe,
): Promise<HealthResult> {
  const cold: HealthCheck = { ...check, warmUp: "0s" };
  const results: HealthResult[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await io.clock.sleep(parseDuration(check.interval));
    results.push(await probe(cold, target, io));
  }
  const bad = results.filter((r) => !r.healthy);
  const latencies = results.map((r) => r.latencyMs).filter((l): l is number => l !== undefined);
  const last = results[results.length - 1];
  return {
    name: check.name,
    type: check.type,
    healthy: bad.length === 0,
    ...(latencies.length > 0 ? { latencyMs: Math.max(...latencies) } : {}),
    attempts: results.reduce((s, r) => s + (r.attempts ?? 0), 0),
    ...(bad.length > 0
      ? { message: `${bad.length} of ${samples} baseline samples failed: ${bad[0]?.message ?? "unhealthy"}` }
      : {}),
    at: last?.at ?? new Date(io.clock.now()).toISOString(),
  };
}

/** Every check's baseline, the checks in parallel (each one's samples in sequence). */
export function baselineAll(
  checks: readonly HealthCheck[],
  target: ProbeTarget,
  io: ProbeIo,
  samples = BASELINE_SAMPLES,
): Promise<HealthResult[]> {
  return Promise.all(checks.map((c) => baselineProbe(c, target, io, samples)));
}

/** Every check once (warm-up, retries and backoff included), in parallel: Verifying and VerifyingRollback. */
export function probeAll(
  checks: readonly HealthCheck[],
  target: ProbeTarget,
  io: ProbeIo,
  probe: RunProbe = runProbe,
): Promise<HealthResult[]> {
  return Promise.all(checks.map((c) => probe(c, target, io)));
}

/** healthy; failed (counts toward rollback); preExisting (failed before too, does not count). */
export type CheckVerdict = "healthy" | "failed" | "preExisting";

export interface BaselineComparison {
  verdicts: { name: string; verdict: CheckVerdict; message?: string }[];
  /** Checks that fail now and did not before: these trigger the rollback policy. */
  failed: string[];
  /** Checks that fail now and failed already before the update. */
  preExisting: string[];
  /** No check failed because of the update. */
  healthy: boolean;
  /** For status and notifications. */
  summary: string;
}

/**
 * Pure: what the results after the update mean given the baseline. A check without a baseline
 * result, or with compareWithBaseline false, fails the update whenever it fails; a check in the
 * baseline that has no result after counts as failed (it was not verified).
 */
export function compareWithBaseline(
  baseline: readonly HealthResult[],
  after: readonly HealthResult[],
  checks: readonly Pick<HealthCheck, "name" | "compareWithBaseline">[] = [],
): BaselineComparison {
  const before = new Map(baseline.map((r) => [r.name, r]));
  const optOut = new Set(checks.filter((c) => !c.compareWithBaseline).map((c) => c.name));
  const verdicts: BaselineComparison["verdicts"] = after.map((r) => {
    if (r.healthy) return { name: r.name, verdict: "healthy" };
    const failedBefore = before.get(r.name)?.healthy === false && !optOut.has(r.name);
    return {
      name: r.name,
      verdict: failedBefore ? "preExisting" : "failed",
      ...(r.message ? { message: r.message } : {}),
    };
  });
  const seen = new Set(after.map((r) => r.name));
  for (const b of baseline)
    if (!seen.has(b.name))
      verdicts.push({
        name: b.name,
        verdict: "failed",
        message: `check ${b.name} was not probed after the update`,
      });
  const failed = verdicts.filter((v) => v.verdict === "failed").map((v) => v.name);
  const preExisting = verdicts.filter((v) => v.verdict === "preExisting").map((v) => v.name);
  return {
    verdicts,
    failed,
    preExisting,
    healthy: failed.length === 0,
    summary: summarize(verdicts.length, failed, preExisting),
  };
}

function summarize(total: number, failed: string[], preExisting: string[]): string {
  const parts: string[] = [];
  if (failed.length > 0) parts.push(`failing since the update: ${failed.join(", ")}`);
  if (preExisting.length > 0)
    parts.push(`failing already before the update (pre-existing, no rollback): ${preExisting.join(", ")}`);
  if (parts.length === 0) return `all ${total} health checks pass`;
  return parts.join("; ");
}
