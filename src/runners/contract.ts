/**
 * The one contract every runner follows (DESIGN.md, "Runners"). A runner is pure: it produces argv
 * and parses what those commands printed; the guest update flow runs the argv inside the container
 * (`pct exec <vmid> -- …`, long steps as remote jobs on the node) and hands the results back. So the
 * dry run, the "nothing to do" decision and the run use the same functions.
 */
import type { Runner, RunnerType } from "../api/runners.js";
import type { PendingPackage } from "../api/guest-update.js";

/** What a runner knows of the container it works in. */
export interface RunnerTarget {
  vmid: number;
  /** `ostype` from the container config (debian, ubuntu, alpine, archlinux, fedora, centos, opensuse, …). */
  ostype: string;
  /** Unprivileged containers map ids: root on the host is not root inside, no device nodes. */
  unprivileged: boolean;
}

/** One command to run inside the container, and how long it may take. */
export interface RunnerStep {
  /** Short id for logs, status and job names, e.g. "list", "hold", "upgrade". */
  id: string;
  argv: string[];
  timeoutMs: number;
  /** Environment inside the container (passed as `env NAME=value …`, never through a shell). */
  env?: Record<string, string>;
  /** Run as a remote job (a transient unit on the node): package managers must never be cut off. */
  job?: boolean;
  /**
   * Exit codes that count as success; default [0]. Some listings exit non-zero to say "there is
   * something" (`dnf check-update` 100, `npm outdated` 1, `pacman -Qu` 1 when there is nothing).
   * The flow stops a runner at the first step whose code is not here (see stepFailure in steps.ts).
   */
  okExitCodes?: number[];
}

/** What one step printed. */
export interface StepResult {
  id: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A change a runner made: name, from, to (absent for new or removed). */
export type Change = PendingPackage;

/**
 * Runner<T>: detect → list pending → hold → apply → release, each a list of steps whose results
 * the matching parse function reads. A parse function that cannot read its input throws a
 * ParseError (src/runners/errors.ts) naming the command and what it expected.
 */
export interface RunnerPlugin<T extends Runner = Runner> {
  type: RunnerType;
  /** Steps whose results tell whether this runner applies to the container at all. */
  detect(spec: T, target: RunnerTarget): RunnerStep[];
  applies(spec: T, target: RunnerTarget, results: StepResult[]): boolean;
  /**
   * Steps that refresh a package index before listing (`apt-get update`, `apk update`, `pacman -Sy`,
   * `zypper refresh`, `dnf makecache`, `helm repo update`). They change the container's caches, so a
   * dry run skips them and lists from the index as it is; absent or [] when the runner has none.
   */
  refresh?(spec: T, target: RunnerTarget): RunnerStep[];
  /** Steps that list pending updates (read-only: a dry run runs them). */
  list(spec: T, target: RunnerTarget): RunnerStep[];
  /** Reads the list() results, and the refresh() results when they ran (an index that failed to refresh is an error). */
  pending(spec: T, target: RunnerTarget, results: StepResult[]): Change[];
  /** Steps that hold the spec's excluded packages for the run; [] when nothing is excluded. */
  hold(spec: T, target: RunnerTarget): RunnerStep[];
  /** Steps that apply the updates listed as pending. */
  apply(spec: T, target: RunnerTarget, pending: readonly Change[]): RunnerStep[];
  /** Steps that release what hold() held (safe to run again, also after a crash). */
  release(spec: T, target: RunnerTarget): RunnerStep[];
  /** What changed, from the pending list before and a fresh listing after (`installed` steps). */
  installed(spec: T, target: RunnerTarget): RunnerStep[];
  changes(spec: T, target: RunnerTarget, before: readonly Change[], after: StepResult[]): Change[];
}
