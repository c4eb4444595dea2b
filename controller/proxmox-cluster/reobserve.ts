import { isTerminal } from "../../src/api/host-patch.js";
import type { ObjectKey, WatchEvent } from "../runtime/store.js";

/**
 * A HostPatch that has just ended changed its node (new packages, a new boot, guests moved back):
 * what the cluster last published about it was seen while the node was out. Its cluster is observed
 * again, so the status at the end of a cycle is what the cluster is now.
 */
export function clustersToReobserve(event: WatchEvent): ObjectKey[] {
  const hp = event.object;
  if (hp.kind !== "HostPatch" || event.type !== "MODIFIED" || !hp.spec.clusterRef) return [];
  const before = event.oldObject?.kind === "HostPatch" ? event.oldObject.status?.phase : undefined;
  const now = hp.status?.phase;
  if (before === now || !isTerminal(now)) return [];
  return [{ kind: "ProxmoxCluster", namespace: hp.metadata.namespace ?? "", name: hp.spec.clusterRef.name }];
}
