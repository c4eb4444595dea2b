/** The contract between the SSH transport and everything that runs commands on a host. */

export interface ExecOptions {
  /** Per-command timeout in milliseconds (required in spirit: every remote command has one). */
  timeoutMs?: number;
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Capture bound per stream; the tail is kept when output is longer. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit code, or null when the command was ended by a signal. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

/** Runs argv on one host. Implemented by the pooled SSH client; used by src/pve and the runners. */
export interface HostExec {
  /** The host's display name (node name), used in errors and logs. */
  readonly host: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}
