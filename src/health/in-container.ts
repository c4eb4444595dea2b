/**
 * Probes run inside the container through pct exec, for ports bound to localhost or a container
 * the controller cannot reach. http uses curl, or wget (BusyBox on Alpine) when curl is missing;
 * tcp uses nc, or bash's /dev/tcp. Everything from desired state is an argv element or a positional
 * parameter of a fixed script, never pasted into shell text.
 */
import type { HttpHealthCheck } from "../api/health-check.js";

/** Marks the line curl appends after the body, so a body without a final newline still parses. */
const CURL_MARK = "__refit_probe__";

export function curlArgv(check: HttpHealthCheck, url: string, timeoutMs: number): string[] {
  const argv = ["curl", "-sS", "-o", "-", "-w", `\n${CURL_MARK} %{http_code} %{time_total}\n`];
  argv.push("--max-time", seconds(timeoutMs));
  if (check.method === "HEAD") argv.push("--head");
  else if (check.method !== "GET") argv.push("-X", check.method);
  for (const [k, v] of Object.entries(check.headers)) argv.push("-H", `${k}: ${v}`);
  if (!check.tlsVerify) argv.push("-k");
  argv.push(url);
  return argv;
}

export interface ParsedResponse {
  status: number;
  body: string;
  latencyMs: number;
}

/** Reads curl's output: the body, then the marker line with the status and the total time in seconds. */
export function parseCurl(stdout: string): ParsedResponse | undefined {
  const at = stdout.lastIndexOf(`\n${CURL_MARK} `);
  if (at < 0) return undefined;
  const m = /^(\d{3}) ([0-9.]+)/.exec(stdout.slice(at + CURL_MARK.length + 2));
  if (!m) return undefined;
  const status = Number(m[1]);
  // curl prints 000 when no response came at all (refused, timed out).
  if (status === 0) return undefined;
  return { status, body: stdout.slice(0, at), latencyMs: Math.round(Number(m[2]) * 1000) };
}

/** BusyBox and GNU wget: only GET, response headers (-S) on stderr, body on stdout. */
export function wgetArgv(check: HttpHealthCheck, url: string, timeoutMs: number): string[] | undefined {
  if (check.method !== "GET") return undefined;
  const argv = ["wget", "-q", "-S", "-O", "-", "-T", seconds(timeoutMs)];
  for (const [k, v] of Object.entries(check.headers)) argv.push("--header", `${k}: ${v}`);
  if (!check.tlsVerify) argv.push("--no-check-certificate");
  argv.push(url);
  return argv;
}

/** The status of the last response wget -S printed (after redirects), or undefined when none came. */
export function parseWgetStatus(stderr: string): number | undefined {
  const all = [...stderr.matchAll(/^\s*HTTP\/[0-9.]+\s+(\d{3})/gm)];
  const last = all[all.length - 1]?.[1];
  return last === undefined ? undefined : Number(last);
}

/**
 * A TCP connect from inside the container: nc -z when present, else bash's /dev/tcp under
 * timeout(1). Host, port and seconds are positional parameters ($1 $2 $3) of a fixed script.
 */
const TCP_SCRIPT = [
  'if command -v nc >/dev/null 2>&1; then exec nc -z -w "$3" "$1" "$2"; fi',
  `if command -v bash >/dev/null 2>&1; then exec timeout "$3" bash -c 'exec 3<>"/dev/tcp/$1/$2"' refit-probe "$1" "$2"; fi`,
  'echo "refit-probe: neither nc nor bash is installed in the container" >&2',
  "exit 127",
].join("\n");

export function tcpConnectArgv(host: string, port: number, timeoutMs: number): string[] {
  return ["sh", "-c", TCP_SCRIPT, "refit-probe", host, String(port), seconds(timeoutMs)];
}

/** Whether an exec result says the program itself is missing (sh's 127, or lxc-attach's exec error). */
export function commandMissing(result: { exitCode: number; stderr: string }, program: string): boolean {
  if (result.exitCode === 127) return true;
  return new RegExp(`${program}.*(not found|No such file)`).test(result.stderr);
}

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
