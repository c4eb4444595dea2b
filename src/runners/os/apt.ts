import type { OsRunner } from "../../api/runners.js";
import { runnerName } from "../../api/runners.js";
import { aptUpdateFailures, parseAptSimulation, UPGRADE_LOCK_TIMEOUT_SECONDS } from "../../pve/apt.js";
import { RefitError } from "../../errors.js";
import type { Change, RunnerStep } from "../contract.js";
import { ParseError, RepositoryUnreachableError } from "../errors.js";
import { allowed } from "../filter.js";
import { okResult, step } from "../steps.js";
import type { OsManager } from "./manager.js";
import { tabVersions } from "./versions.js";

/**
 * apt (Debian, Ubuntu, Devuan). Pending from `apt-get -s dist-upgrade` (or `upgrade`), whose `Inst`
 * and `Remv` lines are apt's untranslated simulation trace (src/pve/apt.ts parses them for hosts too).
 * Denied packages are held with `apt-mark hold` for the run; with an allow list only the allowed
 * pending packages are named to `apt-get install --only-upgrade`.
 */

/** Keeps apt's messages in English so the parsers can read them. */
const C = { LC_ALL: "C" };
const NONINTERACTIVE = { ...C, DEBIAN_FRONTEND: "noninteractive" };
const KEEP_CONFIG = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];
/** apt retries the dpkg lock once a second for this long (an unattended-upgrades run usually ends by then). */
const LOCK = ["-o", `DPkg::Lock::Timeout=${UPGRADE_LOCK_TIMEOUT_SECONDS}`];
/** Root's simulation takes the dpkg lock too; a short wait, then the listing fails and is retried. */
const SIMULATE_LOCK_SECONDS = 60;

function op(spec: OsRunner): string {
  return spec.upgrade === "full" ? "dist-upgrade" : "upgrade";
}

/**
 * Holds (or releases) the installed packages that match the deny list. The names and globs are
 * positional arguments of a fixed script, never part of it: dpkg-query expands the globs to installed
 * names, so a denied package that is not installed is no error.
 */
const SELECT_SCRIPT =
  'names=$(dpkg-query -W -f "\\${Package}\\n" "$@" 2>/dev/null); [ -z "$names" ] || apt-mark "$REFIT_OP" $names';

function selection(spec: OsRunner, id: string, mark: "hold" | "unhold"): RunnerStep[] {
  if (spec.packages.deny.length === 0) return [];
  return [
    step(spec, "apply", id, ["sh", "-c", SELECT_SCRIPT, "refit-apt-mark", ...spec.packages.deny], {
      env: { ...C, REFIT_OP: mark },
      job: false,
      timeoutMs: 5 * 60_000,
    }),
  ];
}

export const apt: OsManager = {
  tool: "apt-get",
  list: (spec) => [
    step(spec, "list", "update", ["apt-get", "update"], { env: C }),
    step(
      spec,
      "list",
      "simulate",
      ["apt-get", "-o", `DPkg::Lock::Timeout=${SIMULATE_LOCK_SECONDS}`, "-s", op(spec)],
      {
        env: C,
      },
    ),
  ],
  pending(spec, results) {
    const steps = apt.list(spec);
    const update = okResult(spec, steps, results, "update");
    const failures = aptUpdateFailures(`${update.stdout}\n${update.stderr}`);
    if (failures.length > 0)
      throw new RepositoryUnreachableError(runnerName(spec), "apt-get update", failures.join("\n"));
    const sim = okResult(spec, steps, results, "simulate");
    let parsed;
    try {
      parsed = parseAptSimulation(sim.stdout);
    } catch (e) {
      if (e instanceof RefitError)
        throw new ParseError(runnerName(spec), `apt-get -s ${op(spec)}`, sim.stdout, e.message);
      throw e;
    }
    const out: Change[] = [];
    for (const c of parsed.changes) {
      if (!allowed(spec.packages, c.package)) continue;
      out.push(
        c.oldVersion === undefined
          ? { package: c.package, to: c.newVersion }
          : { package: c.package, from: c.oldVersion, to: c.newVersion },
      );
    }
    for (const r of parsed.removals) {
      if (!allowed(spec.packages, r.package)) continue;
      out.push(r.version === undefined ? { package: r.package } : { package: r.package, from: r.version });
    }
    return out;
  },
  hold: (spec) => selection(spec, "hold", "hold"),
  apply(spec, pending) {
    const base = ["apt-get", "-y", ...LOCK, ...KEEP_CONFIG];
    const steps: RunnerStep[] = [];
    if (spec.packages.allow.length > 0) {
      const names = pending.filter((p) => p.to !== undefined).map((p) => p.package);
      if (names.length > 0)
        steps.push(
          step(spec, "apply", "upgrade", [...base, "install", "--only-upgrade", ...names], {
            env: NONINTERACTIVE,
          }),
        );
    } else if (pending.length > 0) {
      steps.push(step(spec, "apply", "upgrade", [...base, op(spec)], { env: NONINTERACTIVE }));
    }
    if (spec.autoremove && steps.length > 0)
      steps.push(step(spec, "apply", "autoremove", [...base, "autoremove"], { env: NONINTERACTIVE }));
    return steps;
  },
  release: (spec) => selection(spec, "release", "unhold"),
  installed: (spec) => [
    step(spec, "list", "installed", ["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\n"], { env: C }),
  ],
  versions: (spec, results) => tabVersions(okResult(spec, apt.installed(spec), results, "installed").stdout),
};
