import type { PnpmRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed } from "../filter.js";
import { isRecord, parseJson, str } from "../json.js";
import { GLOBAL, namesIn, places } from "../projects.js";
import { located, okResult, step, toolAnswers, versionChanges } from "../steps.js";

/**
 * pnpm per project (`--dir DIR`) or global (`-g`). `pnpm outdated --format json`: `{name: {current,
 * wanted, latest, dependencyType, isDeprecated}}`, exit 1 when outdated (pnpm
 * reviewing/outdated renderOutdatedJSON). `pnpm list --json --depth=0`: `[{name, path,
 * dependencies: {name: {version}}, devDependencies: {…}}]`.
 */

export function parsePnpmOutdated(
  text: string,
): { name: string; current?: string; wanted?: string; latest?: string; dev: boolean }[] {
  const cmd = "pnpm outdated --format json";
  const d = parseJson("pnpm", cmd, text, {});
  if (!isRecord(d)) throw new ParseError("pnpm", cmd, text, "it is not a JSON object");
  return Object.entries(d).map(([name, v]) => {
    const r = isRecord(v) ? v : {};
    const row: { name: string; current?: string; wanted?: string; latest?: string; dev: boolean } = {
      name,
      dev: r.dependencyType === "devDependencies",
    };
    const [c, w, l] = [str(r.current), str(r.wanted), str(r.latest)];
    if (c) row.current = c;
    if (w) row.wanted = w;
    if (l) row.latest = l;
    return row;
  });
}

export function parsePnpmList(text: string): Map<string, string> {
  const cmd = "pnpm list --json";
  const d = parseJson("pnpm", cmd, text, []);
  if (!Array.isArray(d)) throw new ParseError("pnpm", cmd, text, "it is not a JSON array");
  const out = new Map<string, string>();
  for (const proj of d) {
    if (!isRecord(proj)) continue;
    for (const key of ["dependencies", "devDependencies", "optionalDependencies"]) {
      const deps = proj[key];
      if (!isRecord(deps)) continue;
      for (const [n, info] of Object.entries(deps)) {
        const v = isRecord(info) ? str(info.version) : undefined;
        if (v) out.set(n, v);
      }
    }
  }
  return out;
}

const where = (p: string): string[] => (p === GLOBAL ? ["-g"] : ["--dir", p]);
const installedSteps = (spec: PnpmRunner): RunnerStep[] =>
  places(spec).map((p, i) =>
    step(spec, "list", `installed-${i}`, ["pnpm", "list", ...where(p), "--json", "--depth=0"]),
  );

export const pnpm: RunnerPlugin<PnpmRunner> = {
  type: "pnpm",
  detect: (spec) => [step(spec, "detect", "detect", ["pnpm", "--version"])],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) =>
    places(spec).map((p, i) =>
      step(
        spec,
        "list",
        `outdated-${i}`,
        ["pnpm", "outdated", ...where(p), "--format", "json", ...(spec.production ? ["--prod"] : [])],
        {
          okExitCodes: [0, 1],
        },
      ),
    ),
  pending(spec, t, results) {
    const steps = pnpm.list(spec, t);
    const out: Change[] = [];
    places(spec).forEach((p, i) => {
      for (const r of parsePnpmOutdated(okResult(spec, steps, results, `outdated-${i}`).stdout)) {
        if (r.current === undefined || (spec.production && r.dev) || !allowed(spec.packages, r.name))
          continue;
        const to = spec.strategy === "latest" ? r.latest : r.wanted;
        if (to && to !== r.current) out.push({ package: located(p, r.name), from: r.current, to });
      }
    });
    return out;
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    places(spec).flatMap((p, i) => {
      const names = namesIn(pending, p);
      const flags = [
        ...(spec.production && p !== GLOBAL ? ["--prod"] : []),
        ...(spec.strategy === "latest" ? ["--latest"] : []),
      ];
      return names.length === 0
        ? []
        : [step(spec, "apply", `update-${i}`, ["pnpm", "update", ...where(p), ...flags, ...names])];
    }),
  release: () => [],
  installed: installedSteps,
  changes(spec, _t, before, after) {
    const now = new Map<string, string>();
    places(spec).forEach((p, i) => {
      for (const [n, v] of parsePnpmList(
        okResult(spec, installedSteps(spec), after, `installed-${i}`).stdout,
      ))
        now.set(located(p, n), v);
    });
    return versionChanges(before, now);
  },
};
