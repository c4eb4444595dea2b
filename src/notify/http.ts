import type { ReadableStreamReadResult } from "node:stream/web";
import { parseDuration } from "../api/primitives.js";
import { RefitError, RetryableError, TerminalError } from "../errors.js";
import { redact } from "../secrets/redact.js";
import type { Secret } from "../secrets/secret.js";
import type { ChannelType, DeliveryContext, DeliveryResult } from "./channel.js";
import { NotifyReason } from "./reasons.js";
import { userAgent } from "./user-agent.js";

/** One POST, fully built. `url` and header values are revealed secrets: never put them in text. */
export interface HttpPost {
  url: URL;
  /** Header names in any case; `content-type` is set from `contentType` and cannot be overridden. */
  headers: Record<string, string>;
  contentType: string;
  body: string;
  /** Every secret the request was built from, so any text that echoes one is redacted. */
  secrets: readonly (Secret | string)[];
}

/** The retry fields every channel spec has. */
export interface RetryPolicy {
  timeout: string;
  retries: number;
  retryBackoff: string;
}

/** A server asking for longer than this is not waited for in full: the delivery is still in one call. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Doubling from `retryBackoff` stops growing here, so a high `retries` cannot wait for days. */
export const MAX_BACKOFF_MS = 60 * 60_000;
/** Enough of an error body to show what the service said, bounded against a huge reply. */
const BODY_SNIPPET_BYTES = 2048;
const BODY_SNIPPET_CHARS = 200;

type Outcome =
  | { kind: "ok"; status: number }
  | { kind: "retry"; what: string; status?: number; said?: string; retryAfterMs?: number }
  | { kind: "reject"; what: string; status: number; said?: string };

/**
 * Parses a secret into an http(s) URL, or fails terminally naming the field and channel only: the
 * parser's own message would repeat the value.
 */
export function secretUrl(value: Secret | string, field: string, channel: string): URL {
  const text = typeof value === "string" ? value : value.reveal();
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new TerminalError(
      NotifyReason.InvalidChannelSecret,
      `The ${field} of notification channel ${channel} is not an http(s) URL; check the secret it is read from.`,
      { channel, field },
    );
  }
  return url;
}

/** Joins a path segment onto a base URL, keeping a base path such as a reverse-proxy prefix. */
export function joinUrl(base: URL, segment: string): URL {
  const dir = base.pathname.endsWith("/") ? base : new URL(`${base.pathname}/${base.search}`, base);
  return new URL(segment, dir);
}

// fetch rejects header values with line breaks or characters beyond Latin-1, and its message quotes the value.
function checkHeaders(headers: Record<string, string>, type: ChannelType, channel: string): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new TerminalError(
        NotifyReason.InvalidChannelSecret,
        `Header name ${JSON.stringify(name)} of ${type} channel ${channel} is not a valid HTTP header name; fix the channel's headers.`,
        { channel },
      );
    }
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) {
      throw new TerminalError(
        NotifyReason.InvalidChannelSecret,
        `Header ${name} of ${type} channel ${channel} has a value with line breaks or characters HTTP headers cannot carry; check the secret it is read from.`,
        { channel, header: name },
      );
    }
  }
}

function buildHeaders(post: HttpPost): Record<string, string> {
  const out: Record<string, string> = { "user-agent": userAgent() };
  for (const [name, value] of Object.entries(post.headers)) out[name.toLowerCase()] = value;
  out["content-type"] = post.contentType;
  return out;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  UND_ERR_SOCKET: "connection closed by the server",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connect timed out",
  UND_ERR_CONNECT_TIMEOUT: "connect timed out",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * A network failure by its error code only: fetch's messages carry the host and port, which are
 * part of the secret URL.
 */
function describeNetworkError(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      if (NETWORK_CODES[code] !== undefined) return `${NETWORK_CODES[code]} (${code})`;
      if (/CERT|TLS|SSL/.test(code)) return `TLS handshake failed (${code})`;
      return `network error (${code})`;
    }
    current = current.cause;
  }
  return "network error";
}

/** Seconds or an HTTP date, as milliseconds to wait; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function bodySnippet(res: Response, secrets: HttpPost["secrets"]): Promise<string | undefined> {
  if (res.body === null) return undefined;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_SNIPPET_BYTES) {
      const chunk: ReadableStreamReadResult<Uint8Array> = await reader.read();
      if (chunk.done) break;
      const value = chunk.value;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still explains itself with what arrived.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks)
    .subarray(0, BODY_SNIPPET_BYTES)
    .toString("utf8")
    .replace(/\s+/g, " ")
    .trim();
  if (text.length === 0) return undefined;
  const bounded = text.length > BODY_SNIPPET_CHARS ? `${text.slice(0, BODY_SNIPPET_CHARS)}…` : text;
  return redact(bounded, secrets);
}

function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

async function attemptOnce(
  post: HttpPost,
  headers: Record<string, string>,
  policy: RetryPolicy,
  ctx: DeliveryContext,
): Promise<Outcome> {
  const doFetch = ctx.fetch ?? fetch;
  const attempt = new AbortController();
  const timer = new AbortController();
  let timedOut = false;
  // The attempt timeout waits on the transport clock (real time in the controller); tests may inject one.
  (ctx.transportClock ?? ctx.clock).sleep(parseDuration(policy.timeout), timer.signal).then(
    () => {
      timedOut = true;
      attempt.abort(new Error("attempt timed out"));
    },
    () => undefined,
  );
  const onCancel = (): void => attempt.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener("abort", onCancel, { once: true });
  try {
    const res = await doFetch(post.url, {
      method: "POST",
      headers,
      body: post.body,
      // A redirected POST turns into a GET on most services; the configured URL should be the final one.
      redirect: "manual",
      signal: attempt.signal,
    });
    const status = res.status;
    if (status >= 200 && status < 300) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: "ok", status };
    }
    const said = await bodySnippet(res, post.secrets);
    if (status >= 300 && status < 400) {
      return { kind: "reject", status, what: `HTTP ${status} redirect (redirects are not followed)`, said };
    }
    if (retryableStatus(status)) {
      return {
        kind: "retry",
        status,
        what: `HTTP ${status}`,
        said,
        retryAfterMs: retryAfterMs(res.headers.get("retry-after"), ctx.clock.now()),
      };
    }
    return { kind: "reject", status, what: `HTTP ${status}`, said };
  } catch (err) {
    if (ctx.signal?.aborted === true) throw err;
    if (timedOut) return { kind: "retry", what: `timed out after ${policy.timeout}` };
    return { kind: "retry", what: describeNetworkError(err) };
  } finally {
    timer.abort();
    ctx.signal?.removeEventListener("abort", onCancel);
  }
}

/**
 * POSTs with the channel's timeout per attempt and `retries` further attempts on network errors,
 * timeouts, 408, 429 and 5xx, waiting `retryBackoff` doubling each time (or what Retry-After asks,
 * up to MAX_RETRY_AFTER_MS). Other statuses fail at once. Every message names the channel and
 * never its URL or header values.
 */
export async function postWithRetries(
  type: ChannelType,
  post: HttpPost,
  policy: RetryPolicy,
  ctx: DeliveryContext,
): Promise<DeliveryResult> {
  const channel = ctx.channel;
  checkHeaders(post.headers, type, channel);
  const headers = buildHeaders(post);
  const max = policy.retries + 1;
  const backoff = parseDuration(policy.retryBackoff);
  const fail = (what: string, attempt: number, said: string | undefined): string =>
    redact(
      `${type} POST to ${channel} failed: ${what} (attempt ${attempt}/${max})` +
        (said === undefined ? "" : `; the service said ${JSON.stringify(said)}`),
      post.secrets,
    );
  const aborted = (attempt: number, err: unknown): RetryableError =>
    new RetryableError(
      NotifyReason.DeliveryAborted,
      `${type} POST to ${channel} was cancelled (attempt ${attempt}/${max})`,
      { channel, type, attempts: attempt },
      { cause: err },
    );

  const first = Math.max(1, Math.min(max, (ctx.attemptsBefore ?? 0) + 1));
  const jitter = Math.min(1, Math.max(0, ctx.jitter ?? 0));
  const random = ctx.random ?? Math.random;
  for (let attempt = first; ; attempt++) {
    if (ctx.signal?.aborted === true) throw aborted(attempt - 1, ctx.signal.reason);
    let outcome: Outcome;
    try {
      outcome = await attemptOnce(post, headers, policy, ctx);
    } catch (err) {
      if (err instanceof RefitError) throw err;
      throw aborted(attempt, err);
    }
    if (outcome.kind === "ok") return { attempts: attempt, status: outcome.status };
    const message = fail(outcome.what, attempt, outcome.said);
    const context = { channel, type, attempts: attempt, status: outcome.status };
    if (outcome.kind === "reject") {
      throw new TerminalError(
        NotifyReason.DeliveryRejected,
        `${message}; not retried: check the channel's URL, token and headers`,
        context,
      );
    }
    if (attempt >= max) throw new RetryableError(NotifyReason.DeliveryFailed, message, context);
    const wait =
      outcome.retryAfterMs !== undefined
        ? Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS)
        : Math.round(Math.min(backoff * 2 ** (attempt - 1), MAX_BACKOFF_MS) * (1 - jitter * random()));
    ctx.log?.warn({ channel, type, attempt, max, status: outcome.status, retryInMs: wait }, message);
    try {
      await ctx.onRetry?.({ attempt, max, waitMs: wait, message });
    } catch {
      // Recording the attempt is best effort; the delivery goes on.
    }
    try {
      await ctx.clock.sleep(wait, ctx.signal);
    } catch (err) {
      throw aborted(attempt, err);
    }
  }
}
