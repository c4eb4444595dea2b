import type { NpmRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep } from "../contract.js";
import { allowed } from "../filter.js";
import { GLOBAL, namesIn, places } from "../projects.js";
import { located, okResult, step, toolAnswers, versionChanges } from "../steps.js";
import { parseNpmLs, parseNpmOutdated } from "./parsers.js";

/**
 * npm per project directory (`--prefix DIR`) or global (`-g`). semver: `npm update <names>` stays
 * within package.json ranges (to = wanted); latest: `npm install <name>@latest` (to = latest).
 * `npm outdated` exits 1 when something is outdated.
 */

const ENV = { NO_UPDATE_NOTIFIER: "1", npm_config_fund: "false", npm_config_audit: "false" };

const where = (place: string): string[] => (place === GLOBAL ? ["-g"] : ["--prefix", place]);

function installedSteps(spec: NpmRunner): RunnerStep[] {
  return places(spec).map((p, i) =>
    // npm ls exits 1 for extraneous or missing packages, and still prints the tree.
    step(spec, "list", `installed-${i}`, ["npm", "ls", "--json", "--depth=0", ...where(p)], {
      env: ENV,
      okExitCodes: [0, 1],
    }),
  );
}

export const npm: RunnerPlugin<NpmRunner> = {
  type: "npm",
  detect: (spec) => [step(spec, "detect", "detect", ["npm", "--version"], { env: ENV })],
  applies: (_s, _t, results) => toolAnswers(results),
  list: (spec) =>
    places(spec).map((p, i) =>
      step(spec, "list", `outdated-${i}`, ["npm", "outdated", "--json", "--long", ...where(p)], {
        env: ENV,
        okExitCodes: [0, 1],
      }),
    ),
  pending(spec, target, results) {
    const steps = npm.list(spec, target);
    const out: Change[] = [];
    places(spec).forEach((p, i) => {
      const rows = parseNpmOutdated(
        okResult(spec, steps, results, `outdated-${i}`).stdout,
        `npm outdated ${p}`,
      );
      for (const r of rows) {
        if (r.current === undefined || (spec.production && r.dev) || !allowed(spec.packages, r.name))
          continue;
        const to = spec.strategy === "latest" ? r.latest : r.wanted;
        if (to === undefined || to === r.current) continue;
        out.push({ package: located(p, r.name), from: r.current, to });
      }
    });
    return out;
  },
  hold: () => [],
  apply(spec, _t, pending) {
    const steps: RunnerStep[] = [];
    places(spec).forEach((p, i) => {
      const names = namesIn(pending, p);
      if (names.length === 0) return;
      const argv =
        spec.strategy === "latest"
          ? ["npm", "install", ...where(p), ...names.map((n) => `${n}@latest`)]
          : [
              "npm",
              "update",
              ...where(p),
              ...(spec.production && p !== GLOBAL ? ["--omit=dev"] : []),
              ...names,
            ];
      steps.push(step(spec, "apply", `update-${i}`, argv, { env: ENV }));
    });
    return steps;
  },
  release: () => [],
  installed: installedSteps,
  changes(spec, _t, before, after) {
    const steps = installedSteps(spec);
    const now = new Map<string, string>();
    places(spec).forEach((p, i) => {
      for (const [n, v] of parseNpmLs(okResult(spec, steps, after, `installed-${i}`).stdout, `npm ls ${p}`))
        now.set(located(p, n), v);
    });
    return versionChanges(before, now);
  },
};
