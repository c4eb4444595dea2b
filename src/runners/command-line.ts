import { pctExecArgv } from "../pve/guest-exec.js";
import { quoteArgv } from "../ssh/quote.js";
import type { RunnerStep } from "./contract.js";

/**
 * The node-side argv of a step: `pct exec <vmid> -- [env NAME=value …] argv…`. The flow runs this
 * (as a remote job when `step.job`); the dry run prints commandLine() of it.
 */
export function nodeArgv(vmid: number, step: RunnerStep): string[] {
  return pctExecArgv(vmid, step.argv, step.env ? { env: step.env } : {});
}

/** The exact command line a step runs on the node, as `refit plan` shows it. */
export function commandLine(vmid: number, step: RunnerStep): string {
  return quoteArgv(nodeArgv(vmid, step));
}
