/**
 * `curl`, `wget` and `nc` inside containers, for health probes run from inside
 * (src/health/in-container.ts). A container has them only when its package database has them
 * installed (Alpine's BusyBox always brings wget and nc). bash's /dev/tcp is not modelled, so a tcp
 * probe from inside a container without nc fails in the simulator (real Debian would connect). Its network is its own: 127.0.0.1/localhost reaches only that container's
 * health endpoints (the real loopback listeners of src/sim/health/servers.ts); any other port or
 * host refuses. Messages are curl 7.88 (Debian 12) and GNU wget 1.21 / BusyBox wget, as printed
 * with the options Refit uses.
 *
 * curl: `-s` hides errors unless `-S`; `-w` is written even when no response came (http_code 000);
 * exit 7 for a refused connection (`curl: (7) Failed to connect to H port P after N ms: Couldn't
 * connect to server`), 28 for --max-time (`curl: (28) Operation timed out after N milliseconds with
 * 0 bytes received`). wget -S prints the response headers on stderr (two spaces in front); GNU wget
 * exits 8 on an error status and 4 on a network failure, BusyBox exits 1 and says why.
 */
import http from "node:http";
import net from "node:net";
import { registerCommands } from "../commands/registry.js";
import type { CommandContext } from "../commands/types.js";
import type { Place } from "../exec/place.js";

function installed(p: Place, pkg: string): boolean {
  if (p.kind !== "container" || !p.guest.contents) return false;
  return Object.values(p.guest.contents.os).some((db) => db.installed[pkg] !== undefined);
}

const isAlpine = (p: Place): boolean => p.kind === "container" && p.guest.contents?.ostype === "alpine";

interface Response {
  status: number;
  statusText: string;
  headers: string[];
  body: string;
}

type Fetched = Response | { error: "refused" | "timeout"; elapsedMs: number };

/** A request as seen from inside the container: only its own endpoints on loopback answer. */
function request(
  ctx: CommandContext,
  url: URL,
  method: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Fetched> {
  const started = Date.now();
  const own = ctx.place.kind === "container" ? ctx.place.guest.health.map((h) => h.port) : [];
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (!loopback || !own.includes(port) || url.protocol !== "http:")
    return Promise.resolve({ error: "refused", elapsedMs: 0 });
  return new Promise((resolve) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: `${url.pathname}${url.search}`, method, headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          clearTimeout(timer);
          const raw = res.rawHeaders;
          const lines: string[] = [];
          for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: lines, body });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: "timeout", elapsedMs: Date.now() - started });
    }, timeoutMs);
    req.on("error", () => {
      clearTimeout(timer);
      resolve({ error: "refused", elapsedMs: Date.now() - started });
    });
    req.end();
  });
}

async function curl(ctx: CommandContext): Promise<number> {
  let silent = false;
  let showErrors = false;
  let head = false;
  let insecure = false;
  let method = "GET";
  let writeOut: string | undefined;
  let maxTime = 0;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => args[++i] ?? "";
    if (/^-[sSIk]+$/.test(a)) {
      silent ||= a.includes("s");
      showErrors ||= a.includes("S");
      head ||= a.includes("I");
      insecure ||= a.includes("k");
    } else if (a === "--head") head = true;
    else if (a === "--insecure") insecure = true;
    else if (a === "-o" || a === "--output") {
      if (value() !== "-") return unsupported(ctx, "curl", a);
    } else if (a === "-w" || a === "--write-out") writeOut = value();
    else if (a === "-m" || a === "--max-time") maxTime = Number(value());
    else if (a === "-X" || a === "--request") method = value();
    else if (a === "-H" || a === "--header") {
      const h = value();
      const at = h.indexOf(":");
      if (at > 0) headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
    } else if (a.startsWith("-")) {
      ctx.err(
        `curl: option ${a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n`,
      );
      return 2;
    } else url = a;
  }
  void insecure;
  if (url === undefined) {
    ctx.err("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
    return 2;
  }
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed) {
    ctx.err(`curl: (3) URL using bad/illegal format or missing URL\n`);
    return 3;
  }
  const started = Date.now();
  const res = await request(
    ctx,
    parsed,
    head ? "HEAD" : method,
    headers,
    maxTime > 0 ? maxTime * 1000 : 300_000,
  );
  const total = ((Date.now() - started) / 1000).toFixed(6);
  const say = (code: number, msg: string): number => {
    if (!silent || showErrors) ctx.err(`curl: (${code}) ${msg}\n`);
    return code;
  };
  if ("error" in res) {
    if (writeOut !== undefined) ctx.out(expand(writeOut, "000", total));
    return res.error === "timeout"
      ? say(28, `Operation timed out after ${res.elapsedMs} milliseconds with 0 bytes received`)
      : say(
          7,
          `Failed to connect to ${parsed.hostname} port ${parsed.port || 80} after 0 ms: Couldn't connect to server`,
        );
  }
  if (head)
    ctx.out(`HTTP/1.1 ${res.status} ${res.statusText}\r\n${res.headers.map((h) => `${h}\r\n`).join("")}\r\n`);
  else ctx.out(res.body);
  if (writeOut !== undefined) ctx.out(expand(writeOut, String(res.status), total));
  return 0;
}

function expand(template: string, code: string, total: string): string {
  return template
    .replace(/\\n/g, "\n")
    .replace(/%\{http_code\}/g, code)
    .replace(/%\{time_total\}/g, total);
}

async function wget(ctx: CommandContext): Promise<number> {
  const busybox = isAlpine(ctx.place);
  let showHeaders = false;
  let toStdout = false;
  let timeout = 900;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-q" || a === "--no-check-certificate") continue;
    if (a === "-S" || a === "--server-response") showHeaders = true;
    else if (a === "-O") toStdout = args[++i] === "-";
    else if (a === "-T") timeout = Number(args[++i]);
    else if (a === "--header") {
      const h = args[++i] ?? "";
      const at = h.indexOf(":");
      if (at > 0) headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
    } else if (a.startsWith("-")) return unsupported(ctx, "wget", a);
    else url = a;
  }
  if (url === undefined || !URL.canParse(url)) {
    ctx.err(
      busybox
        ? "BusyBox v1.37.0 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n"
        : "wget: missing URL\n",
    );
    return 1;
  }
  const parsed = new URL(url);
  const res = await request(ctx, parsed, "GET", headers, timeout * 1000);
  if ("error" in res) {
    if (busybox) {
      ctx.err(
        res.error === "timeout"
          ? "wget: download timed out\n"
          : `wget: can't connect to remote host (${parsed.hostname}): Connection refused\n`,
      );
      return 1;
    }
    return 4;
  }
  if (showHeaders)
    ctx.err(`  HTTP/1.1 ${res.status} ${res.statusText}\n${res.headers.map((h) => `  ${h}\n`).join("")}`);
  if (res.status >= 400) {
    if (busybox) {
      ctx.err(`wget: server returned error: HTTP/1.1 ${res.status} ${res.statusText}\n`);
      return 1;
    }
    return 8;
  }
  if (toStdout) ctx.out(res.body);
  return 0;
}

/**
 * `nc -z [-w secs] host port` (netcat-openbsd on Debian, BusyBox nc on Alpine): exit 0 when the port
 * accepts a connection, 1 otherwise, silent without -v. Only the container's own endpoints listen.
 */
async function nc(ctx: CommandContext): Promise<number> {
  const args = ctx.argv.slice(1);
  let zero = false;
  let wait = 0;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-z") zero = true;
    else if (a === "-w") wait = Number(args[++i]);
    else if (a.startsWith("-")) return unsupported(ctx, "nc", a);
    else rest.push(a);
  }
  const [host, portText] = rest;
  const port = Number(portText);
  if (!zero || host === undefined || !Number.isInteger(port))
    return unsupported(ctx, "nc", "without -z host port");
  const own = ctx.place.kind === "container" ? ctx.place.guest.health.map((h) => h.port) : [];
  if (!["127.0.0.1", "localhost", "::1"].includes(host) || !own.includes(port)) return 1;
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const done = (code: number): void => {
      s.destroy();
      resolve(code);
    };
    if (wait > 0) s.setTimeout(wait * 1000, () => done(1));
    s.once("connect", () => done(0));
    s.once("error", () => done(1));
  });
}

function unsupported(ctx: CommandContext, cmd: string, opt: string): number {
  ctx.err(`${cmd}: option ${opt} is not modelled by the simulator\n`);
  return 2;
}

registerCommands([
  { name: "curl", path: "/usr/bin/curl", available: (p) => installed(p, "curl"), handler: curl },
  {
    name: "wget",
    path: "/usr/bin/wget",
    available: (p) => installed(p, "wget") || isAlpine(p),
    handler: wget,
  },
  {
    name: "nc",
    path: "/usr/bin/nc",
    available: (p) => installed(p, "netcat-openbsd") || installed(p, "netcat-traditional") || isAlpine(p),
    handler: nc,
  },
]);
