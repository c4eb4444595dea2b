import type { SnapRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed } from "../filter.js";
import { okResult, step, toolAnswers, versionChanges } from "../steps.js";

/**
 * snapd. `snap refresh --list` prints `Name Version Rev Size Publisher Notes` rows (the new
 * versions) or "All snaps up to date." on stderr; `snap list` prints `Name Version Rev Tracking
 * Publisher Notes` (snapd cmd/snap/cmd_refresh.go listRefresh, cmd_list.go). Only the pending snaps
 * are named to `snap refresh`, so a denied one is skipped.
 */

export function parseSnapTable(text: string, command: string): Map<string, string> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const out = new Map<string, string>();
  if (lines.length === 0) return out;
  if (!/^Name\s+Version\s/.test(lines[0]!))
    throw new ParseError("snap", command, text, "no `Name Version …` header");
  for (const l of lines.slice(1)) {
    const [name, version] = l.trim().split(/\s+/);
    if (name && version) out.set(name, version);
  }
  return out;
}

export const snap: RunnerPlugin<SnapRunner> = {
  type: "snap",
  detect: (spec) => [step(spec, "detect", "detect", ["snap", "version"])],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) => [
    step(spec, "list", "refresh-list", ["snap", "refresh", "--list"], { env: { LC_ALL: "C" } }),
    step(spec, "list", "before", ["snap", "list"], { env: { LC_ALL: "C" } }),
  ],
  pending(spec, t, results) {
    const steps = snap.list(spec, t);
    const next = parseSnapTable(okResult(spec, steps, results, "refresh-list").stdout, "snap refresh --list");
    const now = parseSnapTable(okResult(spec, steps, results, "before").stdout, "snap list");
    return [...next]
      .filter(([n]) => allowed(spec.packages, n))
      .map(([n, to]): Change => {
        const from = now.get(n);
        return from === undefined ? { package: n, to } : { package: n, from, to };
      });
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    pending.length === 0
      ? []
      : [step(spec, "apply", "refresh", ["snap", "refresh", ...pending.map((p) => p.package)])],
  release: () => [],
  installed: (spec) => [step(spec, "list", "installed", ["snap", "list"], { env: { LC_ALL: "C" } })],
  changes: (spec, _t, before, after) =>
    versionChanges(
      before,
      parseSnapTable(okResult(spec, snap.installed(spec, _t), after, "installed").stdout, "snap list"),
    ),
};
