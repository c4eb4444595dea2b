import type { Place } from "../exec/place.js";
import type { ShellIo } from "../shell/types.js";
import type { Sim } from "../world.js";

export type Via = "ssh" | "unit" | "pct-exec";

/** Everything a simulated program sees: its argv, environment, streams and the world. */
export interface CommandContext {
  readonly sim: Sim;
  readonly place: Place;
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly stdin: string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Aborted when the process is killed: SSH channel closed (SIGHUP), unit stopped, host down. */
  readonly signal: AbortSignal;
  readonly via: Via;
  /** Script line of the command, for dash-style messages. */
  readonly line: number;
  /** The process id the command runs as. */
  readonly pid: number;
  /** Runs argv as a child process (`sh -c`, `pct exec`), optionally in another place. */
  spawn(
    argv: string[],
    io: ShellIo,
    opts?: { place?: Place; via?: Via; env?: Record<string, string> },
  ): Promise<number>;
  /** Runs a shell script as a child `sh` process. */
  runScript(script: string, io: ShellIo, positional?: string[], flavour?: "dash" | "bash"): Promise<number>;
}

export type CommandHandler = (ctx: CommandContext) => number | Promise<number>;

export interface CommandDef {
  name: string;
  /** Where `command -v` finds it. */
  path: string;
  /** Which places have this program installed. */
  available: (place: Place) => boolean;
  handler: CommandHandler;
}
