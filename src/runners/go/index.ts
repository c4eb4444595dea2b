import type { GoRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep } from "../contract.js";
import { okResult, step, toolAnswers, versionChanges } from "../steps.js";
import { parseGoListLatest, parseGoVersionM } from "./parsers.js";

/**
 * Go binaries reinstalled with `go install <path>@latest`. Installed versions come from the build
 * info of the binaries in the bin directory (`go version -m`), the newest from `go list -m -json
 * <path>@latest`, which answers for module roots; for a package deeper in a module it fails and the
 * target stays unknown (the binary is reinstalled all the same). Names are the package paths.
 */

function binDir(spec: GoRunner): string {
  if (spec.gobin) return spec.gobin;
  const home =
    spec.user === undefined || spec.user === "root" || spec.user === "0" ? "/root" : `/home/${spec.user}`;
  return `${home}/go/bin`;
}

const ENV = { GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" };
const binaries = (spec: GoRunner, id: string): RunnerStep =>
  // Exit 1 when the directory has no Go binaries yet (nothing installed): every module is new.
  step(spec, "list", id, ["go", "version", "-m", binDir(spec)], { okExitCodes: [0, 1], env: ENV });

function installedVersions(text: string): Map<string, string> {
  return new Map(parseGoVersionM(text).map((b) => [b.path, b.version]));
}

export const go: RunnerPlugin<GoRunner> = {
  type: "go",
  detect: (spec) => [step(spec, "detect", "detect", ["go", "version"], { env: ENV })],
  applies: (_s, _t, r) => toolAnswers(r),
  list: (spec) => [
    binaries(spec, "binaries"),
    ...spec.modules.map((m, i) =>
      step(spec, "list", `latest-${i}`, ["go", "list", "-m", "-json", `${m}@latest`], {
        okExitCodes: [0, 1],
        env: ENV,
      }),
    ),
  ],
  pending(spec, t, results) {
    const steps = go.list(spec, t);
    const have = installedVersions(okResult(spec, steps, results, "binaries").stdout);
    const out: Change[] = [];
    spec.modules.forEach((m, i) => {
      const r = okResult(spec, steps, results, `latest-${i}`);
      const to = r.exitCode === 0 ? parseGoListLatest(r.stdout) : undefined;
      const from = have.get(m);
      if (from !== undefined && from === to) return;
      const c: Change = { package: m };
      if (from !== undefined) c.from = from;
      if (to !== undefined) c.to = to;
      out.push(c);
    });
    return out;
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    pending.map((p, i) =>
      step(spec, "apply", `install-${i}`, ["go", "install", `${p.package}@latest`], {
        env: { ...ENV, ...(spec.gobin ? { GOBIN: spec.gobin } : {}) },
      }),
    ),
  release: () => [],
  installed: (spec) => [binaries(spec, "installed")],
  changes: (spec, _t, before, after) =>
    versionChanges(
      before,
      installedVersions(okResult(spec, [binaries(spec, "installed")], after, "installed").stdout),
    ),
};
