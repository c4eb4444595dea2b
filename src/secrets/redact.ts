import { REDACTED, Secret } from "./secret.js";

/** Variants shorter than this are too likely to match ordinary text to be worth replacing. */
const MIN_VARIANT_LENGTH = 4;

/**
 * The forms in which a secret value can show up in text: as is, percent-encoded, and, for a URL
 * (webhook URLs carry their token in the path or query), its path with query, each query value and
 * a userinfo password, since servers and libraries echo those parts on their own.
 */
function variants(value: string): string[] {
  const out = new Set<string>([value, encodeURIComponent(value)]);
  let url: URL | undefined;
  try {
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url !== undefined) {
    out.add(url.href);
    const pathAndQuery = `${url.pathname}${url.search}`;
    if (pathAndQuery !== "/") out.add(pathAndQuery);
    if (url.pathname !== "/") out.add(url.pathname);
    if (url.password !== "") out.add(url.password);
    for (const v of url.searchParams.values()) out.add(v);
  }
  return [...out].filter((v) => v.length >= MIN_VARIANT_LENGTH || v === value);
}

/**
 * Replaces every occurrence of each secret value in `text` with `[redacted]`. Used on error messages
 * and response bodies before they reach logs or status. Longer values are replaced first so that a
 * secret containing another is not left half visible.
 */
export function redact(text: string, secrets: readonly (Secret | string | undefined)[]): string {
  const values = new Set<string>();
  for (const s of secrets) {
    if (s === undefined) continue;
    const value = s instanceof Secret ? s.reveal() : s;
    if (value.length === 0) continue;
    for (const v of variants(value)) values.add(v);
  }
  let out = text;
  for (const v of [...values].sort((a, b) => b.length - a.length)) {
    out = out.split(v).join(REDACTED);
  }
  return out;
}
