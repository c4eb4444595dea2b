import { createServer, type Server } from "node:http";
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parseDocument } from "yaml";
import { ScaledClock } from "../../../src/clock.js";
import { createLogger } from "../../../src/log/logger.js";
import { startSimulator, type SimHandle } from "../../../src/sim/index.js";
import { readState } from "../../runtime/state-reader.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";
import { guestPlanSummary, hostPlanSummary } from "./demo-summary.js";
import { runController } from "./run.js";
import { renderStatus } from "./status.js";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");

/**
 * A copy of the desired state whose cluster points at the simulator, with every plan forced into
 * its window (annotation refit.dev/force: all) so the demo runs whatever the time of day.
 */
export function demoDesiredState(source: string, sim: SimHandle): string {
  const dir = mkdtempSync(join(tmpdir(), "refit-demo-desired-"));
  cpSync(source, dir, { recursive: true });
  const clusterFile = join(dir, "cluster.yaml");
  const doc = parseDocument(readFileSync(clusterFile, "utf8"));
  doc.setIn(
    ["spec", "endpoints"],
    sim.nodes.map((n) => ({ node: n.name, host: n.address, port: n.port })),
  );
  doc.setIn(["spec", "ssh", "privateKey"], { file: sim.clientKeyPath });
  doc.setIn(["spec", "ssh", "knownHosts"], { file: sim.knownHostsPath });
  writeFileSync(clusterFile, doc.toString());
  for (const file of [
    "host-patch-pve.yaml",
    "host-patch-pbs.yaml",
    "guest-apps.yaml",
    "guest-compose.yaml",
  ]) {
    const path = join(dir, file);
    const plan = parseDocument(readFileSync(path, "utf8"));
    plan.setIn(["metadata", "annotations"], { "refit.dev/force": "all" });
    writeFileSync(path, plan.toString());
  }
  return dir;
}

/** A local webhook receiver so the demo's notifications are seen, not lost. */
function startWebhookReceiver(io: Io): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      try {
        const e = JSON.parse(body) as { severity: string; event: string; summary: string };
        io.out(`  [webhook] ${e.severity.toUpperCase()} ${e.event}: ${e.summary}`);
      } catch {
        io.out(`  [webhook] ${body.slice(0, 200)}`);
      }
      res.writeHead(204).end();
    });
  });
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      done({ server, url: `http://127.0.0.1:${port}/hook` });
    }),
  );
}

export interface DemoOptions {
  fleet: string;
  desired: string;
  timeScale: number;
  state?: string;
}

export async function runDemo(opts: DemoOptions, io: Io): Promise<number> {
  const clock = new ScaledClock(opts.timeScale);
  const sim = await startSimulator({ fleet: opts.fleet, clock });
  const hook = await startWebhookReceiver(io);
  process.env.REFIT_WEBHOOK_URL = hook.url;
  const state = opts.state ?? mkdtempSync(join(tmpdir(), "refit-demo-state-"));
  mkdirSync(state, { recursive: true }); // --state may name a directory that does not exist yet
  const desired = demoDesiredState(opts.desired, sim);
  const logPath = join(state, "controller.log");
  const log = createLogger({ destination: createWriteStream(logPath), pretty: false });
  io.out(
    `Refit demo: ${sim.nodes.length} simulated PVE nodes, time ${opts.timeScale}x faster than real time.`,
  );
  io.out(
    `  desired state: ${desired} (a copy of ${opts.desired}, pointed at the simulator, forced into its windows)`,
  );
  io.out(`  state dir:     ${state}   log: ${logPath}`);
  io.out(`  watch it from another terminal: node bin/refit.js status -w --state ${state}`);
  const tty = process.stdout.isTTY === true;
  let last = "";
  const view = setInterval(
    () => {
      void readState(state).then((objects) => {
        const text = renderStatus(objects, clock.now()).join("\n");
        if (text === last) return;
        last = text;
        if (tty)
          process.stdout.write(
            `\x1b[2J\x1b[HRefit demo — live status (sim time ${new Date(clock.now()).toISOString()})\n\n${text}\n`,
          );
        else io.out(`\n${text}`);
      });
    },
    tty ? 500 : 3000,
  );
  let code: number;
  try {
    code = await runController(
      {
        desired,
        state,
        once: true,
        killSwitch: join(state, "STOP"),
        clock,
        log,
        timing: { pollMs: 2_000, waitMs: 10_000, idleMs: 300_000, rebootGraceMs: 180_000 },
        checkEveryMs: 250,
      },
      io,
    );
  } finally {
    clearInterval(view);
    hook.server.close();
    await sim.stop();
  }
  const objects = await readState(state);
  io.out("");
  for (const line of renderStatus(objects, clock.now())) io.out(line);
  // Host plans first: the guest plans wait for them (spec.after), so this is the order things ran in.
  for (const plan of objects.filter((o) => o.kind === "HostPatchPlan"))
    for (const line of hostPlanSummary(state, plan.metadata.name)) io.out(line);
  for (const plan of objects.filter((o) => o.kind === "GuestUpdatePlan"))
    for (const line of guestPlanSummary(plan, objects)) io.out(line);
  io.out("");
  io.out(code === EXIT.ok ? "Converged." : `Finished with exit code ${code}.`);
  return code;
}

export function registerDemo(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description(
      "Start the simulator with the example fleet and run the controller on desired-state/ until it converges",
    )
    .option("--fleet <file>", "simulated fleet", join(ROOT, "test", "sim", "fleets", "example.yaml"))
    .option("-d, --desired <dir>", "desired-state directory", join(ROOT, "desired-state"))
    .option("--time-scale <n>", "simulated seconds per real second", "60")
    .option("-s, --state <dir>", "state directory (default: a temporary directory)")
    .action(async (opts: { fleet: string; desired: string; timeScale: string; state?: string }) => {
      setExit(
        await runDemo(
          {
            fleet: opts.fleet,
            desired: opts.desired,
            timeScale: Number(opts.timeScale),
            ...(opts.state ? { state: opts.state } : {}),
          },
          io,
        ),
      );
    });
}
