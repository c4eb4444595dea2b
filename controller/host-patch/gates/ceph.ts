/**
 * The Ceph health gate of profile pve. A cluster without Ceph (no /etc/pve/ceph.conf) passes; with
 * Ceph, a node starts only while Ceph is HEALTH_OK, or HEALTH_WARN when the plan allows it, and
 * never while it recovers (OSDs down, PGs degraded or misplaced): taking a second failure domain down
 * then could make data unavailable. Health that cannot be read closes the gate.
 */
import type { HostPatchPlanSpec } from "../../../src/api/host-patch-plan.js";
import {
  describeCephHealth,
  recoveryChecks,
  withoutOwnNoout,
  type CephState,
  type Observed,
} from "../../../src/pve/index.js";
import { closed, gateFor, open, type GateVerdict } from "./contract.js";
import type { PveObserved } from "./pve.js";

/** What the Ceph gate reads: Ceph as the node sees it. */
export interface CephObservation {
  readonly state: Observed<CephState>;
}

/**
 * This node's own noout flag (left by this plan, about to be unset) is not a reason to wait; every
 * other warning is.
 */
export function cephVerdict(state: CephState, host: string, spec: HostPatchPlanSpec): GateVerdict {
  if (state.kind === "none") return open("Ceph is not set up on this cluster");
  const h = withoutOwnNoout(state.health, host);
  const text = describeCephHealth(h);
  if (h.status === "HEALTH_OK") return open("Ceph is HEALTH_OK");
  if (h.status === "HEALTH_ERR") return closed("CephHealthErr", `Ceph is ${text}; not taking a node down`);
  if (recoveryChecks(h).length > 0)
    return closed("CephRecovering", `Ceph is recovering: ${text}; no node goes down until it is HEALTH_OK`);
  if (spec.ceph.allowHealthWarn) return open(`Ceph is ${text}, allowed by ceph.allowHealthWarn`);
  return closed(
    "CephHealthWarn",
    `Ceph is ${text}; resolve it or set ceph.allowHealthWarn: true on the plan to patch anyway`,
  );
}

export const cephHealthy = gateFor<PveObserved>()({
  id: "cephHealthy",
  reads: ["ceph.state"],
  enabled: (spec) => spec.gates.cephHealthy ?? true,
  check: (p, ctx) => cephVerdict(p["ceph.state"], ctx.host, ctx.spec),
});
