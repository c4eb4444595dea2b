import type { HostProfile } from "../../../src/api/host-patch-plan.js";
import type { GateInput, GateVerdict } from "./contract.js";
import { GATES, type ProfileObserved } from "./registry.js";

export * from "./contract.js";
export { PVE_DEFAULTS, PVE_GATES, type PveObserved } from "./pve.js";
export { cephVerdict, type CephObservation } from "./ceph.js";
export { GATES, type NothingObserved, type ProfileObserved } from "./registry.js";

/** One gate's outcome as HostPatch `status.gates` records it (schema `gateResult`). */
export interface GateResult {
  name: string;
  passed: boolean;
  message: string;
}

export function toGateResult(id: string, verdict: GateVerdict): GateResult {
  return { name: id, passed: verdict.open, message: verdict.message };
}

/** The one closed result of a profile with no gates registered: never patch a host ungated. */
function noGatesYet(profile: HostProfile): GateResult {
  return {
    name: "gates",
    passed: false,
    message: `profile ${profile} has no gates yet; a host is never patched ungated`,
  };
}

/** Each enabled gate's verdict, reason included, in registry order. */
export function gateVerdicts<P extends HostProfile>(
  profile: P,
  input: GateInput<ProfileObserved[P]>,
): { id: string; verdict: GateVerdict }[] {
  return GATES[profile]
    .filter((g) => g.enabled(input.spec, input.safety))
    .map((g) => ({ id: g.id, verdict: g.evaluate(input) }));
}

/** The entry point: a profile's enabled gates evaluated against one host's observations. */
export function evaluateGates<P extends HostProfile>(
  profile: P,
  input: GateInput<ProfileObserved[P]>,
): GateResult[] {
  if (GATES[profile].length === 0) return [noGatesYet(profile)];
  return gateVerdicts(profile, input).map(({ id, verdict }) => toGateResult(id, verdict));
}
