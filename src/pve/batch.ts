import { quoteArgv } from "../ssh/quote.js";
import type { HostExec } from "../ssh/types.js";
import { BatchTruncatedError, UnparseableOutputError, commandError, tail } from "./errors.js";
import { MAX_PARSED_OUTPUT_BYTES } from "./timeouts.js";

/**
 * Batching (contract 3): many read-only commands in one SSH round trip. Each step i becomes
 * `echo @@refit:<i>:begin; <quoteArgv(argv)> 2>&1; echo @@refit:<i>:end:$?`, steps joined with `; `.
 * A step's output is everything between its markers (stdout and stderr merged); its exit code is the
 * number after `end:`.
 */
export function batchScript(steps: readonly (readonly string[])[]): string {
  return steps
    .map((argv, i) => `echo @@refit:${i}:begin; ${quoteArgv(argv)} 2>&1; echo @@refit:${i}:end:$?`)
    .join("; ");
}

/**
 * HostExec takes argv, so the script travels as the argument of `sh -c`; the remote login shell runs
 * `sh -c '<script>'`.
 */
export function batchArgv(steps: readonly (readonly string[])[]): string[] {
  return ["sh", "-c", batchScript(steps)];
}

export interface BatchStepResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  /** stdout and stderr of the step, merged. */
  readonly output: string;
}

function beginMarker(i: number): string {
  return `@@refit:${i}:begin\n`;
}

function findLineStart(text: string, needle: string, from: number): number {
  let idx = text.indexOf(needle, from);
  while (idx > 0 && text[idx - 1] !== "\n") idx = text.indexOf(needle, idx + 1);
  return idx;
}

/**
 * Splits a batch reply into per-step results. The end marker chosen for a step is the first one
 * followed by the next step's begin marker (or the end of the reply for the last step), so a step
 * whose own output happens to contain a marker-like line does not shift the others. A missing
 * marker means the reply was cut off: BatchTruncatedError (retryable).
 */
export function parseBatchReply(
  stdout: string,
  steps: readonly (readonly string[])[],
  host?: string,
): BatchStepResult[] {
  const results: BatchStepResult[] = [];
  let pos = 0;
  for (let i = 0; i < steps.length; i++) {
    const begin = findLineStart(stdout, beginMarker(i), pos);
    if (begin < 0) throw truncated(i, steps.length, "begin", stdout, host);
    const start = begin + beginMarker(i).length;
    const endRe = new RegExp(`@@refit:${i}:end:(\\d+)(?:\\n|$)`, "g");
    endRe.lastIndex = start;
    let chosen: RegExpExecArray | undefined;
    let first: RegExpExecArray | undefined;
    for (let m = endRe.exec(stdout); m !== null; m = endRe.exec(stdout)) {
      first ??= m;
      const after = m.index + m[0].length;
      const follows =
        i + 1 < steps.length
          ? stdout.startsWith(beginMarker(i + 1), after)
          : stdout.slice(after).trim() === "";
      if (follows) {
        chosen = m;
        break;
      }
    }
    const end = chosen ?? first;
    if (end === undefined) throw truncated(i, steps.length, "end", stdout, host);
    results.push({ argv: steps[i] ?? [], exitCode: Number(end[1]), output: stdout.slice(start, end.index) });
    pos = end.index + end[0].length;
  }
  return results;
}

function truncated(i: number, n: number, which: string, stdout: string, host?: string): BatchTruncatedError {
  return new BatchTruncatedError(
    `The batched reply${host ? ` from ${host}` : ""} stops before step ${i + 1} of ${n} (no ${which} marker; ` +
      `reply ends ${JSON.stringify(tail(stdout, 120))}); the connection or the output was cut. It will be read again.`,
    host,
  );
}

export interface BatchOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly maxOutputBytes?: number;
}

/** Runs steps as one exec and returns each step's exit code and output. */
export async function runBatch(
  exec: HostExec,
  steps: readonly (readonly string[])[],
  opts: BatchOptions,
): Promise<BatchStepResult[]> {
  const argv = batchArgv(steps);
  const result = await exec.exec(argv, {
    timeoutMs: opts.timeoutMs,
    maxOutputBytes: opts.maxOutputBytes ?? MAX_PARSED_OUTPUT_BYTES,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (result.stdoutTruncated) {
    // The bound keeps the tail, so the first steps are gone; a retry would be cut the same way.
    throw new UnparseableOutputError(
      "sh -c <batch>",
      result.stdout,
      "the batched reply exceeded the capture bound",
      exec.host,
    );
  }
  try {
    return parseBatchReply(result.stdout, steps, exec.host);
  } catch (err) {
    // No markers and a failed shell (syntax error, no sh): report the shell's own failure.
    if (result.exitCode !== 0 && !result.stdout.includes("@@refit:0:begin")) {
      throw commandError(
        ["sh", "-c", "<batch>"],
        { exitCode: result.exitCode, signal: result.signal, output: result.stderr },
        exec.host,
      );
    }
    throw err;
  }
}
