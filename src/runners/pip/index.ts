import type { PipRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep, StepResult } from "../contract.js";
import { allowed } from "../filter.js";
import { located, okResult, resultOf, splitLocated, step, versionChanges } from "../steps.js";
import { normalizeName, parseInstallReport, parsePipList } from "./parsers.js";

/**
 * pip in virtual environments (`<venv>/bin/pip`) and requirements files (`<python> -m pip … -r`).
 * System Python is never touched (the schema requires a venv or a requirements file). Pending
 * names are `<venv or file>:<name>`.
 */

const QUIET = { PIP_DISABLE_PIP_VERSION_CHECK: "1", PIP_NO_INPUT: "1" };

const pipOf = (venv: string): string => `${venv.replace(/\/+$/, "")}/bin/pip`;

function strategy(spec: PipRunner): string {
  return `--upgrade-strategy=${spec.upgradeStrategy}`;
}

function installedSteps(spec: PipRunner, prefix: string): RunnerStep[] {
  const steps = spec.venvs.map((v, i) =>
    step(spec, "list", `${prefix}-${i}`, [pipOf(v), "list", "--format=json"], { env: QUIET }),
  );
  if (spec.requirements.length > 0)
    steps.push(
      step(spec, "list", `${prefix}-python`, [spec.python, "-m", "pip", "list", "--format=json"], {
        env: QUIET,
      }),
    );
  return steps;
}

function versionsOf(
  spec: PipRunner,
  steps: RunnerStep[],
  results: readonly StepResult[],
  prefix: string,
): Map<string, string> {
  const out = new Map<string, string>();
  spec.venvs.forEach((v, i) => {
    const id = `${prefix}-${i}`;
    for (const r of parsePipList(okResult(spec, steps, results, id).stdout, `${pipOf(v)} list`))
      out.set(located(v, normalizeName(r.name)), r.version);
  });
  if (spec.requirements.length > 0) {
    const rows = parsePipList(
      okResult(spec, steps, results, `${prefix}-python`).stdout,
      `${spec.python} -m pip list`,
    );
    for (const file of spec.requirements)
      for (const r of rows) out.set(located(file, normalizeName(r.name)), r.version);
  }
  return out;
}

export const pip: RunnerPlugin<PipRunner> = {
  type: "pip",
  detect: (spec) => [
    ...spec.venvs.map((v, i) => step(spec, "detect", `venv-${i}`, [pipOf(v), "--version"], { env: QUIET })),
    ...(spec.requirements.length > 0
      ? [step(spec, "detect", "python", [spec.python, "-m", "pip", "--version"], { env: QUIET })]
      : []),
  ],
  // A venv that does not exist while another does is a misconfiguration its listing reports.
  applies: (_s, _t, results) => results.some((r) => r.exitCode === 0),
  list: (spec) => [
    ...spec.venvs.map((v, i) =>
      step(spec, "list", `outdated-${i}`, [pipOf(v), "list", "--outdated", "--format=json"], { env: QUIET }),
    ),
    ...spec.requirements.map((f, i) =>
      step(
        spec,
        "list",
        `report-${i}`,
        [
          spec.python,
          "-m",
          "pip",
          "install",
          "--dry-run",
          "--upgrade",
          strategy(spec),
          "--quiet",
          "--report",
          "-",
          "-r",
          f,
        ],
        { env: QUIET },
      ),
    ),
    ...(spec.requirements.length > 0 ? installedSteps(spec, "before").slice(spec.venvs.length) : []),
  ],
  pending(spec, _target, results) {
    const steps = pip.list(spec, _target);
    const out: Change[] = [];
    spec.venvs.forEach((v, i) => {
      const rows = parsePipList(
        okResult(spec, steps, results, `outdated-${i}`).stdout,
        `${pipOf(v)} list --outdated`,
      );
      for (const r of rows)
        if (r.latest !== undefined && allowed(spec.packages, normalizeName(r.name)))
          out.push({ package: located(v, normalizeName(r.name)), from: r.version, to: r.latest });
    });
    if (spec.requirements.length > 0) {
      const now = parsePipList(
        okResult(spec, steps, results, "before-python").stdout,
        `${spec.python} -m pip list`,
      );
      const have = new Map(now.map((r) => [normalizeName(r.name), r.version]));
      spec.requirements.forEach((f, i) => {
        const report = parseInstallReport(
          resultOf(spec, results, `report-${i}`).stdout,
          `pip install --dry-run -r ${f}`,
        );
        for (const r of report) {
          const name = normalizeName(r.name);
          if (!allowed(spec.packages, name)) continue;
          const from = have.get(name);
          out.push(
            from === undefined
              ? { package: located(f, name), to: r.version }
              : { package: located(f, name), from, to: r.version },
          );
        }
      });
    }
    return out;
  },
  hold: () => [],
  apply(spec, _target, pending) {
    const steps: RunnerStep[] = [];
    spec.venvs.forEach((v, i) => {
      const names = pending
        .map((p) => splitLocated(p.package))
        .filter((p) => p.place === v)
        .map((p) => p.name);
      if (names.length > 0)
        steps.push(
          step(spec, "apply", `upgrade-${i}`, [pipOf(v), "install", "--upgrade", strategy(spec), ...names], {
            env: QUIET,
          }),
        );
    });
    spec.requirements.forEach((f, i) => {
      if (!pending.some((p) => splitLocated(p.package).place === f)) return;
      steps.push(
        step(
          spec,
          "apply",
          `requirements-${i}`,
          [spec.python, "-m", "pip", "install", "--upgrade", strategy(spec), "-r", f],
          {
            env: QUIET,
          },
        ),
      );
    });
    return steps;
  },
  release: () => [],
  installed: (spec) => installedSteps(spec, "installed"),
  changes: (spec, _t, before, after) =>
    versionChanges(before, versionsOf(spec, installedSteps(spec, "installed"), after, "installed")),
};
