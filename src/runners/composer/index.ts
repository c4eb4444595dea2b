import type { ComposerRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed, restricts } from "../filter.js";
import { isRecord, parseJson, str } from "../json.js";
import { namesIn } from "../projects.js";
import { located, okResult, step, toolAnswers, versionChanges } from "../steps.js";

/**
 * composer per project (`--working-dir DIR`). `composer outdated --direct --format=json`:
 * `{"installed":[{name, version, latest, "latest-status", …}]}` where latest-status is
 * `semver-safe-update` (within the constraints: what `composer update` installs), `update-possible`
 * (a new major outside them) or `up-to-date` (composer src/Composer/Command/ShowCommand.php).
 * Only semver-safe updates are pending. `composer show --direct --format=json` lists what is installed.
 */

export function parseComposerPackages(
  text: string,
  command: string,
): { name: string; version: string; latest?: string; status?: string }[] {
  const d = parseJson("composer", command, text, { installed: [] });
  if (!isRecord(d) || !Array.isArray(d.installed))
    throw new ParseError("composer", command, text, "no `installed` list");
  return d.installed.map((p) => {
    const name = isRecord(p) ? str(p.name) : undefined;
    const version = isRecord(p) ? str(p.version) : undefined;
    if (!isRecord(p) || !name || !version)
      throw new ParseError("composer", command, text, "a package has no name or version");
    const row: { name: string; version: string; latest?: string; status?: string } = { name, version };
    const latest = str(p.latest);
    const status = str(p["latest-status"]);
    if (latest) row.latest = latest;
    if (status) row.status = status;
    return row;
  });
}

// Root in a container is the normal case; without this composer asks whether to continue as root.
const ENV = { COMPOSER_ALLOW_SUPERUSER: "1", COMPOSER_NO_INTERACTION: "1" };
const dir = (d: string): string[] => ["--working-dir", d, "--no-interaction", "--no-ansi"];
const installedSteps = (spec: ComposerRunner): RunnerStep[] =>
  spec.projects.map((d, i) =>
    step(spec, "list", `installed-${i}`, ["composer", "show", "--direct", "--format=json", ...dir(d)], {
      env: ENV,
    }),
  );

export const composer: RunnerPlugin<ComposerRunner> = {
  type: "composer",
  detect: (spec) => [step(spec, "detect", "detect", ["composer", "--version", "--no-ansi"], { env: ENV })],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) =>
    spec.projects.map((d, i) =>
      step(
        spec,
        "list",
        `outdated-${i}`,
        ["composer", "outdated", "--direct", "--format=json", ...(spec.noDev ? ["--no-dev"] : []), ...dir(d)],
        { env: ENV },
      ),
    ),
  pending(spec, t, results) {
    const steps = composer.list(spec, t);
    const out: Change[] = [];
    spec.projects.forEach((d, i) => {
      for (const p of parseComposerPackages(
        okResult(spec, steps, results, `outdated-${i}`).stdout,
        `composer outdated (${d})`,
      ))
        if (p.status === "semver-safe-update" && p.latest && allowed(spec.packages, p.name))
          out.push({ package: located(d, p.name), from: p.version, to: p.latest });
    });
    return out;
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    spec.projects.flatMap((d, i) => {
      const names = namesIn(pending, d);
      if (names.length === 0) return [];
      const argv = [
        "composer",
        "update",
        ...(spec.noDev ? ["--no-dev"] : []),
        "--with-dependencies",
        ...dir(d),
        ...(restricts(spec.packages) ? names : []),
      ];
      return [step(spec, "apply", `update-${i}`, argv, { env: ENV })];
    }),
  release: () => [],
  installed: installedSteps,
  changes(spec, _t, before, after) {
    const now = new Map<string, string>();
    spec.projects.forEach((d, i) => {
      for (const p of parseComposerPackages(
        okResult(spec, installedSteps(spec), after, `installed-${i}`).stdout,
        `composer show (${d})`,
      ))
        now.set(located(d, p.name), p.version);
    });
    return versionChanges(before, now);
  },
};
