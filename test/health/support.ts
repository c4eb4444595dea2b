/** Test helpers for the health probes: a clock that records its waits, real local servers, a local exec. */
import { execFile } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { ScaledClock, type Clock } from "../../src/clock.js";
import { healthCheck, type HealthCheck } from "../../src/api/health-check.js";
import type { ProbeIo } from "../../src/health/contract.js";
import { controllerProbeIo } from "../../src/health/local-io.js";

/** A fast clock (1 s = 1 ms real) that records every wait asked of it, in clock ms. */
export class RecordingClock implements Clock {
  readonly sleeps: number[] = [];
  private readonly inner = new ScaledClock(1000);
  now(): number {
    return this.inner.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return this.inner.sleep(ms, signal);
  }
}

export function check(input: Record<string, unknown>): HealthCheck {
  return healthCheck.parse({ name: "app", ...input });
}

/** A real HTTP server whose answer the test changes ("the update broke it"). */
export interface TestServer {
  port: number;
  url(path?: string): string;
  /** Status, body and delay of the next answers. */
  answer: { status: number; body: string; delayMs: number; hang: boolean };
  /** Answers queued ahead of `answer`, used once each (a service that recovers). */
  queue: { status: number; body?: string }[];
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function httpServer(): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const state: TestServer = {
    port: 0,
    url: (path = "/healthz") => `http://127.0.0.1:${state.port}${path}`,
    answer: { status: 200, body: "ok\n", delayMs: 0, hang: false },
    queue: [],
    requests: [],
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    state.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (state.answer.hang) return;
    const next = state.queue.shift() ?? state.answer;
    setTimeout(() => {
      res.writeHead(next.status, { "content-type": "text/plain" });
      res.end(req.method === "HEAD" ? undefined : (next.body ?? state.answer.body));
    }, state.answer.delayMs);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

/** A port on which nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Runs argv on this machine, as pct exec runs it in the container: no shell of ours in between. */
export function localExec(opts: { missing?: string[] } = {}): ProbeIo["exec"] & { calls: string[][] } {
  const calls: string[][] = [];
  const exec = (argv: string[], timeoutMs: number) => {
    calls.push(argv);
    if (opts.missing?.includes(argv[0] ?? ""))
      return Promise.resolve({ exitCode: 127, stdout: "", stderr: `sh: 1: ${argv[0]}: not found\n` });
    return new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
      execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ exitCode: code, stdout, stderr });
      });
    });
  };
  return Object.assign(exec, { calls });
}

export function io(clock: Clock, exec: ProbeIo["exec"] = localExec()): ProbeIo {
  return controllerProbeIo(clock, exec);
}
