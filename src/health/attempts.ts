/**
 * One attempt of each check type, through ProbeIo. An attempt never throws: a refused connection,
 * a timeout or a failed exec is a failed attempt with a message saying what happened to what.
 */
import type {
  CommandHealthCheck,
  HealthCheck,
  HttpHealthCheck,
  TcpHealthCheck,
} from "../api/health-check.js";
import { parseDuration } from "../api/primitives.js";
import { describeError, failed, passed, type Attempt } from "./attempt-result.js";
import type { ProbeIo, ProbeTarget } from "./contract.js";
import { CONTAINER_LOOPBACK, httpUrl, judgeResponse } from "./http-check.js";
import {
  commandMissing,
  curlArgv,
  parseCurl,
  parseWgetStatus,
  tcpConnectArgv,
  wgetArgv,
} from "./in-container.js";

/** Extra real time an exec inside the container may take beyond the probe's own timeout (pct exec, SSH). */
const EXEC_OVERHEAD_MS = 10_000;

export function attempt(check: HealthCheck, target: ProbeTarget, io: ProbeIo): Promise<Attempt> {
  const run = (): Promise<Attempt> => {
    switch (check.type) {
      case "http":
        return check.from === "container"
          ? httpInContainer(check, target, io)
          : httpFromController(check, target, io);
      case "tcp":
        return check.from === "container"
          ? tcpInContainer(check, target, io)
          : tcpFromController(check, target, io);
      case "command":
        return command(check, target, io);
    }
  };
  return run().catch((e: unknown) =>
    failed(`${check.type} check ${check.name} on CT ${target.vmid}: ${describeError(e)}`),
  );
}

function noAddress(target: ProbeTarget, what: string): Attempt {
  return failed(
    `the controller knows no address for CT ${target.vmid}, so it cannot probe ${what}; ` +
      "give the check a url/host, or set from: container",
  );
}

async function httpFromController(
  check: HttpHealthCheck,
  target: ProbeTarget,
  io: ProbeIo,
): Promise<Attempt> {
  const url = httpUrl(check, target.address);
  if (url === undefined) return noAddress(target, `port ${check.port ?? 80}`);
  try {
    const res = await io.http({
      url,
      method: check.method,
      timeoutMs: parseDuration(check.timeout),
      headers: check.headers,
      tlsVerify: check.tlsVerify,
    });
    return judgeResponse(check, url, res);
  } catch (e) {
    return failed(`${check.method} ${url} from the controller failed: ${describeError(e)}`);
  }
}

async function httpInContainer(check: HttpHealthCheck, target: ProbeTarget, io: ProbeIo): Promise<Attempt> {
  const url = httpUrl(check, CONTAINER_LOOPBACK)!;
  const timeoutMs = parseDuration(check.timeout);
  const where = `inside CT ${target.vmid}`;
  const curl = await io.exec(curlArgv(check, url, timeoutMs), timeoutMs + EXEC_OVERHEAD_MS);
  if (!commandMissing(curl, "curl")) {
    const res = parseCurl(curl.stdout);
    if (res === undefined)
      return failed(
        `${check.method} ${url} ${where} got no response: ${lastLine(curl.stderr) || `curl exit ${curl.exitCode}`}`,
      );
    return judgeResponse(check, url, res);
  }
  const argv = wgetArgv(check, url, timeoutMs);
  if (argv === undefined)
    return failed(
      `${check.method} ${url} ${where}: curl is not installed and wget can only GET; install curl in the container`,
    );
  const started = performance.now();
  const wget = await io.exec(argv, timeoutMs + EXEC_OVERHEAD_MS);
  const latencyMs = Math.round(performance.now() - started);
  if (commandMissing(wget, "wget"))
    return failed(
      `${check.method} ${url} ${where}: neither curl nor wget is installed; install one, or probe from the controller`,
    );
  const status = parseWgetStatus(wget.stderr);
  if (status === undefined)
    return failed(
      `${check.method} ${url} ${where} got no response: ${lastLine(wget.stderr) || `wget exit ${wget.exitCode}`}`,
    );
  return judgeResponse(check, url, { status, body: wget.stdout, latencyMs });
}

async function tcpFromController(check: TcpHealthCheck, target: ProbeTarget, io: ProbeIo): Promise<Attempt> {
  const host = check.host ?? target.address;
  if (host === undefined) return noAddress(target, `tcp port ${check.port}`);
  try {
    const res = await io.tcp({ host, port: check.port, timeoutMs: parseDuration(check.timeout) });
    return passed(res.latencyMs);
  } catch (e) {
    return failed(`tcp connect to ${host}:${check.port} from the controller failed: ${describeError(e)}`);
  }
}

async function tcpInContainer(check: TcpHealthCheck, target: ProbeTarget, io: ProbeIo): Promise<Attempt> {
  const host = check.host ?? CONTAINER_LOOPBACK;
  const timeoutMs = parseDuration(check.timeout);
  const started = performance.now();
  const res = await io.exec(tcpConnectArgv(host, check.port, timeoutMs), timeoutMs + EXEC_OVERHEAD_MS);
  const latencyMs = Math.round(performance.now() - started);
  if (res.exitCode === 0) return passed(latencyMs);
  const why =
    lastLine(res.stderr) ||
    (res.exitCode === 124 ? "timed out" : `nothing accepted the connection (exit ${res.exitCode})`);
  return failed(`tcp connect to ${host}:${check.port} inside CT ${target.vmid} failed: ${why}`, latencyMs);
}

async function command(check: CommandHealthCheck, target: ProbeTarget, io: ProbeIo): Promise<Attempt> {
  const timeoutMs = parseDuration(check.timeout);
  const started = performance.now();
  const res = await io.exec(check.argv, timeoutMs);
  const latencyMs = Math.round(performance.now() - started);
  const what = `${JSON.stringify(check.argv)} inside CT ${target.vmid}`;
  if (res.exitCode !== check.expectedExitCode)
    return failed(
      `${what} exited ${res.exitCode}, expected ${check.expectedExitCode}${lastLine(res.stderr) ? `: ${lastLine(res.stderr)}` : ""}`,
      latencyMs,
    );
  if (
    check.outputMatches !== undefined &&
    !new RegExp(check.outputMatches).test(withoutFinalNewline(res.stdout))
  )
    return failed(
      `${what} printed ${JSON.stringify(res.stdout.slice(0, 80))}, which does not match /${check.outputMatches}/`,
      latencyMs,
    );
  return passed(latencyMs);
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines[lines.length - 1] ?? "";
}

/** `^active$` should match what `systemctl is-active` prints; JavaScript's `$` does not skip a final newline. */
export function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}
