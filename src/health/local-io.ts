/**
 * The controller side of ProbeIo: HTTP(S) requests and TCP connects from Refit's own host with
 * node:http and node:net. Timeouts are real time (like SSH's); latency is measured in real time.
 * exec is supplied by the caller (pct exec over SSH, or a test's stand-in).
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Clock } from "../clock.js";
import type { ProbeIo } from "./contract.js";

/** Bytes of a response body kept for matching; health endpoints answer small bodies. */
export const BODY_MAX = 64 * 1024;

export function controllerProbeIo(clock: Clock, exec: ProbeIo["exec"]): ProbeIo {
  return { clock, http: httpRequest, tcp: tcpConnect, exec };
}

export const httpRequest: ProbeIo["http"] = (req) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const url = new URL(req.url);
    const lib = url.protocol === "https:" ? https : http;
    const r = lib.request(
      url,
      {
        method: req.method,
        headers: req.headers ?? {},
        ...(url.protocol === "https:" ? { rejectUnauthorized: req.tlsVerify !== false } : {}),
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < BODY_MAX) body += chunk.slice(0, BODY_MAX - body.length);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body, latencyMs: Math.round(performance.now() - started) }),
        );
        res.on("error", reject);
      },
    );
    // A total bound, not an idle one: a server that trickles bytes must not hold the probe.
    const timer = setTimeout(
      () => r.destroy(new Error(`no answer within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    r.on("close", () => clearTimeout(timer));
    r.on("error", reject);
    r.end();
  });

export const tcpConnect: ProbeIo["tcp"] = (req) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const s = net.connect({ host: req.host, port: req.port });
    s.setTimeout(req.timeoutMs, () => s.destroy(new Error(`no connection within ${req.timeoutMs} ms`)));
    s.once("connect", () => {
      s.destroy();
      resolve({ latencyMs: Math.round(performance.now() - started) });
    });
    s.once("error", reject);
  });
