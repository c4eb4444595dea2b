import type { GemRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep, StepResult } from "../contract.js";
import { allowed } from "../filter.js";
import { GLOBAL, namesIn, places } from "../projects.js";
import { located, okResult, step, toolAnswers, versionChanges } from "../steps.js";
import { parseBundleList, parseBundleOutdated, parseGemList, parseGemOutdated } from "./parsers.js";

/**
 * Ruby: per project with Bundler (the Gemfile chosen by BUNDLE_GEMFILE, so no working directory is
 * needed) or the global gems with `gem`. `--strict` lists only versions the Gemfile allows, which is
 * where `bundle update` goes.
 */

const gemfile = (dir: string) => ({ BUNDLE_GEMFILE: `${dir.replace(/\/+$/, "")}/Gemfile` });

function listStep(
  spec: GemRunner,
  p: string,
  i: number,
  prefix: string,
  what: "outdated" | "installed",
): RunnerStep {
  if (p === GLOBAL)
    return what === "outdated"
      ? step(spec, "list", `${prefix}-${i}`, ["gem", "outdated"])
      : step(spec, "list", `${prefix}-${i}`, ["gem", "list", "--local"]);
  return what === "outdated"
    ? step(spec, "list", `${prefix}-${i}`, ["bundle", "outdated", "--parseable", "--strict"], {
        env: gemfile(p),
        okExitCodes: [0, 1],
      })
    : step(spec, "list", `${prefix}-${i}`, ["bundle", "list"], { env: gemfile(p) });
}

const installedSteps = (spec: GemRunner): RunnerStep[] =>
  places(spec).map((p, i) => listStep(spec, p, i, "installed", "installed"));

function versions(spec: GemRunner, after: readonly StepResult[]): Map<string, string> {
  const steps = installedSteps(spec);
  const now = new Map<string, string>();
  places(spec).forEach((p, i) => {
    const text = okResult(spec, steps, after, `installed-${i}`).stdout;
    for (const [n, v] of p === GLOBAL ? parseGemList(text) : parseBundleList(text)) now.set(located(p, n), v);
  });
  return now;
}

export const gem: RunnerPlugin<GemRunner> = {
  type: "gem",
  detect: (spec) => [
    step(spec, "detect", "detect", spec.scope === "global" ? ["gem", "--version"] : ["bundle", "--version"]),
  ],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) => places(spec).map((p, i) => listStep(spec, p, i, "outdated", "outdated")),
  pending(spec, t, results) {
    const steps = gem.list(spec, t);
    const out: Change[] = [];
    places(spec).forEach((p, i) => {
      const text = okResult(spec, steps, results, `outdated-${i}`).stdout;
      for (const r of p === GLOBAL ? parseGemOutdated(text) : parseBundleOutdated(text))
        if (allowed(spec.packages, r.name)) out.push({ package: located(p, r.name), from: r.from, to: r.to });
    });
    return out;
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    places(spec).flatMap((p, i) => {
      const names = namesIn(pending, p);
      if (names.length === 0) return [];
      if (p === GLOBAL)
        return [step(spec, "apply", `update-${i}`, ["gem", "update", "--no-document", ...names])];
      const argv = ["bundle", "update", ...(spec.conservative ? ["--conservative"] : []), ...names];
      return [step(spec, "apply", `update-${i}`, argv, { env: gemfile(p) })];
    }),
  release: () => [],
  installed: installedSteps,
  changes: (spec, _t, before, after) => versionChanges(before, versions(spec, after)),
};
