import { resolveCommand } from "../commands/registry.js";
import type { CommandContext, Via } from "../commands/types.js";
import { ShellInterpreter, type ShellFlavour } from "../shell/interpreter.js";
import { EXIT_HANGUP, type ShellHost, type ShellIo } from "../shell/types.js";
import { SimStopped, type Sim } from "../world.js";
import { readFile, statPath, writeFile } from "./fs.js";
import { kernelHost, placeName, type Place } from "./place.js";

export interface ExecOrigin {
  via: Via;
  /** Tears down the SSH connection carrying the process (the dropConnection fault). */
  dropConnection?: () => void;
}

/** Runs one process tree (a shell and its children) in one place. */
class ProcessRuntime implements ShellHost {
  readonly pid: number;
  constructor(
    readonly sim: Sim,
    readonly place: Place,
    readonly signal: AbortSignal,
    readonly origin: ExecOrigin,
  ) {
    this.pid = sim.nextPid(kernelHost(place));
  }

  resolve(name: string): string | undefined {
    return resolveCommand(this.place, name)?.path;
  }

  stat(path: string): "file" | "dir" | undefined {
    return statPath(this.sim, this.place, path);
  }

  readFile(path: string): string | undefined {
    return readFile(this.sim, this.place, path);
  }

  writeFile(path: string, content: string, append: boolean): boolean {
    return writeFile(this.sim, this.place, path, content, append);
  }

  async run(argv: string[], env: Record<string, string>, io: ShellIo, line: number): Promise<number> {
    return runProcess(this.sim, this.place, argv, env, io, this.signal, this.origin, line);
  }
}

/** Waits until the signal aborts (a hung process lives until it is killed). */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Runs argv as a process: applies command faults, resolves the program (dash's `not found`, exit
 * 127, when missing) and calls its handler.
 */
export async function runProcess(
  sim: Sim,
  place: Place,
  argv: string[],
  env: Record<string, string>,
  io: ShellIo,
  signal: AbortSignal,
  origin: ExecOrigin,
  line = 1,
): Promise<number> {
  const name = argv[0];
  if (name === undefined) return 0;
  if (signal.aborted) return EXIT_HANGUP;
  const commandLine = argv.join(" ");
  sim.recordCommand(placeName(place), commandLine, origin.via);

  const fault = sim.faults.matchCommand(placeName(place), commandLine);
  if (fault?.spec.kind === "exit") {
    if (fault.spec.stdout) io.stdout(fault.spec.stdout);
    if (fault.spec.stderr) io.stderr(fault.spec.stderr);
    return fault.spec.exitCode;
  }
  if (fault?.spec.kind === "hang") {
    await untilAborted(AbortSignal.any([signal, sim.stopSignal]));
    return EXIT_HANGUP;
  }
  if (fault?.spec.kind === "dropConnection" && origin.dropConnection) {
    const drop = origin.dropConnection;
    const after = fault.spec.afterSeconds;
    if (after <= 0) {
      drop();
      return EXIT_HANGUP;
    }
    sim.spawn("dropConnection fault", async () => {
      await sim.sleep(after, signal).catch(() => undefined);
      if (!signal.aborted) drop();
    });
  }

  const resolved = resolveCommand(place, name);
  if (!resolved) {
    io.stderr(`sh: ${line}: ${name}: not found\n`);
    return 127;
  }
  const ctx: CommandContext = {
    sim,
    place,
    argv,
    env,
    // Reading stdin consumes it (the shell's input is shared by the commands of a loop).
    get stdin(): string {
      return io.stdin;
    },
    out: io.stdout,
    err: io.stderr,
    signal,
    via: origin.via,
    line,
    pid: sim.nextPid(kernelHost(place)),
    spawn: (childArgv, childIo, opts) =>
      runProcess(
        sim,
        opts?.place ?? place,
        childArgv,
        opts?.env ?? env,
        childIo,
        signal,
        opts?.via ? { ...origin, via: opts.via } : origin,
      ),
    runScript: (script, childIo, positional, flavour) =>
      runScript(sim, place, script, childIo, signal, origin, env, positional, flavour),
  };
  try {
    return await resolved.handler(ctx);
  } catch (e) {
    if (e instanceof SimStopped || signal.aborted) return EXIT_HANGUP;
    io.stderr(`${resolved.name}: simulator error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 70;
  }
}

/** Runs a command string the way `sh -c` does. */
export async function runScript(
  sim: Sim,
  place: Place,
  script: string,
  io: ShellIo,
  signal: AbortSignal,
  origin: ExecOrigin,
  env: Record<string, string> = {},
  positional: string[] = ["sh"],
  flavour: ShellFlavour = "dash",
): Promise<number> {
  const runtime = new ProcessRuntime(sim, place, signal, origin);
  const shell = new ShellInterpreter(runtime, env, positional, flavour);
  return shell.runString(script, io);
}
