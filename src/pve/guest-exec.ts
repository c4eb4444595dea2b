import { InvalidArgumentError } from "./errors.js";
import { vmid as vmidArg } from "./args.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface PctExecOptions {
  /**
   * Environment for the command inside the container, passed as `env NAME=value ...` (no shell
   * runs in between when the argv is started as a systemd unit, so `NAME=value cmd` would not work).
   */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * `pct exec <vmid> -- [env NAME=value ...] <argv...>`: runs argv inside a container. `--` ends pct's
 * own options, so an argv starting with `-` reaches the container untouched. The same argv is what a
 * remote job (contract 4: `systemd-run --unit refit-<id> ... -- <argv>`) runs for long work inside a
 * container so that an SSH drop does not kill it: hand the result to the job runner unchanged.
 */
export function pctExecArgv(vmid: number, argv: readonly string[], opts: PctExecOptions = {}): string[] {
  if (argv.length === 0)
    throw new InvalidArgumentError("pct exec needs a command to run inside the container.");
  const env = Object.entries(opts.env ?? {}).map(([name, value]) => {
    if (!ENV_NAME.test(name))
      throw new InvalidArgumentError(`"${name}" is not a valid environment variable name.`);
    return `${name}=${value}`;
  });
  return ["pct", "exec", vmidArg(vmid), "--", ...(env.length > 0 ? ["env", ...env] : []), ...argv];
}
