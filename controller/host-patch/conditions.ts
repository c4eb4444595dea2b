import type { HostPatchPhase } from "../../src/api/host-patch.js";
import type { ConditionSummary } from "../runtime/conditions.js";

/**
 * The kstatus picture of a HostPatch, from its phase alone (and, while it works, why it waits):
 * the one place HostPatch conditions are decided.
 */
export function phaseConditions(
  phase: HostPatchPhase,
  message: string,
  waitReason?: string,
): ConditionSummary {
  switch (phase) {
    case "Succeeded":
      return { ready: { status: "True", reason: "Patched", message } };
    case "Skipped":
      // Skipped with packages kept back is not "up to date": the reason says a person must look.
      return { ready: { status: "True", reason: waitReason ?? "UpToDate", message } };
    case "Failed":
      return {
        ready: { status: "False", reason: "Failed", message },
        stalled: { reason: "Failed", message },
      };
    case "Blocked":
      return { ready: { status: "False", reason: "Blocked", message } };
    default: {
      const reason = waitReason ?? phase;
      return { ready: { status: "False", reason, message }, reconciling: { reason, message } };
    }
  }
}
