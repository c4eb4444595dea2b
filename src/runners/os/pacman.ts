import type { Change } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed } from "../filter.js";
import { okResult, step } from "../steps.js";
import type { OsManager } from "./manager.js";

/**
 * pacman (Arch). `pacman -Qu` prints `name old -> new` (and ` [ignored]` for IgnorePkg) and exits 1
 * when nothing is upgradable (pacman src/pacman/query.c). Arch does not support partial upgrades, so
 * the run is always `-Su`; what must not move is `--ignore`d (comma-separated, globs allowed, as in
 * IgnorePkg), and with an allow list every pending package not allowed is ignored too.
 */

const ROW = /^(\S+) (\S+) -> (\S+)( \[ignored\])?$/;

export function parseQueryUpgrades(text: string): { name: string; from: string; to: string }[] {
  const out: { name: string; from: string; to: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = ROW.exec(line.trim());
    if (!m?.[1] || !m[2] || !m[3])
      throw new ParseError("os", "pacman -Qu", line, "a row is not `name old -> new`");
    if (m[4]) continue;
    out.push({ name: m[1], from: m[2], to: m[3] });
  }
  return out;
}

export function parseQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const [name, version] = line.trim().split(/\s+/);
    if (name && version) out.set(name, version);
  }
  return out;
}

export const pacman: OsManager = {
  tool: "pacman",
  refresh: (spec) => [step(spec, "list", "sync", ["pacman", "-Sy", "--noconfirm"])],
  list: (spec) => [step(spec, "list", "upgradable", ["pacman", "-Qu"], { okExitCodes: [0, 1] })],
  pending(spec, results) {
    const steps = pacman.list(spec);
    return parseQueryUpgrades(okResult(spec, steps, results, "upgradable").stdout)
      .filter((r) => allowed(spec.packages, r.name))
      .map((r): Change => ({ package: r.name, from: r.from, to: r.to }));
  },
  hold: () => [],
  apply(spec, pending) {
    if (pending.length === 0) return [];
    const names = new Set(pending.map((p) => p.package));
    // Everything upgradable that is not in the pending list is ignored: the listing was filtered.
    const ignore = [...spec.packages.deny];
    if (spec.packages.allow.length > 0) ignore.push("*");
    const args = ignore.length > 0 ? ["--ignore", ignore.join(",")] : [];
    // With an allow list, `-S name…` names what may move inside the full upgrade (`--needed` keeps the rest).
    const named = spec.packages.allow.length > 0 ? ["--needed", ...names] : [];
    return [step(spec, "apply", "upgrade", ["pacman", "-Syu", "--noconfirm", ...args, ...named])];
  },
  release: () => [],
  installed: (spec) => [step(spec, "list", "installed", ["pacman", "-Q"])],
  versions: (spec, results) =>
    parseQuery(okResult(spec, pacman.installed(spec), results, "installed").stdout),
};
