import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/clock.js";
import type { Timing } from "../../controller/context.js";
import { runController } from "../../controller/cli/commands/run.js";
import { readState, type StoredObject } from "../../controller/runtime/state-reader.js";
import { cliIo, recordingLogger } from "./recording.js";

export interface OnceRun {
  /** `refit run --once`'s exit code. */
  code: number;
  state: string;
  out: string[];
  err: string[];
  /** Warnings and errors the controller logged, to explain a failing assertion. */
  log: string[];
  objects: StoredObject[];
  /** The HostPatch objects, and their phases by host. */
  patches: StoredObject[];
  phases: Record<string, string | undefined>;
}

export interface OnceRunOptions {
  desired: string;
  clock: Clock;
  timing: Partial<Timing>;
  /** A state directory to reuse (a second run); a fresh one by default. */
  state?: string;
  checkEveryMs?: number;
}

/** One `refit run --once` of the controller in this process, against the desired state, and what it left. */
export async function runOnce(opts: OnceRunOptions): Promise<OnceRun> {
  const state = opts.state ?? mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
  const log = recordingLogger();
  const { io, out, err } = cliIo();
  const code = await runController(
    {
      desired: opts.desired,
      state,
      once: true,
      killSwitch: join(state, "STOP"),
      clock: opts.clock,
      log,
      timing: opts.timing,
      checkEveryMs: opts.checkEveryMs ?? 100,
    },
    io,
  );
  const objects = await readState(state);
  const patches = objects.filter((o) => o.kind === "HostPatch");
  const phases = Object.fromEntries(patches.map((p) => [String(p.spec.host), p.status?.phase]));
  return { code, state, out, err, log: log.lines, objects, patches, phases };
}
