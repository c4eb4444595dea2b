import type { PackageFilter } from "../api/runners.js";

/**
 * The package filter of a runner spec (allow/deny over names and shell-style globs). Deny wins over
 * allow; an empty allow list allows everything.
 */

const cache = new Map<string, RegExp>();

/** fnmatch(3) without flags: `*`, `?` and `[…]` (with `!` or `^` negation); the rest is literal. */
export function globRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) return hit;
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith("!") || body.startsWith("^")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  const out = new RegExp(`^${re}$`);
  cache.set(glob, out);
  return out;
}

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globRegExp(p).test(name));
}

/** Whether the filter lets `name` be upgraded. */
export function allowed(filter: PackageFilter, name: string): boolean {
  if (matchesAny(name, filter.deny)) return false;
  return filter.allow.length === 0 || matchesAny(name, filter.allow);
}

/** Whether the filter restricts anything (then runners upgrade named packages only). */
export function restricts(filter: PackageFilter): boolean {
  return filter.allow.length > 0 || filter.deny.length > 0;
}
