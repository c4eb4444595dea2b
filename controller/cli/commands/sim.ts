import type { Command } from "commander";
import { runSimulatorCli } from "../../../src/sim/cli.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

export function registerSim(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("sim")
    .description("Run the Proxmox simulator: every node is a real SSH server on loopback")
    .requiredOption("-f, --fleet <file>", "fleet file (YAML), e.g. test/sim/fleets/three-node.yaml")
    .option("--time-scale <n>", "simulated seconds per real second", "1")
    .option(
      "--state <dir>",
      "where host keys, the client key and known_hosts are kept (default: a temporary directory)",
    )
    .option("--base-port <port>", "host i listens on base-port + i (default: ephemeral ports)")
    .action(async (opts: { fleet: string; timeScale: string; state?: string; basePort?: string }) => {
      const scale = Number(opts.timeScale);
      if (!(scale > 0)) {
        io.err(`refit sim: --time-scale must be a positive number, got ${JSON.stringify(opts.timeScale)}`);
        setExit(EXIT.invalid);
        return;
      }
      try {
        await runSimulatorCli({
          fleet: opts.fleet,
          timeScale: scale,
          ...(opts.state ? { stateDir: opts.state } : {}),
          ...(opts.basePort ? { basePort: Number(opts.basePort) } : {}),
          out: (text) => io.out(text.trimEnd()),
        });
      } catch (err) {
        io.err(`refit sim: ${err instanceof Error ? err.message : String(err)}`);
        setExit(EXIT.invalid);
        return;
      }
      setExit(EXIT.ok);
    });
}
