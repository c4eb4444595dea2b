/**
 * Debian version comparison, as `dpkg --compare-versions` does it (deb-version(7)):
 * `[epoch:]upstream[-revision]`, compared epoch first (numerically), then upstream, then revision,
 * each with dpkg's verrevcmp: alternating non-digit runs (letters sort before non-letters, `~` before
 * everything including the end of the string) and digit runs (numerically).
 * Kernel ABI strings compare correctly with it too: 6.8.12-10-pve > 6.8.12-9-pve, 6.14.8-2-pve > 6.8.12-9-pve.
 */

export interface DebianVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

export function parseDebianVersion(version: string): DebianVersion {
  const v = version.trim();
  let epoch = 0;
  let rest = v;
  const colon = v.indexOf(":");
  if (colon > 0 && /^\d+$/.test(v.slice(0, colon))) {
    epoch = Number(v.slice(0, colon));
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  if (dash >= 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: "" };
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isAlpha(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

// dpkg's order(): digits 0 (never reached in the non-digit loop), end 0, letters by code, `~` -1,
// everything else after all letters.
function order(c: string): number {
  if (c === "") return 0;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === "~") return -1;
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): string => (k < s.length ? s.charAt(k) : "");
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(at(a, i))) || (j < b.length && !isDigit(at(b, j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(a, i) === "0") i++;
    while (at(b, j) === "0") j++;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Negative if a < b, 0 if equal, positive if a > b (the sign is what matters). */
export function compareDebianVersions(a: string, b: string): number {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  const up = verrevcmp(va.upstream, vb.upstream);
  if (up !== 0) return up;
  return verrevcmp(va.revision, vb.revision);
}

/** -1, 0 or 1: handy for Array.prototype.sort. */
export function debianVersionOrder(a: string, b: string): -1 | 0 | 1 {
  return Math.sign(compareDebianVersions(a, b)) as -1 | 0 | 1;
}

/** The highest version of a list, or undefined for an empty list. */
export function newestVersion(versions: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (best === undefined || compareDebianVersions(v, best) > 0) best = v;
  return best;
}
