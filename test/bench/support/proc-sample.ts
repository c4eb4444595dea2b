/**
 * CPU time and peak memory of another live process, from /proc (Linux). Used for the controller
 * child of the rolling benchmarks.
 */
import { readFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";

export interface ProcSample {
  /** user + system CPU seconds. */
  cpuS: number;
  /** Peak resident set (VmHWM), KiB. */
  peakKiB: number;
}

/**
 * Undefined once the process has exited: a zombie's status has no memory lines (a last sample read
 * 0 MiB before this was checked).
 */
export function sample(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    if (!hwm) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { cpuS: ticks / 100, peakKiB: Number(hwm[1]) };
  } catch {
    return undefined;
  }
}

/** The larger of two samples, field by field: both figures only grow while the process lives. */
export function maxSample(a: ProcSample | undefined, b: ProcSample | undefined): ProcSample | undefined {
  if (!a || !b) return a ?? b;
  return { cpuS: Math.max(a.cpuS, b.cpuS), peakKiB: Math.max(a.peakKiB, b.peakKiB) };
}

/** Samples `child` every 100 ms until it exits; resolves with its exit code and the largest sample. */
export async function watchChild(
  child: ChildProcess,
): Promise<{ code: number | null; usage: ProcSample | undefined; realMs: number }> {
  const t0 = performance.now();
  let usage: ProcSample | undefined;
  const timer = setInterval(() => {
    if (child.pid !== undefined) usage = maxSample(usage, sample(child.pid));
  }, 100);
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  clearInterval(timer);
  return { code, usage, realMs: performance.now() - t0 };
}
