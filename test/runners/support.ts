import { runner, type Runner } from "../../src/api/runners.js";
import type { RunnerStep, RunnerTarget, StepResult } from "../../src/runners/contract.js";

/** A runner spec with the schema's defaults, as the flow gets it from the effective policy. */
export function spec<T extends Runner["type"]>(
  input: { type: T } & Record<string, unknown>,
): Extract<Runner, { type: T }> {
  return runner.parse(input) as Extract<Runner, { type: T }>;
}

export const DEBIAN: RunnerTarget = { vmid: 200, ostype: "debian", unprivileged: true };

/** Results for `steps`, from outputs by step id (a missing id answers exit 0 with no output). */
export function answer(
  steps: readonly RunnerStep[],
  outputs: Record<string, string | { stdout?: string; stderr?: string; exitCode?: number }>,
): StepResult[] {
  return steps.map((s) => {
    const o = outputs[s.id];
    if (typeof o === "string") return { id: s.id, exitCode: 0, stdout: o, stderr: "" };
    return { id: s.id, exitCode: o?.exitCode ?? 0, stdout: o?.stdout ?? "", stderr: o?.stderr ?? "" };
  });
}
