import type { FlatpakRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin } from "../contract.js";
import { allowed } from "../filter.js";
import { okResult, step, toolAnswers, versionChanges } from "../steps.js";

/**
 * Flatpak apps and runtimes of one installation. With `--columns` and no terminal, flatpak prints
 * tab-separated rows (flatpak app/flatpak-table-printer.c); some builds print a title row, skipped
 * here. The version column is empty for many runtimes, so the commit (first 12 characters) stands
 * in: an update always changes it.
 */

export function parseFlatpakRows(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || /^Application( ID)?\t/.test(line)) continue;
    const [app, version, commit] = line.split("\t").map((c) => c.trim());
    if (!app) continue;
    out.set(app, version || (commit ?? "").slice(0, 12));
  }
  return out;
}

export const flatpak: RunnerPlugin<FlatpakRunner> = {
  type: "flatpak",
  detect: (spec) => [step(spec, "detect", "detect", ["flatpak", "--version"])],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) => [
    step(spec, "list", "updates", [
      "flatpak",
      "remote-ls",
      "--updates",
      `--${spec.installation}`,
      "--columns=application,version,commit",
    ]),
    step(spec, "list", "before", [
      "flatpak",
      "list",
      `--${spec.installation}`,
      "--columns=application,version,active",
    ]),
  ],
  pending(spec, t, results) {
    const steps = flatpak.list(spec, t);
    const next = parseFlatpakRows(okResult(spec, steps, results, "updates").stdout);
    const now = parseFlatpakRows(okResult(spec, steps, results, "before").stdout);
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
      : [
          step(spec, "apply", "update", [
            "flatpak",
            "update",
            "-y",
            "--noninteractive",
            `--${spec.installation}`,
            ...pending.map((p) => p.package),
          ]),
        ],
  release: () => [],
  installed: (spec) => [
    step(spec, "list", "installed", [
      "flatpak",
      "list",
      `--${spec.installation}`,
      "--columns=application,version,active",
    ]),
  ],
  changes: (spec, t, before, after) =>
    versionChanges(
      before,
      parseFlatpakRows(okResult(spec, flatpak.installed(spec, t), after, "installed").stdout),
    ),
};
