import type { CustomRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin } from "../contract.js";
import { okResult, step } from "../steps.js";

export { customRefusal, type CustomCommand } from "./refusal.js";

/**
 * Custom argv steps from desired state. Each step with `checkPending` is pending when that command
 * exits 0 (1: up to date); a step without it is always pending. The flow refuses the runner unless
 * customRefusal allows every step (run before detect: even a check is a custom command).
 */

const listSteps = (spec: CustomRunner) =>
  spec.steps
    .filter((s) => s.checkPending !== undefined)
    .map((s) => step(spec, "list", `check-${s.name}`, [...s.checkPending!], { okExitCodes: [0, 1] }));

export const custom: RunnerPlugin<CustomRunner> = {
  type: "custom",
  detect: () => [],
  applies: () => true,
  list: listSteps,
  pending(spec, _t, results) {
    const steps = listSteps(spec);
    return spec.steps
      .filter(
        (s) =>
          s.checkPending === undefined || okResult(spec, steps, results, `check-${s.name}`).exitCode === 0,
      )
      .map((s): Change => ({ package: s.name }));
  },
  hold: () => [],
  apply: (spec, _t, pending) =>
    spec.steps
      .filter((s) => pending.some((p) => p.package === s.name))
      .map((s) => step(spec, "apply", `apply-${s.name}`, [...s.apply], { okExitCodes: s.expectedExitCodes })),
  release: () => [],
  installed: listSteps,
  // A step whose check still says "pending" after it ran did not do its work.
  changes(spec, _t, before, after) {
    const steps = listSteps(spec);
    return before.filter((p) => {
      const check = steps.find((s) => s.id === `check-${p.package}`);
      return check === undefined || okResult(spec, steps, after, check.id).exitCode === 1;
    });
  },
};
