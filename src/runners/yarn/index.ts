import type { YarnRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep } from "../contract.js";
import { ParseError, RunnerReason } from "../errors.js";
import { TerminalError } from "../../errors.js";
import { allowed } from "../filter.js";
import { isRecord, parseJson, str } from "../json.js";
import { namesIn, places, GLOBAL } from "../projects.js";
import { located, okResult, step, toolAnswers, versionChanges } from "../steps.js";

/**
 * yarn classic (1.x) per project (`--cwd DIR`). `yarn outdated --json` prints JSON lines; the
 * `{"type":"table","data":{"head":[Package, Current, Wanted, Latest, Package Type, URL],"body":[…]}}`
 * line holds the rows, and it exits 1 when something is outdated (yarn src/cli/commands/outdated.js).
 * `yarn list --depth=0 --json`: `{"type":"tree","data":{"trees":[{"name":"pkg@1.2.3"}]}}`.
 */

export function parseYarnOutdated(
  text: string,
): { name: string; current: string; wanted: string; latest: string; type: string }[] {
  const cmd = "yarn outdated --json";
  for (const line of text.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    const d = parseJson("yarn", cmd, line);
    if (!isRecord(d) || d.type !== "table" || !isRecord(d.data)) continue;
    const head = Array.isArray(d.data.head) ? d.data.head.map(String) : [];
    const col = (t: string): number => head.indexOf(t);
    if (!Array.isArray(d.data.body) || col("Package") < 0)
      throw new ParseError("yarn", cmd, line, "the table has no Package column");
    return d.data.body.map((row) => {
      const r = Array.isArray(row) ? row.map(String) : [];
      return {
        name: r[col("Package")] ?? "",
        current: r[col("Current")] ?? "",
        wanted: r[col("Wanted")] ?? "",
        latest: r[col("Latest")] ?? "",
        type: r[col("Package Type")] ?? "",
      };
    });
  }
  return [];
}

export function parseYarnList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    const d = parseJson("yarn", "yarn list --json", line);
    if (!isRecord(d) || d.type !== "tree" || !isRecord(d.data) || !Array.isArray(d.data.trees)) continue;
    for (const t of d.data.trees) {
      const full = isRecord(t) ? str(t.name) : undefined;
      const at = full ? full.lastIndexOf("@") : -1;
      if (full && at > 0) out.set(full.slice(0, at), full.slice(at + 1));
    }
  }
  return out;
}

function projectsOnly(spec: YarnRunner): string[] {
  if (spec.scope === "global")
    throw new TerminalError(
      RunnerReason.StepFailed,
      "yarn classic cannot list outdated global packages; use an npm runner with scope global instead.",
    );
  return places(spec).filter((p) => p !== GLOBAL);
}

const installedSteps = (spec: YarnRunner): RunnerStep[] =>
  projectsOnly(spec).map((p, i) =>
    step(spec, "list", `installed-${i}`, [
      "yarn",
      "--cwd",
      p,
      "list",
      "--depth=0",
      "--json",
      "--non-interactive",
    ]),
  );

export const yarn: RunnerPlugin<YarnRunner> = {
  type: "yarn",
  detect: (spec) => [step(spec, "detect", "detect", ["yarn", "--version"])],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) =>
    projectsOnly(spec).map((p, i) =>
      step(spec, "list", `outdated-${i}`, ["yarn", "--cwd", p, "outdated", "--json", "--non-interactive"], {
        okExitCodes: [0, 1],
      }),
    ),
  pending(spec, t, results) {
    const steps = yarn.list(spec, t);
    const out: Change[] = [];
    projectsOnly(spec).forEach((p, i) => {
      for (const r of parseYarnOutdated(okResult(spec, steps, results, `outdated-${i}`).stdout)) {
        if ((spec.production && r.type === "devDependencies") || !allowed(spec.packages, r.name)) continue;
        const to = spec.strategy === "latest" ? r.latest : r.wanted;
        if (to && to !== r.current) out.push({ package: located(p, r.name), from: r.current, to });
      }
    });
    return out;
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    projectsOnly(spec).flatMap((p, i) => {
      const names = namesIn(pending, p);
      return names.length === 0
        ? []
        : [
            step(spec, "apply", `upgrade-${i}`, [
              "yarn",
              "--cwd",
              p,
              "upgrade",
              "--non-interactive",
              ...(spec.strategy === "latest" ? ["--latest"] : []),
              ...names,
            ]),
          ];
    }),
  release: () => [],
  installed: installedSteps,
  changes(spec, _t, before, after) {
    const now = new Map<string, string>();
    projectsOnly(spec).forEach((p, i) => {
      for (const [n, v] of parseYarnList(
        okResult(spec, installedSteps(spec), after, `installed-${i}`).stdout,
      ))
        now.set(located(p, n), v);
    });
    return versionChanges(before, now);
  },
};
