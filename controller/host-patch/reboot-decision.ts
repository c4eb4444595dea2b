/**
 * Whether a host needs a reboot, and why: the one rule, used after the upgrade (from what the host
 * shows), in Preflight (a node that only needs a reboot) and by the dry run (which also predicts the
 * reboot a pending kernel package will need).
 */
import type { HostPatchPlanSpec } from "../../src/api/host-patch-plan.js";
import {
  kernelChanges,
  type AptPackageChange,
  type Observed,
  type RebootAssessment,
} from "../../src/pve/index.js";

export interface RebootDecision {
  required: boolean;
  reasons: string[];
  /** False when policy IfRequired could not read the host's kernels or reboot flag. */
  known: boolean;
}

export function rebootDecision(
  policy: HostPatchPlanSpec["reboot"]["policy"],
  reboot: Observed<RebootAssessment>,
  pending: readonly AptPackageChange[] = [],
): RebootDecision {
  if (policy === "Always") return { required: true, reasons: ["reboot policy Always"], known: true };
  if (policy === "Never") return { required: false, reasons: ["reboot policy Never"], known: true };
  const reasons = reboot.ok && reboot.value.needed ? [...reboot.value.reasons] : [];
  const kernels = kernelChanges({ changes: pending });
  if (kernels.length > 0)
    reasons.push(
      `a new kernel package is pending (${kernels.map((c) => `${c.package} ${c.newVersion}`).join(", ")})`,
    );
  return { required: reasons.length > 0, reasons, known: reboot.ok };
}

/** Only hosts with pending updates are touched, or (IfRequired) a host that already needs its reboot. */
export function upToDate(
  policy: HostPatchPlanSpec["reboot"]["policy"],
  pending: readonly AptPackageChange[],
  now: RebootDecision,
): boolean {
  return pending.length === 0 && !(policy === "IfRequired" && now.required);
}
