import type { HelmRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep, StepResult } from "../contract.js";
import { okResult, runnerTimeoutMs, step, toolAnswers } from "../steps.js";
import { chartVersion, parseChartYaml, parseHelmList } from "./parsers.js";

/**
 * Helm releases, in order, with `helm upgrade --install` (so a release that is gone is installed
 * again rather than failing). Names are `<namespace>/<release>`, versions chart versions: installed
 * from `helm list`, target from `helm show chart` of the spec's chart (and version constraint).
 */

function kube(spec: HelmRunner): string[] {
  return spec.kubeconfig ? ["--kubeconfig", spec.kubeconfig] : [];
}

const releasesStep = (spec: HelmRunner, id: string): RunnerStep =>
  step(spec, "list", id, ["helm", "list", "--all-namespaces", "--output", "json", ...kube(spec)]);

function installedCharts(spec: HelmRunner, r: StepResult): Map<string, string> {
  return new Map(parseHelmList(r.stdout).map((x) => [`${x.namespace}/${x.name}`, x.chart]));
}

export const helm: RunnerPlugin<HelmRunner> = {
  type: "helm",
  detect: (spec) => [step(spec, "detect", "detect", ["helm", "version", "--short"])],
  applies: (_s, _t, r) => toolAnswers(r),
  refresh: (spec) => (spec.repoUpdate ? [step(spec, "list", "repo-update", ["helm", "repo", "update"])] : []),
  list: (spec) => [
    releasesStep(spec, "releases"),
    ...spec.releases.map((r, i) =>
      step(spec, "list", `chart-${i}`, [
        "helm",
        "show",
        "chart",
        r.chart,
        ...(r.version ? ["--version", r.version] : []),
      ]),
    ),
  ],
  pending(spec, t, results) {
    const steps = helm.list(spec, t);
    const have = installedCharts(spec, okResult(spec, steps, results, "releases"));
    const out: Change[] = [];
    spec.releases.forEach((r, i) => {
      const chart = parseChartYaml(
        okResult(spec, steps, results, `chart-${i}`).stdout,
        `helm show chart ${r.chart}`,
      );
      const key = `${r.namespace}/${r.name}`;
      const field = have.get(key);
      const from = field === undefined ? undefined : chartVersion(field, chart.name);
      if (from === chart.version) return;
      out.push(
        from === undefined ? { package: key, to: chart.version } : { package: key, from, to: chart.version },
      );
    });
    return out;
  },
  hold: () => [],
  apply(spec, _t, pending) {
    const seconds = Math.max(60, Math.floor(runnerTimeoutMs(spec) / 1000 / Math.max(1, pending.length)) - 30);
    return spec.releases.flatMap((r, i) => {
      if (!pending.some((p) => p.package === `${r.namespace}/${r.name}`)) return [];
      const argv = [
        "helm",
        "upgrade",
        "--install",
        r.name,
        r.chart,
        "--namespace",
        r.namespace,
        ...(r.version ? ["--version", r.version] : []),
        ...(spec.reuseValues ? ["--reuse-values"] : []),
        ...(spec.atomic ? ["--atomic"] : []),
        "--timeout",
        `${seconds}s`,
        ...kube(spec),
      ];
      return [step(spec, "apply", `upgrade-${i}`, argv)];
    });
  },
  release: () => [],
  installed: (spec) => [releasesStep(spec, "installed")],
  changes(spec, _t, before, after) {
    const have = installedCharts(spec, okResult(spec, [releasesStep(spec, "installed")], after, "installed"));
    return before.flatMap((p): Change[] => {
      const field = have.get(p.package);
      // The chart name is the part of `chart` before the version it moved to (or came from).
      const moved = field !== undefined && p.to !== undefined && field.endsWith(`-${p.to}`);
      if (!moved) return [];
      return [
        p.from === undefined
          ? { package: p.package, to: p.to! }
          : { package: p.package, from: p.from, to: p.to! },
      ];
    });
  },
};
