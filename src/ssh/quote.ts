import { TerminalError } from "../errors.js";
import { SshReason } from "./reasons.js";

/** Words made only of these characters mean the same to every POSIX shell when left bare. */
const BARE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Turns argv into one POSIX shell command line, the form an SSH exec request carries (the remote
 * user's shell runs it as `$SHELL -c "<line>"`). This is the only place a command line is built from
 * argv; the contract shared with src/pve and src/sim fixes the output byte for byte.
 *
 * A bare first word of the form `NAME=value` is read by the shell as an environment assignment for
 * the command that follows; callers use that deliberately (`DEBIAN_FRONTEND=noninteractive apt-get`).
 */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new TerminalError(
      SshReason.InvalidCommand,
      "Cannot build a command line from an empty argv; pass at least the program name.",
    );
  }
  return argv.map(quoteWord).join(" ");
}

export function quoteWord(word: string): string {
  if (word.includes("\0")) {
    // A C string cannot carry NUL, so no shell can deliver this argument; refusing is the only honest answer.
    throw new TerminalError(
      SshReason.InvalidCommand,
      "A command argument contains a NUL byte, which no remote program can receive; remove it from the argument.",
    );
  }
  if (BARE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
