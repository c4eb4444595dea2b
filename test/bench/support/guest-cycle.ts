/**
 * One `refit run --once` cycle of the guest update benchmark: the controller as its own process on
 * the simulator's scaled clock (as controller-cycle.ts runs the rolling ones), its CPU and peak RSS
 * sampled, and what it left in its state directory. A run that does not end within REAL_LIMIT_MS is
 * killed and reported as such, so the bench fails loudly instead of hanging.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScaledClock } from "../../../src/clock.js";
import type { SimHandle } from "../../../src/sim/index.js";
import { readState, type StoredObject } from "../../../controller/runtime/state-reader.js";
import { spawnController } from "../../support/controller-process.js";
import { guestDesiredState } from "./guest-desired.js";
import { watchChild, type ProcSample } from "./proc-sample.js";

const REAL_LIMIT_MS = 300_000;
/** The controller's requeue timing (sim ms), as the rolling benchmarks use. */
const TIMING = { pollMs: 1000, waitMs: 3000, idleMs: 60000, rebootGraceMs: 180000 };

export interface GuestCycle {
  code: number | null;
  killed: boolean;
  realMs: number;
  usage: ProcSample | undefined;
  objects: StoredObject[];
  /** The tail of the controller's output, to explain a failed run. */
  outputTail: string;
  state: string;
}

export async function runGuestCycle(sim: SimHandle, clock: ScaledClock): Promise<GuestCycle> {
  const desired = guestDesiredState(sim);
  const state = mkdtempSync(join(tmpdir(), "refit-bench-guest-state-"));
  const child = spawnController(desired, state, clock, TIMING, ["ignore", "pipe", "pipe"]);
  let output = "";
  const keep = (d: Buffer): void => {
    output = (output + d.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, REAL_LIMIT_MS);
  const { code, usage, realMs } = await watchChild(child);
  clearTimeout(guard);
  return { code, killed, realMs, usage, objects: await readState(state), outputTail: output, state };
}
