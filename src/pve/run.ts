import type { ExecResult, HostExec } from "../ssh/types.js";
import { UnparseableOutputError, commandError, describeCommand, type ParseContext } from "./errors.js";
import { MAX_PARSED_OUTPUT_BYTES } from "./timeouts.js";

export interface RunOptions {
  /** Required: every remote command has a timeout. */
  readonly timeoutMs: number;
  /** Exit codes that are answers, not failures (default `[0]`). 127 is always a failure. */
  readonly okExitCodes?: readonly number[];
  readonly maxOutputBytes?: number;
  readonly signal?: AbortSignal;
}

/**
 * Runs argv and throws a classified error (CommandMissing, LockHeld, GuestLocked, CommandKilled,
 * CommandFailed) unless it exited with an accepted code.
 */
export async function run(exec: HostExec, argv: readonly string[], opts: RunOptions): Promise<ExecResult> {
  const result = await exec.exec(argv, {
    timeoutMs: opts.timeoutMs,
    maxOutputBytes: opts.maxOutputBytes ?? MAX_PARSED_OUTPUT_BYTES,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const ok = opts.okExitCodes ?? [0];
  if (result.exitCode !== null && result.exitCode !== 127 && ok.includes(result.exitCode)) return result;
  const output = failureOutput(result);
  throw commandError(argv, { exitCode: result.exitCode, signal: result.signal, output }, exec.host);
}

/**
 * stderr, or stdout when stderr is empty. A Proxmox CLI worker run in the foreground (`qm migrate`,
 * `pct migrate`) logs on stdout and says only the short task status on stderr (`migration aborted`):
 * the ERROR lines of its log, which say why, go in front (src/pve/REFERENCE-local-resources.md).
 */
function failureOutput(result: ExecResult): string {
  if (result.stderr.trim().length === 0) return result.stdout;
  const why = result.stdout.split("\n").filter((l) => / ERROR: /.test(l));
  return [...why.slice(-2), result.stderr].join("\n");
}

/** Runs argv for its stdout, which must be complete to be parsed. */
export async function runForOutput(
  exec: HostExec,
  argv: readonly string[],
  opts: RunOptions,
): Promise<{ result: ExecResult; ctx: ParseContext }> {
  const result = await run(exec, argv, opts);
  const ctx: ParseContext = { command: describeCommand(argv), host: exec.host };
  if (result.stdoutTruncated) {
    throw new UnparseableOutputError(
      ctx.command ?? argv.join(" "),
      result.stdout,
      "the output was longer than the capture bound and was cut",
      exec.host,
    );
  }
  return { result, ctx };
}
