import type { Change } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed } from "../filter.js";
import { okResult, step } from "../steps.js";
import type { OsManager } from "./manager.js";
import { RPM_QUERY, tabVersions } from "./versions.js";

/**
 * dnf (Fedora, CentOS Stream, AlmaLinux, Rocky). `dnf check-update` exits 100 when updates exist
 * and prints `name.arch  version-release  repo` rows (dnf/cli/output.py listPkgs; a name too long for
 * its column puts the rest of the row on the next line). Denied packages are `--exclude`d (globs are
 * dnf's own); an allow list names the packages to `dnf upgrade`.
 */

const ROW_ARCH = /^(.+)\.(x86_64|aarch64|i686|noarch|armv7hl|ppc64le|s390x|src)$/;

export function parseCheckUpdate(
  text: string,
  command = "dnf check-update",
): { name: string; version: string }[] {
  const words: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    // "Obsoleting Packages" lists replacements after the updates; they are upgraded with them.
    if (/^Obsoleting Packages/.test(line)) break;
    if (line.trim() === "" || /^(Last metadata expiration check|Security:|Updating|Dependencies)/.test(line))
      continue;
    words.push(...line.trim().split(/\s+/));
  }
  if (words.length % 3 !== 0)
    throw new ParseError("os", command, text, "rows are not `name.arch version repo`");
  const out: { name: string; version: string }[] = [];
  for (let i = 0; i < words.length; i += 3) {
    const m = ROW_ARCH.exec(words[i]!);
    if (!m?.[1]) throw new ParseError("os", command, text, `"${words[i]}" is not name.arch`);
    out.push({ name: m[1], version: words[i + 1]! });
  }
  return out;
}

export const dnf: OsManager = {
  tool: "dnf",
  refresh: (spec) => [step(spec, "list", "makecache", ["dnf", "-q", "makecache"], { env: { LC_ALL: "C" } })],
  // --cacheonly: dnf would otherwise refresh expired metadata itself, and a listing changes nothing.
  list: (spec) => [
    step(spec, "list", "check-update", ["dnf", "-q", "--cacheonly", "check-update"], {
      okExitCodes: [0, 100],
      env: { LC_ALL: "C" },
    }),
    step(spec, "list", "installed-before", RPM_QUERY, { env: { LC_ALL: "C" } }),
  ],
  pending(spec, results) {
    const steps = dnf.list(spec);
    const rows = parseCheckUpdate(okResult(spec, steps, results, "check-update").stdout);
    const now = tabVersions(okResult(spec, steps, results, "installed-before").stdout);
    return rows
      .filter((r) => allowed(spec.packages, r.name))
      .map((r): Change => {
        const from = now.get(r.name);
        return from === undefined
          ? { package: r.name, to: r.version }
          : { package: r.name, from, to: r.version };
      });
  },
  hold: () => [],
  apply(spec, pending) {
    if (pending.length === 0) return [];
    const exclude = spec.packages.deny.map((d) => `--exclude=${d}`);
    const names = spec.packages.allow.length > 0 ? pending.map((p) => p.package) : [];
    return [
      step(spec, "apply", "upgrade", ["dnf", "-y", ...exclude, "upgrade", ...names], {
        env: { LC_ALL: "C" },
      }),
    ];
  },
  release: () => [],
  installed: (spec) => [step(spec, "list", "installed", RPM_QUERY, { env: { LC_ALL: "C" } })],
  versions: (spec, results) => tabVersions(okResult(spec, dnf.installed(spec), results, "installed").stdout),
};
