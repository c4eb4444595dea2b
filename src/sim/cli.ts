import { startSimulator, type SimHandle, type SimulatorOptions } from "./index.js";

/** The human summary `refit sim --fleet FILE` prints: where each host listens and how to log in. */
export function formatSimulatorSummary(sim: SimHandle): string {
  const lines = ["Refit Proxmox simulator running.", "", "Hosts (SSH as root):"];
  for (const h of sim.hosts) {
    const what =
      h.kind === "pve"
        ? `PVE node, cluster ${h.cluster ?? "-"}`
        : `${h.kind === "pbs" ? "PBS" : "Debian"} VM ${h.vmid ?? ""} in cluster ${h.cluster ?? "-"}`;
    lines.push(`  ${h.name.padEnd(12)} ${`${h.address}:${h.port}`.padEnd(22)} ${what}`);
  }
  const health = sim.healthEndpoints();
  if (health.length > 0) {
    lines.push("", "Container health endpoints:");
    for (const e of health)
      lines.push(
        `  CT ${String(e.vmid).padEnd(6)} ${e.name.padEnd(10)} ${e.url ?? `tcp://${e.address}:${e.port}`}`,
      );
  }
  lines.push("", `known_hosts: ${sim.knownHostsPath}`);
  lines.push(`client key:  ${sim.clientKeyPath ?? "(the public key you supplied; use its private key)"}`);
  const first = sim.nodes[0];
  if (first) {
    lines.push("", "Example:");
    lines.push(
      `  ssh -i ${sim.clientKeyPath ?? "KEY"} -o UserKnownHostsFile=${sim.knownHostsPath} -p ${first.port} root@${first.address} pvesh get /cluster/resources --output-format json`,
    );
  }
  lines.push("", "Press Ctrl-C to stop.");
  return `${lines.join("\n")}\n`;
}

export interface SimulatorCliOptions extends SimulatorOptions {
  /** Where the summary goes (default stdout). */
  out?: (text: string) => void;
  /** Stops the simulator when aborted (in addition to SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/** Starts the simulator, prints the summary, and runs until SIGINT/SIGTERM (or `signal`), then stops. */
export async function runSimulatorCli(opts: SimulatorCliOptions): Promise<void> {
  const { out = (t: string) => void process.stdout.write(t), signal, ...simOpts } = opts;
  const sim = await startSimulator(simOpts);
  out(formatSimulatorSummary(sim));
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    if (signal?.aborted) done();
    else signal?.addEventListener("abort", done, { once: true });
  });
  await sim.stop();
}
