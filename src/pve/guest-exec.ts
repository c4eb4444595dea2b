import { InvalidArgumentError } from "./errors.js";
import { vmid as vmidArg } from "./args.js";

/**
 * `pct exec <vmid> -- <argv...>`: runs argv inside a container. `--` ends pct's own options, so an
 * argv starting with `-` reaches the container untouched. The same argv is what a remote job
 * (contract 4: `systemd-run --unit refit-<id> ... -- <argv>`) should run for long work inside a
 * container, so an SSH drop does not kill it; pass it to the job runner unchanged.
 */
export function pctExecArgv(vmid: number, argv: readonly string[]): string[] {
  if (argv.length === 0)
    throw new InvalidArgumentError("pct exec needs a command to run inside the container.");
  return ["pct", "exec", vmidArg(vmid), "--", ...argv];
}
