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
 * Where the hold step records the packages it held, so the release unholds those and nothing else:
 * a package someone held by hand before the run stays held. The file is written before apt-mark
 * runs (intent first), so a crash in between leaves nothing held that the release would miss.
 */
export const APT_HOLDS_FILE = "/var/lib/refit-apt-holds";

/**
 * Holds the installed packages matching the deny list that are not held already. The names and
 * globs are positional arguments of a fixed script, never part of it; dpkg-query expands the globs
 * to installed names, so a denied package that is not installed is no error.
 */
const HOLD_SCRIPT = [
  `f=${APT_HOLDS_FILE}`,
  'names=$(dpkg-query -W -f "\\${Package}\\n" "$@" 2>/dev/null)',
  "held=$(apt-mark showhold)",
  "new=",
  'for n in $names; do mine=yes; for h in $held; do [ "$h" = "$n" ] && mine=; done; [ -n "$mine" ] && new="$new $n"; done',
  '[ -z "$new" ] && exit 0',
  'echo $new >> "$f" || exit 1',
  "apt-mark hold $new",
].join("\n");

/** Unholds what the hold step recorded, then forgets it; running it again does nothing. */
const RELEASE_SCRIPT = [
  `f=${APT_HOLDS_FILE}`,
  'names=$(cat "$f" 2>/dev/null)',
  '[ -z "$names" ] && exit 0',
  "apt-mark unhold $names || exit $?",
  ': > "$f"',
].join("\n");

function mark(spec: OsRunner, id: string, script: string, args: string[]): RunnerStep[] {
  return [
    step(spec, "apply", id, ["sh", "-c", script, "refit-apt-mark", ...args], {
      env: C,
      job: false,
      timeoutMs: 5 * 60_000,
    }),
  ];
}

export const apt: OsManager = {
  tool: "apt-get",
  refresh: (spec) => [step(spec, "list", "update", ["apt-get", "update"], { env: C })],
  list: (spec) => [
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
    const steps = [...apt.refresh(spec), ...apt.list(spec)];
    // apt-get update exits 0 when an index could not be fetched: the listing would be stale.
    const update = results.some((r) => r.id === "update")
      ? okResult(spec, steps, results, "update")
      : undefined;
    const failures = update ? aptUpdateFailures(`${update.stdout}\n${update.stderr}`) : [];
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
  hold: (spec) =>
    spec.packages.deny.length === 0 ? [] : mark(spec, "hold", HOLD_SCRIPT, spec.packages.deny),
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
  // Always: holds recorded by a run that crashed are released even if the deny list changed since.
  release: (spec) => mark(spec, "release", RELEASE_SCRIPT, []),
  installed: (spec) => [
    step(spec, "list", "installed", ["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\n"], { env: C }),
  ],
  versions: (spec, results) => tabVersions(okResult(spec, apt.installed(spec), results, "installed").stdout),
};
