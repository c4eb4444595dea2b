import type { Command } from "commander";
import { startSimulator, type SimHandle } from "../../../src/sim/index.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

/** What a person needs to log into the simulated nodes. */
export function describeSimulator(sim: SimHandle): string[] {
  const lines = ["Refit simulator is running. SSH endpoints:"];
  for (const h of sim.hosts) {
    lines.push(
      `  ${h.name.padEnd(10)} ${h.kind.padEnd(6)} ${h.address}:${h.port}${h.vmid !== undefined ? `  (VM ${h.vmid})` : ""}`,
    );
  }
  lines.push(`known_hosts: ${sim.knownHostsPath}`);
  if (sim.clientKeyPath) lines.push(`client key:  ${sim.clientKeyPath}`);
  const first = sim.nodes[0];
  if (first && sim.clientKeyPath) {
    lines.push("Try:");
    lines.push(
      `  ssh -i ${sim.clientKeyPath} -o UserKnownHostsFile=${sim.knownHostsPath} -p ${first.port} root@${first.address} pvesh get /cluster/resources --output-format json`,
    );
  }
  lines.push("Press Ctrl-C to stop.");
  return lines;
}

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
      let sim: SimHandle;
      try {
        sim = await startSimulator({
          fleet: opts.fleet,
          timeScale: scale,
          ...(opts.state ? { stateDir: opts.state } : {}),
          ...(opts.basePort ? { basePort: Number(opts.basePort) } : {}),
        });
      } catch (err) {
        io.err(`refit sim: ${err instanceof Error ? err.message : String(err)}`);
        setExit(EXIT.invalid);
        return;
      }
      for (const line of describeSimulator(sim)) io.out(line);
      await new Promise<void>((done) => {
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      await sim.stop();
      setExit(EXIT.ok);
    });
}
