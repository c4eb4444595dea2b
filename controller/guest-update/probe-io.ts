/**
 * What health probes may do, backed by the controller's network (http, tcp) and by `pct exec` on
 * the container's node (command checks). Every call has a timeout; none of them throws for an
 * unhealthy answer except a refused or timed-out connection, which the probe counts as a failure.
 */
import net from "node:net";
import type { Clock } from "../../src/clock.js";
import { pctExecArgv } from "../../src/pve/index.js";
import type { ProbeIo } from "../../src/health/contract.js";
import type { HostExec } from "../../src/ssh/index.js";

export function probeIo(clock: Clock, node: HostExec, vmid: number): ProbeIo {
  return {
    clock,
    async http(req) {
      const started = performance.now();
      const res = await fetch(req.url, {
        method: req.method,
        ...(req.headers ? { headers: req.headers } : {}),
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      const body = await res.text();
      return { status: res.status, body, latencyMs: performance.now() - started };
    },
    tcp(req) {
      return new Promise((resolve, reject) => {
        const started = performance.now();
        const socket = net.connect({ host: req.host, port: req.port });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`connect to ${req.host}:${req.port} timed out after ${req.timeoutMs} ms`));
        }, req.timeoutMs);
        socket.once("connect", () => {
          clearTimeout(timer);
          socket.destroy();
          resolve({ latencyMs: performance.now() - started });
        });
        socket.once("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    },
    async exec(argv, timeoutMs) {
      const r = await node.exec(pctExecArgv(vmid, argv), { timeoutMs });
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
