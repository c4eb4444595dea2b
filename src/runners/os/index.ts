import type { OsRunner } from "../../api/runners.js";
import type { RunnerPlugin, RunnerTarget } from "../contract.js";
import { UnsupportedOsError } from "../errors.js";
import { step, toolAnswers, versionChanges } from "../steps.js";
import { apk } from "./apk.js";
import { apt } from "./apt.js";
import { dnf } from "./dnf.js";
import type { OsManager, OsManagerName } from "./manager.js";
import { managerFor } from "./manager.js";
import { pacman } from "./pacman.js";
import { zypper } from "./zypper.js";

/**
 * The container's own distribution packages: the manager from the spec, or by the container's
 * ostype when `auto`. Each manager lives in its own module; this one only dispatches.
 */

const MANAGERS: Record<OsManagerName, OsManager> = { apt, dnf, apk, pacman, zypper };

function manager(spec: OsRunner, target: RunnerTarget): OsManager {
  const name = managerFor(spec, target);
  if (!name) throw new UnsupportedOsError(target.vmid, target.ostype);
  return MANAGERS[name];
}

export const os: RunnerPlugin<OsRunner> = {
  type: "os",
  // `command -v` is POSIX and a shell builtin on every distribution; `which` is not always installed.
  detect: (spec, target) => [
    step(spec, "detect", "detect", ["sh", "-c", `command -v ${manager(spec, target).tool}`]),
  ],
  applies: (_spec, _target, results) => toolAnswers(results),
  refresh: (spec, target) => manager(spec, target).refresh(spec),
  list: (spec, target) => manager(spec, target).list(spec),
  pending: (spec, target, results) => manager(spec, target).pending(spec, results),
  hold: (spec, target) => manager(spec, target).hold(spec),
  apply: (spec, target, pending) => manager(spec, target).apply(spec, pending),
  release: (spec, target) => manager(spec, target).release(spec),
  installed: (spec, target) => manager(spec, target).installed(spec),
  changes: (spec, target, before, after) =>
    versionChanges(before, manager(spec, target).versions(spec, after)),
};
