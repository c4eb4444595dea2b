import type { HttpHealthCheck } from "../api/health-check.js";
import { failed, passed, type Attempt } from "./attempt-result.js";

/** Where a probe from inside the container connects when the check names only a port. */
export const CONTAINER_LOOPBACK = "127.0.0.1";

/**
 * The URL an http check requests: its `url` as written, or scheme://host:port/path with the
 * container's address (from the controller) or loopback (from inside the container).
 * Undefined when the controller does not know the container's address.
 */
export function httpUrl(check: HttpHealthCheck, host: string | undefined): string | undefined {
  if (check.url !== undefined) return check.url;
  if (host === undefined) return undefined;
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${check.scheme ?? "http"}://${h}:${check.port ?? 80}${check.path ?? "/"}`;
}

/** Judges one response: an expected status, then the body text and pattern when the check has them. */
export function judgeResponse(
  check: HttpHealthCheck,
  url: string,
  res: { status: number; body: string; latencyMs: number },
): Attempt {
  const what = `${check.method} ${url}`;
  if (!statusExpected(check, res.status))
    return failed(`${what} answered ${res.status}, expected ${expectedText(check)}`, res.latencyMs);
  if (check.bodyContains !== undefined && !res.body.includes(check.bodyContains))
    return failed(
      `${what} answered ${res.status} but the body does not contain ${JSON.stringify(check.bodyContains)} (body starts ${JSON.stringify(res.body.slice(0, 80))})`,
      res.latencyMs,
    );
  if (check.bodyMatches !== undefined && !new RegExp(check.bodyMatches).test(res.body.replace(/\r?\n$/, "")))
    return failed(
      `${what} answered ${res.status} but the body does not match /${check.bodyMatches}/ (body starts ${JSON.stringify(res.body.slice(0, 80))})`,
      res.latencyMs,
    );
  return passed(res.latencyMs);
}

function statusExpected(check: HttpHealthCheck, status: number): boolean {
  if (check.expectedStatus.includes(status)) return true;
  return (check.expectedStatusClasses ?? []).some((c) => `${Math.floor(status / 100)}xx` === c);
}

function expectedText(check: HttpHealthCheck): string {
  return [...check.expectedStatus.map(String), ...(check.expectedStatusClasses ?? [])].join(" or ");
}
