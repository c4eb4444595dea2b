import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { join } from "node:path";
import type { ScaledClock } from "../../src/clock.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** The CLI entry the controller processes run by default: the one users run. */
export const REFIT_BIN = join(ROOT, "bin", "refit.js");

export interface ControllerProcessOptions {
  desired: string;
  state: string;
  clock: ScaledClock;
  timing: Record<string, number>;
  stdio?: StdioOptions;
  /** Added to (an `undefined` value removed from) the inherited environment, e.g. REFIT_CRASH_AT. */
  env?: Record<string, string | undefined>;
  /** The script node runs: default bin/refit.js; e.g. a bundle from controller-bundle.ts. */
  entry?: string;
}

/**
 * `refit run --once` as its own process, sharing the simulator's scaled clock (same origin), so it
 * can be killed like a real controller and its CPU and memory measured.
 */
export function spawnController(
  desired: string,
  state: string,
  clock: ScaledClock,
  timing: Record<string, number>,
  stdio: StdioOptions = ["ignore", "ignore", "pipe"],
): ChildProcess {
  return spawnControllerProcess({ desired, state, clock, timing, stdio });
}

/** `spawnController` with every option: an environment and the entry script. */
export function spawnControllerProcess(opts: ControllerProcessOptions): ChildProcess {
  const { desired, state, clock, timing } = opts;
  return spawn(
    process.execPath,
    [
      opts.entry ?? REFIT_BIN,
      "run",
      "--once",
      "--desired",
      desired,
      "--state",
      state,
      "--kill-switch",
      join(state, "STOP"),
      "--time-scale",
      String(clock.factor),
      "--clock-origin",
      `${clock.start},${clock.realStart}`,
      "--timing",
      JSON.stringify(timing),
    ],
    {
      stdio: opts.stdio ?? ["ignore", "ignore", "pipe"],
      // The crash-point test hook only when the caller asks for it, never inherited.
      env: {
        ...process.env,
        REFIT_LOG_LEVEL: "warn",
        REFIT_CRASH_AT: undefined,
        REFIT_CRASH_COUNT_FILE: undefined,
        ...opts.env,
      },
    },
  );
}
