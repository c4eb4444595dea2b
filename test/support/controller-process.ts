import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { join } from "node:path";
import type { ScaledClock } from "../../src/clock.js";

const ROOT = join(import.meta.dirname, "..", "..");

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
  return spawn(
    process.execPath,
    [
      join(ROOT, "bin", "refit.js"),
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
    { stdio, env: { ...process.env, REFIT_LOG_LEVEL: "warn" } },
  );
}
