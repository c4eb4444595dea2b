import type { Change } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed, restricts } from "../filter.js";
import { okResult, step } from "../steps.js";
import type { OsManager } from "./manager.js";
import { RPM_QUERY, tabVersions } from "./versions.js";

/**
 * zypper (openSUSE). `zypper list-updates` prints a `|`-separated table with the columns S,
 * Repository, Name, Current Version, Available Version, Arch (zypper src/utils/misc.cc / Table.cc);
 * columns are found by their header. Denied packages are locked for the run (`addlock`, globs
 * allowed) and unlocked afterwards; an allow list names the packages to `zypper update`.
 */

const N = "--non-interactive";

export function parseListUpdates(text: string): { name: string; from?: string; to: string }[] {
  const lines = text.split(/\r?\n/);
  const head = lines.findIndex((l) => /^\s*S\s*\|/.test(l) && l.includes("Name"));
  if (head < 0) {
    if (/No updates found/i.test(text)) return [];
    throw new ParseError("os", "zypper list-updates", text, "no table header and no `No updates found.`");
  }
  const cols = lines[head]!.split("|").map((c) => c.trim());
  const at = (title: string): number => cols.indexOf(title);
  const [name, cur, avail] = [at("Name"), at("Current Version"), at("Available Version")];
  if (name < 0 || avail < 0)
    throw new ParseError("os", "zypper list-updates", text, "no Name or Available Version column");
  const out: { name: string; from?: string; to: string }[] = [];
  for (const line of lines.slice(head + 1)) {
    if (!line.includes("|") || /^[-+]+$/.test(line.trim())) continue;
    const c = line.split("|").map((x) => x.trim());
    const row: { name: string; from?: string; to: string } = { name: c[name]!, to: c[avail]! };
    if (cur >= 0 && c[cur]) row.from = c[cur];
    out.push(row);
  }
  return out;
}

export const zypper: OsManager = {
  tool: "zypper",
  refresh: (spec) => [step(spec, "list", "refresh", ["zypper", N, "refresh"], { env: { LC_ALL: "C" } })],
  // --no-refresh: zypper would otherwise refresh expired repositories itself, and a listing changes nothing.
  list: (spec) => [
    step(spec, "list", "list-updates", ["zypper", N, "--no-refresh", "list-updates"], {
      env: { LC_ALL: "C" },
    }),
  ],
  pending(spec, results) {
    const steps = zypper.list(spec);
    return parseListUpdates(okResult(spec, steps, results, "list-updates").stdout)
      .filter((r) => allowed(spec.packages, r.name))
      .map((r): Change =>
        r.from === undefined ? { package: r.name, to: r.to } : { package: r.name, from: r.from, to: r.to },
      );
  },
  hold: (spec) =>
    spec.packages.deny.length === 0
      ? []
      : [
          step(spec, "apply", "hold", ["zypper", N, "addlock", ...spec.packages.deny], {
            job: false,
            timeoutMs: 120_000,
          }),
        ],
  apply(spec, pending) {
    if (pending.length === 0) return [];
    const names =
      restricts(spec.packages) && spec.packages.allow.length > 0 ? pending.map((p) => p.package) : [];
    const op = spec.upgrade === "full" && names.length === 0 ? "dist-upgrade" : "update";
    return [
      step(spec, "apply", "upgrade", ["zypper", N, op, "--auto-agree-with-licenses", ...names], {
        env: { LC_ALL: "C" },
      }),
    ];
  },
  release: (spec) =>
    spec.packages.deny.length === 0
      ? []
      : [
          step(spec, "apply", "release", ["zypper", N, "removelock", ...spec.packages.deny], {
            job: false,
            timeoutMs: 120_000,
          }),
        ],
  installed: (spec) => [step(spec, "list", "installed", RPM_QUERY, { env: { LC_ALL: "C" } })],
  versions: (spec, results) =>
    tabVersions(okResult(spec, zypper.installed(spec), results, "installed").stdout),
};
