import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerCrds } from "./commands/crds.js";
import { registerDemo } from "./commands/demo.js";
import { registerPlan } from "./commands/plan.js";
import { registerRollback } from "./commands/rollback.js";
import { registerRun } from "./commands/run.js";
import { registerSim } from "./commands/sim.js";
import { registerStatus } from "./commands/status.js";
import { registerValidate } from "./commands/validate.js";
import { EXIT } from "./exit-codes.js";
import { processIo, type Io } from "./io.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Builds the `refit` command tree. */
export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command("refit")
    .description("Refit keeps a Proxmox fleet patched: declare the patch state, watch it converge.")
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(run refit --help for usage)")
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    })
    .exitOverride();
  program.addHelpText(
    "after",
    `
Exit status: 0 ok, 1 failed or stalled, 2 invalid input, 3 halted by the kill switch.
Docs: README.md and docs/ in the Refit repository.`,
  );
  registerValidate(program, io, setExit);
  registerCrds(program, io, setExit);
  registerRun(program, io, setExit);
  registerPlan(program, io, setExit);
  registerStatus(program, io, setExit);
  registerRollback(program, io, setExit);
  registerSim(program, io, setExit);
  registerDemo(program, io, setExit);
  for (const c of program.commands) {
    c.exitOverride().configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    });
    c.showHelpAfterError(`(run refit ${c.name()} --help for usage)`);
  }
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
      // Bare `refit`, unknown commands, unknown options, missing arguments: usage errors.
      return EXIT.invalid;
    }
    io.err(`refit: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
