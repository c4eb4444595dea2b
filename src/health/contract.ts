/**
 * Health probes (DESIGN.md: Baseline and Verifying of the guest update flow). A probe decides one
 * check's result from attempts made through `ProbeIo`, so the flow can run probes from the
 * controller (http, tcp) or inside the container (command, or http/tcp with `from: container`).
 */
import type { HealthCheck } from "../api/health-check.js";
import type { HealthResult } from "../api/guest-update.js";
import type { Clock } from "../clock.js";

export interface ProbeTarget {
  vmid: number;
  /** The container's address as seen from the controller (from its config or the simulator). */
  address?: string;
}

/** What a probe may do; the flow supplies SSH-backed and local implementations. */
export interface ProbeIo {
  clock: Clock;
  /** An HTTP request from the controller; real time timeout (like SSH). */
  http(req: {
    url: string;
    method: string;
    timeoutMs: number;
    headers?: Record<string, string>;
    /** false: accept any certificate for this request (the check's tlsVerify); default true. */
    tlsVerify?: boolean;
  }): Promise<{
    status: number;
    body: string;
    latencyMs: number;
  }>;
  /** A TCP connect from the controller. */
  tcp(req: { host: string; port: number; timeoutMs: number }): Promise<{ latencyMs: number }>;
  /** argv run inside the container (pct exec). */
  exec(argv: string[], timeoutMs: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** Runs one check with its warm-up, retries and backoff; never throws for an unhealthy target. */
export type RunProbe = (check: HealthCheck, target: ProbeTarget, io: ProbeIo) => Promise<HealthResult>;
