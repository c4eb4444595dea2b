/**
 * The guest update flow of one GuestUpdate as its phase table (DESIGN.md, "Guest update flow"):
 *
 *   Pending → Preflight → BackingUp → Baseline → Updating → Restarting → Verifying → Succeeded,
 *   or RollingBack → VerifyingRollback → RolledBack, or Failed, Blocked, Skipped (nothing to update).
 *
 * Each phase says what it needs to read and decides from (spec, status, observation) alone; the
 * applier records the intent and acts. A restarted controller resumes from status and proves from
 * the world (snapshot list, job units, versions) whether a step happened.
 */
import type { GuestUpdatePhase } from "../../src/api/guest-update.js";
import type { GuestContext, Needs, Observation } from "./observation.js";
import { backingUpNeeds, decideBackingUp } from "./phases/backing-up.js";
import { baselineNeeds, decideBaseline } from "./phases/baseline.js";
import { decidePending, decidePreflight, preflightNeeds } from "./phases/preflight.js";
import { decideRestarting, restartingNeeds } from "./phases/restarting.js";
import { decideRollingBack, rollingBackNeeds } from "./phases/rolling-back.js";
import { decideUpdating, updatingNeeds } from "./phases/updating.js";
import { decideVerifying, decideVerifyingRollback, verifyingNeeds } from "./phases/verifying.js";
import type { Transition } from "./transition.js";

export interface Phase {
  /** What to read; called again with what was read so far when a phase reads in steps (at most three). */
  needs(ctx: GuestContext, first?: Observation): Needs;
  decide(ctx: GuestContext, obs: Observation): Transition;
}

const nothing = (): Needs => ({});
const idle = (): Transition => ({ kind: "idle" });

export const PHASES: Record<GuestUpdatePhase, Phase> = {
  Pending: { needs: nothing, decide: decidePending },
  Preflight: { needs: preflightNeeds, decide: decidePreflight },
  BackingUp: { needs: backingUpNeeds, decide: decideBackingUp },
  Baseline: { needs: baselineNeeds, decide: decideBaseline },
  Updating: { needs: updatingNeeds, decide: decideUpdating },
  Restarting: { needs: restartingNeeds, decide: decideRestarting },
  Verifying: { needs: verifyingNeeds, decide: decideVerifying },
  RollingBack: { needs: rollingBackNeeds, decide: decideRollingBack },
  VerifyingRollback: { needs: verifyingNeeds, decide: decideVerifyingRollback },
  Succeeded: { needs: nothing, decide: idle },
  RolledBack: { needs: nothing, decide: idle },
  Failed: { needs: nothing, decide: idle },
  Blocked: { needs: nothing, decide: idle },
  Skipped: { needs: nothing, decide: idle },
};

export const FINAL_PHASES: readonly GuestUpdatePhase[] = [
  "Succeeded",
  "RolledBack",
  "Failed",
  "Blocked",
  "Skipped",
];

export function isFinal(phase: GuestUpdatePhase | undefined): boolean {
  return phase !== undefined && FINAL_PHASES.includes(phase);
}
