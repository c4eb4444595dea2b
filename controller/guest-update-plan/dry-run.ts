/**
 * The per-container part of `refit plan`: inside each container (`pct exec`, read-only steps only)
 * each runner's `detect` and `list`, the pending updates (from → to), and the exact commands a run
 * would issue (hold, apply, release; a run starts each as a remote job on the node). Nothing is
 * refreshed or changed: the runners' `refresh` steps (apt-get update and the like) are skipped, so
 * the pending list is what the container's current index says.
 */
import type { EffectiveGuestPolicy } from "../../src/api/guest-policy.js";
import type { PendingPackage } from "../../src/api/guest-update.js";
import { runnerName, type Runner } from "../../src/api/runners.js";
import { errorMessage } from "../../src/errors.js";
import { pctExecArgv } from "../../src/pve/guest-exec.js";
import type { RunnerStep, RunnerTarget, StepResult } from "../../src/runners/contract.js";
import { pluginFor } from "../../src/runners/registry.js";
import { customRefusal } from "../../src/runners/custom/index.js";
import { stepFailure } from "../../src/runners/steps.js";
import type { HostExec } from "../../src/ssh/index.js";

/** How long reading the container's config may take. */
const CONFIG_TIMEOUT_MS = 30_000;

export interface RunnerDryRun {
  name: string;
  type: string;
  /** Whether the runner applies to this container (its detect steps). */
  applies: boolean;
  pending: PendingPackage[];
  /** The argv a run would issue on the node, in order. */
  commands: string[][];
  /** Why this runner could not be previewed (the others still are). */
  error?: string;
}

export interface ContainerDryRun {
  vmid: number;
  target?: RunnerTarget;
  runners: RunnerDryRun[];
  /** Why nothing could be looked at inside the container. */
  error?: string;
}

/** `ostype` and `unprivileged` from `pct config <vmid>` (`key: value` lines). */
export function parsePctConfig(vmid: number, text: string): RunnerTarget {
  const value = (key: string): string | undefined =>
    text
      .split("\n")
      .find((l) => l.startsWith(`${key}:`))
      ?.slice(key.length + 1)
      .trim();
  return { vmid, ostype: value("ostype") ?? "unmanaged", unprivileged: value("unprivileged") === "1" };
}

async function runRead(
  exec: HostExec,
  spec: Runner,
  vmid: number,
  steps: readonly RunnerStep[],
): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const s of steps) {
    const r = await exec.exec(pctExecArgv(vmid, s.argv, s.env ? { env: s.env } : {}), {
      timeoutMs: s.timeoutMs,
    });
    const result = { id: s.id, exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    const failed = stepFailure(runnerName(spec), s, result);
    if (failed) throw failed;
    out.push(result);
  }
  return out;
}

async function dryRunRunner(
  exec: HostExec,
  spec: Runner,
  target: RunnerTarget,
  policy: EffectiveGuestPolicy,
): Promise<RunnerDryRun> {
  const plugin = pluginFor(spec);
  const base = { name: runnerName(spec), type: spec.type };
  // Even a custom check is a command from desired state: refused as the run would refuse it.
  const refused =
    spec.type === "custom"
      ? spec.steps.map((s) => customRefusal(s, policy.customCommands)).find(Boolean)
      : undefined;
  if (refused) return { ...base, applies: false, pending: [], commands: [], error: refused };
  try {
    const applies = plugin.applies(
      spec,
      target,
      await runRead(exec, spec, target.vmid, plugin.detect(spec, target)),
    );
    if (!applies) return { ...base, applies, pending: [], commands: [] };
    const pending = plugin.pending(
      spec,
      target,
      await runRead(exec, spec, target.vmid, plugin.list(spec, target)),
    );
    const steps =
      pending.length === 0
        ? []
        : [
            ...plugin.hold(spec, target),
            ...plugin.apply(spec, target, pending),
            ...plugin.release(spec, target),
          ];
    const commands = steps.map((s) => pctExecArgv(target.vmid, s.argv, s.env ? { env: s.env } : {}));
    return { ...base, applies, pending, commands };
  } catch (err) {
    return { ...base, applies: false, pending: [], commands: [], error: errorMessage(err) };
  }
}

/** Every runner of `policy` against the container `vmid` on the node `exec` reaches. */
export async function dryRunContainer(
  exec: HostExec,
  vmid: number,
  policy: EffectiveGuestPolicy,
): Promise<ContainerDryRun> {
  let target: RunnerTarget;
  try {
    const cfg = await exec.exec(["pct", "config", String(vmid)], { timeoutMs: CONFIG_TIMEOUT_MS });
    if (cfg.exitCode !== 0)
      throw new Error(`pct config ${vmid} exited ${cfg.exitCode ?? "?"}: ${cfg.stderr.trim()}`);
    target = parsePctConfig(vmid, cfg.stdout);
  } catch (err) {
    return { vmid, runners: [], error: errorMessage(err) };
  }
  const runners: RunnerDryRun[] = [];
  for (const spec of policy.runners) runners.push(await dryRunRunner(exec, spec, target, policy));
  return { vmid, target, runners };
}
