/** Types shared by the shell interpreter, its builtins and the hosts that run it. */

/** Where a command's bytes go. */
export interface ShellIo {
  /** What the command reads; reading it consumes it (a getter inside the interpreter). */
  readonly stdin: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** What the interpreter needs from the machine it runs on. */
export interface ShellHost {
  /** Runs an external command (argv[0] unresolved); prints dash's not-found text and returns 127 itself. */
  run(argv: string[], env: Record<string, string>, io: ShellIo, line: number): Promise<number>;
  /** The path `command -v` prints for an external command, or undefined. */
  resolve(name: string): string | undefined;
  stat(path: string): "file" | "dir" | undefined;
  readFile(path: string): string | undefined;
  /** Writes (or appends to) a file; returns false when the file cannot be created. */
  writeFile(path: string, content: string, append: boolean): boolean;
  readonly signal: AbortSignal;
  /** $$ */
  readonly pid: number;
}

/** Thrown by the `exit` builtin (and `set -e`) to unwind the script; not a failure. */
export class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = "ExitRequest";
  }
}

/** `return`, `break` and `continue` unwind to their function or loop. */
export class ReturnRequest extends Error {
  constructor(readonly code: number) {
    super(`return ${code}`);
    this.name = "ReturnRequest";
  }
}

export class LoopControl extends Error {
  constructor(
    readonly kind: "break" | "continue",
    public levels: number,
  ) {
    super(kind);
    this.name = "LoopControl";
  }
}

/** Exit status a shell reports for a command cut off by the connection closing (SIGHUP). */
export const EXIT_HANGUP = 129;
