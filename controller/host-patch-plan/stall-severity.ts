import type { Severity } from "../../src/api/plan-common.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";

/**
 * A plan stalled because the cluster lost quorum is critical: guests may be down and every write
 * refused until a person restores it. Any other stall is an error.
 */
export function stallSeverity(plan: HostPatchPlan): Severity {
  const reason = plan.status?.conditions?.find((c) => c.type === "Ready")?.reason;
  return reason === "QuorumLost" ? "critical" : "error";
}
