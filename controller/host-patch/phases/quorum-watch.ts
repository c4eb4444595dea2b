/**
 * Quorum, watched on every reconcile while a node is out (evacuating, rebooting, returning, being
 * verified or restored), not only at the phase boundaries: a cluster that loses quorum meanwhile
 * (another node crashed while this one reboots) must not see one more migration or reboot. The
 * HostPatch fails with QuorumLost, which stalls the plan (no sibling gets a turn) and sends the
 * PlanStalled notice.
 *
 * The cluster is read from a node other than this one; when no node answers, the watch says nothing
 * and the phase decides as before (a phase that needs the cluster waits on it).
 */
import type { HostPatchPhase } from "../../../src/api/host-patch.js";
import type { QuorumView } from "../../../src/pve/index.js";
import type { Needs, Observation, PatchContext } from "../observation.js";
import { fail, type Transition } from "../transition.js";

/** Phases in which the node is out of normal service. */
export const OUT_PHASES: readonly HostPatchPhase[] = [
  "Evacuating",
  "Rebooting",
  "AwaitingReturn",
  "Verifying",
  "Restoring",
];

const DOING: Partial<Record<HostPatchPhase, string>> = {
  Evacuating: "was being evacuated",
  Rebooting: "was about to reboot",
  AwaitingReturn: "was rebooting",
  Verifying: "was being verified after its reboot",
  Restoring: "was getting its guests back",
};

/** Whether the plan and the cluster ask for quorum at all (`safety.requireQuorum`, the gate switch). */
function watching(ctx: PatchContext): boolean {
  return ctx.cluster.spec.safety.requireQuorum && ctx.spec.gates.clusterQuorate !== false;
}

export function quorumWatchNeeds(ctx: PatchContext): Needs {
  return watching(ctx) ? { watchQuorum: true } : {};
}

function votesText(q: QuorumView & { kind: "cluster" }): string {
  const v = q.votes;
  const votes = v ? `${v.totalVotes} of ${v.expectedVotes} votes, quorum needs ${v.quorum}` : "votes unknown";
  const offline = q.nodes.filter((n) => !n.online).map((n) => n.name);
  return `${votes}${offline.length > 0 ? `; offline: ${offline.join(", ")}` : ""}`;
}

/** QuorumLost when the cluster, read during this reconcile, is not quorate; undefined otherwise. */
export function quorumLost(ctx: PatchContext, obs: Observation): Transition | undefined {
  if (!watching(ctx)) return undefined;
  const q = obs.cluster?.quorum;
  if (!q?.ok || q.value.kind !== "cluster" || q.value.quorate) return undefined;
  // Read on a node that is itself outside the membership (its corosync rejoining after an upgrade),
  // "not quorate" speaks of that node alone, not of the cluster.
  if (q.value.nodes.some((n) => n.local && !n.online)) return undefined;
  const phase = ctx.status.phase ?? "Pending";
  const message = `cluster ${q.value.name} lost quorum while ${ctx.host} ${DOING[phase] ?? "was out"} (${votesText(q.value)}); no new step (migration, reboot) starts on any node until a person restores quorum and re-triggers the plan`;
  return fail("QuorumLost", message, { notes: [{ step: phase, outcome: "failed", message }] });
}
