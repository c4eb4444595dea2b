import type { Change } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed, restricts } from "../filter.js";
import { okResult, step } from "../steps.js";
import type { OsManager } from "./manager.js";

/**
 * apk (Alpine). `apk list -u` prints `name-ver arch {origin} (license) [upgradable from: name-old]`
 * and `apk list -I` the same with `[installed]` (apk-tools src/app_list.c print_package). apk has no
 * hold for a run short of pinning versions in /etc/apk/world, so a filtered run names the packages
 * it may upgrade (`apk upgrade pkg…` upgrades only those) and skips the rest.
 */

/** Splits `busybox-1.36.1-r15`: apk versions start at the last `-<digit>` before the `-rN` release. */
export function splitNameVersion(full: string): { name: string; version: string } | undefined {
  const m = /^(.+?)-(\d[^-]*(?:-r\d+)?)$/.exec(full);
  return m?.[1] && m[2] ? { name: m[1], version: m[2] } : undefined;
}

const ROW = /^(\S+) \S+ \{[^}]*\} \([^)]*\) \[(.+)\]$/;

export function parseApkList(
  text: string,
  command: string,
): { name: string; version: string; tag: string }[] {
  const out: { name: string; version: string; tag: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("WARNING") || line.startsWith("fetch ")) continue;
    const m = ROW.exec(line.trim());
    const nv = m?.[1] ? splitNameVersion(m[1]) : undefined;
    if (!m?.[2] || !nv)
      throw new ParseError(
        "os",
        command,
        line,
        "a row is not `name-version arch {origin} (license) [state]`",
      );
    out.push({ ...nv, tag: m[2] });
  }
  return out;
}

export const apk: OsManager = {
  tool: "apk",
  refresh: (spec) => [step(spec, "list", "update", ["apk", "update"])],
  list: (spec) => [step(spec, "list", "upgradable", ["apk", "list", "-u"])],
  pending(spec, results) {
    const steps = apk.list(spec);
    const rows = parseApkList(okResult(spec, steps, results, "upgradable").stdout, "apk list -u");
    return rows
      .filter((r) => allowed(spec.packages, r.name))
      .map((r): Change => {
        const from = /^upgradable from: (\S+)$/.exec(r.tag)?.[1];
        const old = from ? splitNameVersion(from)?.version : undefined;
        return old === undefined
          ? { package: r.name, to: r.version }
          : { package: r.name, from: old, to: r.version };
      });
  },
  hold: () => [],
  apply(spec, pending) {
    if (pending.length === 0) return [];
    const names = restricts(spec.packages) ? pending.map((p) => p.package) : [];
    return [
      step(spec, "apply", "upgrade", [
        "apk",
        "upgrade",
        ...(spec.upgrade === "full" ? ["--available"] : []),
        ...names,
      ]),
    ];
  },
  release: () => [],
  installed: (spec) => [step(spec, "list", "installed", ["apk", "list", "-I"])],
  versions(spec, results) {
    const rows = parseApkList(
      okResult(spec, apk.installed(spec), results, "installed").stdout,
      "apk list -I",
    );
    return new Map(rows.map((r) => [r.name, r.version]));
  },
};
