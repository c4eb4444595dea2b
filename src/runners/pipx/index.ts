import type { PipxRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin } from "../contract.js";
import { ParseError } from "../errors.js";
import { allowed, restricts } from "../filter.js";
import { isRecord, parseJson, str } from "../json.js";
import { okResult, step, toolAnswers, versionChanges } from "../steps.js";

/**
 * pipx: every application in its own venv. `pipx list --json` (pipx src/pipx/commands/list.py,
 * pipx_spec_version 0.1) gives `venvs.<name>.metadata.main_package.package_version`. pipx cannot
 * tell what is outdated without upgrading, so every allowed application is pending with an unknown
 * target and the changes are read from a second listing.
 */

export function parsePipxList(text: string): Map<string, string> {
  const cmd = "pipx list --json";
  const data = parseJson("pipx", cmd, text);
  if (!isRecord(data) || !isRecord(data.venvs)) throw new ParseError("pipx", cmd, text, "no `venvs` object");
  const out = new Map<string, string>();
  for (const [name, v] of Object.entries(data.venvs)) {
    const main =
      isRecord(v) && isRecord(v.metadata) && isRecord(v.metadata.main_package)
        ? v.metadata.main_package
        : undefined;
    const version = main ? str(main.package_version) : undefined;
    if (!version) throw new ParseError("pipx", cmd, text, `venv ${name} has no main_package.package_version`);
    out.set(name, version);
  }
  return out;
}

const ENV = { PIP_DISABLE_PIP_VERSION_CHECK: "1" };
const listing = (spec: PipxRunner, id: string) => [
  step(spec, "list", id, ["pipx", "list", "--json"], { env: ENV }),
];

export const pipx: RunnerPlugin<PipxRunner> = {
  type: "pipx",
  detect: (spec) => [step(spec, "detect", "detect", ["pipx", "--version"])],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) => listing(spec, "list"),
  pending: (spec, _t, results) =>
    [...parsePipxList(okResult(spec, listing(spec, "list"), results, "list").stdout)]
      .filter(([n]) => allowed(spec.packages, n))
      .map(([n, v]): Change => ({ package: n, from: v })),
  hold: () => [],
  apply(spec, _t, pending) {
    if (pending.length === 0) return [];
    const injected = spec.includeInjected ? ["--include-injected"] : [];
    if (!restricts(spec.packages))
      return [step(spec, "apply", "upgrade-all", ["pipx", "upgrade-all", ...injected], { env: ENV })];
    return pending.map((p, i) =>
      step(spec, "apply", `upgrade-${i}`, ["pipx", "upgrade", ...injected, p.package], { env: ENV }),
    );
  },
  release: () => [],
  installed: (spec) => listing(spec, "installed"),
  changes: (spec, _t, before, after) =>
    versionChanges(
      before,
      parsePipxList(okResult(spec, listing(spec, "installed"), after, "installed").stdout),
    ),
};
