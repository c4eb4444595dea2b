/**
 * Building steps and reading their results, the same way for every runner.
 */
import { parseDuration } from "../api/primitives.js";
import type { Runner } from "../api/runners.js";
import { runnerName } from "../api/runners.js";
import type { RunnerStep, StepResult } from "./contract.js";
import { StepFailedError, StepMissingError } from "./errors.js";

/** Read-only probes (`--version`, `command -v`) answer at once or not at all. */
export const DETECT_TIMEOUT_MS = 30_000;
/** Listings may refresh an index over the network (apt-get update, helm repo update). */
export const LIST_TIMEOUT_MS = 10 * 60_000;

export interface StepOptions {
  job?: boolean;
  okExitCodes?: number[];
  timeoutMs?: number;
  env?: Record<string, string>;
}

type Phase = "detect" | "list" | "apply";

/** The runner's whole time budget (its `timeout`), which bounds every one of its steps. */
export function runnerTimeoutMs(spec: Runner): number {
  return parseDuration(spec.timeout);
}

/** `runuser -u USER --` in front when the spec names a user other than root (util-linux, on every distribution Refit supports but Alpine, where `su-exec`-style tools differ). */
export function asUser(spec: Pick<Runner, "user">, argv: string[]): string[] {
  if (spec.user === undefined || spec.user === "root" || spec.user === "0") return argv;
  return ["runuser", "-u", spec.user, "--", ...argv];
}

/**
 * One step of a runner in a phase. Apply steps run as remote jobs with the runner's whole timeout;
 * detect and list steps are short and read-only.
 */
export function step(
  spec: Runner,
  phase: Phase,
  id: string,
  argv: string[],
  opts: StepOptions = {},
): RunnerStep {
  const budget = runnerTimeoutMs(spec);
  const cap = phase === "detect" ? DETECT_TIMEOUT_MS : phase === "list" ? LIST_TIMEOUT_MS : budget;
  const env = { ...spec.env, ...opts.env };
  const s: RunnerStep = {
    id,
    argv: asUser(spec, argv),
    timeoutMs: Math.min(opts.timeoutMs ?? cap, budget),
  };
  if (Object.keys(env).length > 0) s.env = env;
  if (opts.job ?? phase === "apply") s.job = true;
  if (opts.okExitCodes) s.okExitCodes = opts.okExitCodes;
  return s;
}

/** The exit codes a step accepts (default: 0 only). */
export function okCodes(s: Pick<RunnerStep, "okExitCodes">): readonly number[] {
  return s.okExitCodes ?? [0];
}

/**
 * Whether a step's result counts as success; the flow stops a runner at the first step that does not
 * and reports the error this returns.
 */
export function stepFailure(runner: string, s: RunnerStep, r: StepResult): StepFailedError | undefined {
  if (okCodes(s).includes(r.exitCode)) return undefined;
  return new StepFailedError(
    runner,
    s.id,
    s.argv.join(" "),
    r.exitCode,
    r.stderr.trim() ? r.stderr : r.stdout,
  );
}

/** The result of step `id`, or a StepMissingError naming the runner. */
export function resultOf(spec: Runner, results: readonly StepResult[], id: string): StepResult {
  const r = results.find((x) => x.id === id);
  if (!r) throw new StepMissingError(runnerName(spec), id);
  return r;
}

/** Like resultOf, but a result whose exit code the step does not accept is a StepFailedError. */
export function okResult(
  spec: Runner,
  steps: readonly RunnerStep[],
  results: readonly StepResult[],
  id: string,
): StepResult {
  const r = resultOf(spec, results, id);
  const s = steps.find((x) => x.id === id);
  const failed = s && stepFailure(runnerName(spec), s, r);
  if (failed) throw failed;
  return r;
}

/** Every runner whose detection is "does the tool answer `--version`". */
export function toolAnswers(results: readonly StepResult[]): boolean {
  return results.length > 0 && results.every((r) => r.exitCode === 0);
}

/**
 * Names of things a runner manages in several places (venvs, project directories, compose stacks):
 * `<place>:<name>`. Package, module and service names never contain ':', so the last ':' splits it.
 */
export function located(place: string, name: string): string {
  return `${place}:${name}`;
}

export function splitLocated(full: string): { place: string; name: string } {
  const i = full.lastIndexOf(":");
  return i < 0 ? { place: "", name: full } : { place: full.slice(0, i), name: full.slice(i + 1) };
}

/**
 * Changes from a pending list and the versions found installed afterwards: a package whose installed
 * version moved is a change (from the version before, to the one now); one that did not move is not.
 */
export function versionChanges(
  before: readonly { package: string; from?: string | undefined }[],
  now: ReadonlyMap<string, string>,
): { package: string; from?: string; to?: string }[] {
  const out: { package: string; from?: string; to?: string }[] = [];
  for (const p of before) {
    const v = now.get(p.package);
    if (v === p.from) continue;
    const c: { package: string; from?: string; to?: string } = { package: p.package };
    if (p.from !== undefined) c.from = p.from;
    if (v !== undefined) c.to = v;
    out.push(c);
  }
  return out;
}
