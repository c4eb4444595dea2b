/**
 * runProbe: one check's verdict from warm-up, attempts, retries with backoff and, with a latency
 * SLO, the p95 over several requests. All waiting goes through io.clock; it never throws for an
 * unhealthy target (an unexpected error is an unhealthy result that says so).
 */
import type { HealthCheck } from "../api/health-check.js";
import type { HealthResult } from "../api/guest-update.js";
import { parseDuration } from "../api/primitives.js";
import { describeError, failed, type Attempt } from "./attempt-result.js";
import { attempt } from "./attempts.js";
import { waitAfterFailure } from "./backoff.js";
import type { ProbeIo, ProbeTarget, RunProbe } from "./contract.js";
import { LATENCY_SAMPLES, p95 } from "./latency.js";

export const runProbe: RunProbe = async (check, target, io) => {
  try {
    await io.clock.sleep(parseDuration(check.warmUp));
    return await attemptsWithRetries(check, target, io);
  } catch (e) {
    return result(
      check,
      io,
      0,
      failed(`${check.type} check ${check.name} on CT ${target.vmid} could not run: ${describeError(e)}`),
    );
  }
};

async function attemptsWithRetries(
  check: HealthCheck,
  target: ProbeTarget,
  io: ProbeIo,
): Promise<HealthResult> {
  const allowed = check.retries + 1;
  let last: Attempt = failed("no attempt made");
  for (let n = 1; n <= allowed; n++) {
    last = await round(check, target, io);
    if (last.ok) return result(check, io, n, last);
    if (n < allowed) await io.clock.sleep(waitAfterFailure(check, n));
  }
  return result(check, io, allowed, {
    ...last,
    message: `${last.message ?? "failed"} (${allowed} attempt${allowed === 1 ? "" : "s"})`,
  });
}

/**
 * One attempt; with a latency SLO a round of LATENCY_SAMPLES requests whose p95 must be within it.
 * Every request of the round must pass, so a slow-but-correct service and a flapping one both fail.
 */
async function round(check: HealthCheck, target: ProbeTarget, io: ProbeIo): Promise<Attempt> {
  const first = await attempt(check, target, io);
  if (!first.ok || check.latencySLO === undefined) return first;
  const latencies = [first.latencyMs ?? 0];
  for (let i = 1; i < LATENCY_SAMPLES; i++) {
    const next = await attempt(check, target, io);
    if (!next.ok) return next;
    latencies.push(next.latencyMs ?? 0);
  }
  const observed = p95(latencies);
  const slo = parseDuration(check.latencySLO);
  if (observed > slo)
    return failed(
      `${check.type} check ${check.name} on CT ${target.vmid}: p95 latency ${observed} ms over ${latencies.length} requests is above the SLO of ${slo} ms`,
      observed,
    );
  return { ok: true, latencyMs: observed };
}

function result(check: HealthCheck, io: ProbeIo, attempts: number, a: Attempt): HealthResult {
  return {
    name: check.name,
    type: check.type,
    healthy: a.ok,
    ...(a.latencyMs !== undefined ? { latencyMs: a.latencyMs } : {}),
    attempts,
    ...(a.ok || a.message === undefined ? {} : { message: a.message }),
    at: new Date(io.clock.now()).toISOString(),
  };
}
