/**
 * The host patch flow of one HostPatch (profile pve) as its phase table:
 *
 *   Pending → Preflight → Upgrading → (reboot needed?) → Evacuating → Rebooting → AwaitingReturn →
 *   Verifying → Restoring → Succeeded, or Skipped (up to date), Blocked (a gate or an unmovable
 *   guest), Failed (a node that does not return, quorum lost, a failed job).
 *
 * Each phase says what it needs to read and decides from (spec, status, observation) alone; the
 * applier records the intent and acts. A restarted controller resumes from status and proves from
 * the world whether a step happened, so no node is rebooted twice and no guest migrated twice.
 */
import type { HostPatchPhase } from "../../src/api/host-patch.js";
import type { Needs, Observation, PatchContext } from "./observation.js";
import { evacuatingNeeds, decideEvacuating } from "./phases/evacuating.js";
import {
  decideBlocked,
  decideRestoring,
  decideVerifying,
  restoringNeeds,
  verifyingNeeds,
} from "./phases/finish.js";
import { decidePending, decidePreflight, preflightNeeds } from "./phases/preflight.js";
import {
  awaitingReturnNeeds,
  decideAwaitingReturn,
  decideRebooting,
  rebootingNeeds,
} from "./phases/reboot.js";
import { OUT_PHASES, quorumLost, quorumWatchNeeds } from "./phases/quorum-watch.js";
import { decideUpgrading, upgradingNeeds } from "./phases/upgrading.js";
import type { Transition } from "./transition.js";

export interface Phase {
  /** What to read; called again with the first readout when a phase reads in two steps. */
  needs(ctx: PatchContext, first?: Observation): Needs;
  decide(ctx: PatchContext, obs: Observation): Transition;
}

const nothing = (): Needs => ({});
const idle = (): Transition => ({ kind: "idle" });

const TABLE: Record<HostPatchPhase, Phase> = {
  Pending: { needs: nothing, decide: decidePending },
  Preflight: { needs: preflightNeeds, decide: decidePreflight },
  Blocked: { needs: nothing, decide: decideBlocked },
  Skipped: { needs: nothing, decide: idle },
  Upgrading: { needs: upgradingNeeds, decide: decideUpgrading },
  Evacuating: { needs: evacuatingNeeds, decide: decideEvacuating },
  Rebooting: { needs: rebootingNeeds, decide: decideRebooting },
  AwaitingReturn: { needs: awaitingReturnNeeds, decide: decideAwaitingReturn },
  Verifying: { needs: verifyingNeeds, decide: decideVerifying },
  Restoring: { needs: restoringNeeds, decide: decideRestoring },
  Succeeded: { needs: nothing, decide: idle },
  Failed: { needs: nothing, decide: idle },
};

/** A phase in which the node is out: the cluster's quorum is read and checked on every reconcile. */
function watched(phase: Phase): Phase {
  return {
    needs: (ctx, first) =>
      first ? phase.needs(ctx, first) : { ...quorumWatchNeeds(ctx), ...phase.needs(ctx) },
    decide: (ctx, obs) => quorumLost(ctx, obs) ?? phase.decide(ctx, obs),
  };
}

export const PHASES: Record<HostPatchPhase, Phase> = { ...TABLE };
for (const name of OUT_PHASES) PHASES[name] = watched(TABLE[name]);
