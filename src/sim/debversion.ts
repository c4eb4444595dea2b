/**
 * Debian version ordering, as dpkg implements it (`verrevcmp` in lib/dpkg/version.c): epoch, then
 * upstream version, then revision, each compared by alternating non-digit and digit runs, with `~`
 * sorting before everything (so `1.0~rc1` < `1.0`). Kernel choice and apt candidates depend on it.
 */

interface ParsedVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

function parse(v: string): ParsedVersion {
  let rest = v.trim();
  let epoch = 0;
  const colon = rest.indexOf(":");
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  if (dash >= 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: "" };
}

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === "~") return -1;
  if (/\d/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/\d/.test(a[i] ?? "")) || (j < b.length && !/\d/.test(b[j] ?? ""))) {
      const ac = i < a.length ? order(a[i]) : 0;
      const bc = j < b.length ? order(b[j]) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    while (/\d/.test(a[i] ?? "") && /\d/.test(b[j] ?? "")) {
      if (firstDiff === 0) firstDiff = (a.charCodeAt(i) || 0) - (b.charCodeAt(j) || 0);
      i++;
      j++;
    }
    if (/\d/.test(a[i] ?? "")) return 1;
    if (/\d/.test(b[j] ?? "")) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareDebVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa.epoch !== pb.epoch) return pa.epoch - pb.epoch;
  const up = verrevcmp(pa.upstream, pb.upstream);
  if (up !== 0) return up;
  return verrevcmp(pa.revision, pb.revision);
}

export function newestVersion(versions: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (best === undefined || compareDebVersions(v, best) > 0) best = v;
  return best;
}
