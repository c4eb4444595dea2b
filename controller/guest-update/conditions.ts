import type { GuestUpdatePhase } from "../../src/api/guest-update.js";
import type { ConditionSummary } from "../runtime/conditions.js";

/**
 * The kstatus picture of a GuestUpdate, from its phase (and, while it works, why it waits): the
 * one place GuestUpdate conditions are decided. A rollback is an end, but not a Ready one: the
 * update did not happen, and a person should look at why.
 */
export function phaseConditions(phase: GuestUpdatePhase, message: string, reason?: string): ConditionSummary {
  switch (phase) {
    case "Succeeded":
      return { ready: { status: "True", reason: "Updated", message } };
    case "Skipped":
      return { ready: { status: "True", reason: "UpToDate", message } };
    case "RolledBack":
      return { ready: { status: "False", reason: "RolledBack", message } };
    case "Failed":
      return {
        ready: { status: "False", reason: reason ?? "Failed", message },
        stalled: { reason: reason ?? "Failed", message },
      };
    case "Blocked":
      return { ready: { status: "False", reason: reason ?? "Blocked", message } };
    default: {
      const r = reason ?? phase;
      return { ready: { status: "False", reason: r, message }, reconciling: { reason: r, message } };
    }
  }
}
