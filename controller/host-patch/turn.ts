/** Whose turn it is in a rolling patch: pure functions of the HostPatches of one cluster. */
import { isDisruptive, isTerminal, type HostPatch } from "../../src/api/host-patch.js";
import type { Turn } from "./observation.js";

/** Rolling order inside a plan: by node name, the controller's own node last. */
export function rollingOrder(hosts: readonly string[], selfNode: string | undefined): string[] {
  return [...hosts].sort((a, b) => (a === selfNode ? 1 : 0) - (b === selfNode ? 1 : 0) || a.localeCompare(b));
}

/** Whether `hp` may start disruptive work: its turn in the plan's order, and a free slot in the cluster. */
export function turnOf(
  hp: HostPatch,
  siblings: readonly HostPatch[],
  maxUnavailable: number,
  selfNode: string | undefined,
): Turn {
  const busy = siblings.filter((x) => x.metadata.name !== hp.metadata.name && isDisruptive(x.status?.phase));
  if (busy.length >= maxUnavailable) {
    return {
      ok: false,
      message: `waiting: ${busy.map((x) => `${x.spec.host} (${x.status?.phase})`).join(", ")} ${busy.length === 1 ? "is" : "are"} out and the cluster allows ${maxUnavailable} at a time`,
    };
  }
  const mine = siblings.filter(
    (x) => x.spec.planRef.name === hp.spec.planRef.name && x.spec.cycle === hp.spec.cycle,
  );
  const failed = mine.find((x) => x.status?.phase === "Failed");
  if (failed)
    return {
      ok: false,
      message: `plan stalled: ${failed.spec.host} failed (${failed.status?.message ?? ""}); no further node is touched`,
    };
  const order = rollingOrder(
    mine.map((x) => x.spec.host),
    selfNode,
  );
  const before = order.slice(0, order.indexOf(hp.spec.host));
  const waitingFor = mine.filter(
    (x) => before.includes(x.spec.host) && !(isTerminal(x.status?.phase) || x.status?.phase === "Blocked"),
  );
  if (waitingFor.length > 0 && busy.length + waitingFor.length >= maxUnavailable) {
    return {
      ok: false,
      message: `waiting for ${waitingFor.map((x) => x.spec.host).join(", ")} to finish first (rolling order)`,
    };
  }
  return { ok: true };
}

/** Nodes of this plan's cycle that are already patched: preferred migration targets. */
export function patchedInCycle(hp: HostPatch, siblings: readonly HostPatch[]): string[] {
  return siblings
    .filter(
      (x) =>
        x.spec.planRef.name === hp.spec.planRef.name &&
        x.spec.cycle === hp.spec.cycle &&
        x.status?.phase === "Succeeded",
    )
    .map((x) => x.spec.host);
}

/**
 * Whether another prefetch download may start in the cluster: fewer than `maxParallel` HostPatches
 * of the cluster (this one aside) record one as running.
 */
export function prefetchSlot(hp: HostPatch, siblings: readonly HostPatch[], maxParallel: number): boolean {
  const downloading = siblings.filter(
    (x) => x.metadata.name !== hp.metadata.name && x.status?.prefetch?.state === "Running",
  );
  return downloading.length < maxParallel;
}
