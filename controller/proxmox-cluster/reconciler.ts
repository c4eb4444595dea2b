import { parseDuration } from "../../src/api/primitives.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { errorMessage } from "../../src/errors.js";
import { observeNode } from "../../src/pve/index.js";
import { isoAt, type Deps } from "../context.js";
import { observeClusterVia } from "../fleet/observe-cluster.js";
import { getCondition, READY, setReady } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";
import { clustersToReobserve } from "./reobserve.js";

type ObservedNode = NonNullable<NonNullable<ProxmoxCluster["status"]>["nodes"]>[number];

/**
 * Publishes what the cluster looks like: nodes with version, running and newest kernel, boot_id,
 * uptime, pending updates and whether (and why) a reboot is needed; quorum; HA. Read-only: one
 * batched round trip per node plus one for the cluster.
 */
export class ProxmoxClusterReconciler implements Reconciler {
  readonly kind = "ProxmoxCluster" as const;
  readonly watches = [{ kind: "HostPatch", keys: clustersToReobserve }] as const;

  constructor(private readonly deps: Deps) {}

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const { store, clock } = this.deps;
    const cluster = await store.get("ProxmoxCluster", key.namespace, key.name);
    if (!cluster) return;
    const log = ctx.log.child({ cluster: cluster.metadata.name });
    const access = this.deps.fleet.for(cluster);
    const interval = parseDuration(cluster.spec.observeInterval);
    const s = (cluster.status ??= {});
    const gen = cluster.metadata.generation ?? 1;
    const now = clock.now();
    s.lastAttemptAt = isoAt(clock);
    let clusterObs;
    try {
      clusterObs = (await observeClusterVia(access)).obs;
    } catch (err) {
      // A stop is not an unreachable cluster: leave the status as it was.
      ctx.signal.throwIfAborted();
      log.warn({ reason: "Unreachable", err: errorMessage(err) }, "cluster not observed: no node answered");
      setReady(s, { status: "False", reason: "Unreachable", message: errorMessage(err) }, gen, now);
      s.observedGeneration = gen;
      await store.updateStatus(cluster);
      return { requeueAfter: Math.min(interval, this.deps.timing.waitMs) };
    }
    const online = new Map(
      clusterObs.quorum.ok ? clusterObs.quorum.value.nodes.map((n) => [n.name, n.online]) : [],
    );
    // The HA manager's view of each node: a node left in maintenance (by a crash or another tool) shows here.
    const haNodes = clusterObs.haManager.ok ? clusterObs.haManager.value.nodeStatus : {};
    const nodes: ObservedNode[] = await Promise.all(
      access.nodes.map(async (name): Promise<ObservedNode> => {
        try {
          const o = await observeNode(access.node(name), name, { pendingUpdates: true, signal: ctx.signal });
          return {
            name,
            online: online.get(name) ?? true,
            ...(o.pveVersion.ok ? { version: o.pveVersion.value.version } : {}),
            ...(o.runningKernel.ok ? { runningKernel: o.runningKernel.value } : {}),
            ...(o.reboot.ok && o.reboot.value.bootKernel ? { newestKernel: o.reboot.value.bootKernel } : {}),
            ...(o.bootId.ok ? { bootId: o.bootId.value } : {}),
            ...(o.status.ok && o.status.value.uptimeSeconds !== undefined
              ? { uptimeSeconds: o.status.value.uptimeSeconds }
              : {}),
            ...(o.pendingUpdates?.ok ? { pendingUpdates: o.pendingUpdates.value.changes.length } : {}),
            ...(o.pendingUpdates?.ok && o.pendingUpdates.value.keptBack.length > 0
              ? { keptBack: [...o.pendingUpdates.value.keptBack] }
              : {}),
            ...(o.holds?.ok && o.holds.value.length > 0 ? { held: [...o.holds.value] } : {}),
            ...(o.pendingUpdates && !o.pendingUpdates.ok ? { packageManager: o.pendingUpdates.message } : {}),
            ...(o.reboot.ok
              ? { rebootRequired: o.reboot.value.needed, rebootReasons: [...o.reboot.value.reasons] }
              : {}),
            ...(haNodes[name] !== undefined ? { haState: haNodes[name] } : {}),
            observedAt: isoAt(clock),
          };
        } catch (err) {
          if (!ctx.signal.aborted) log.warn({ node: name, err: errorMessage(err) }, "node not observed");
          return { name, online: false, error: errorMessage(err), observedAt: isoAt(clock) };
        }
      }),
    );
    // Nodes cut off by a stop were not seen offline: write nothing.
    ctx.signal.throwIfAborted();
    const inMaintenance = nodes.filter((n) => n.haState === "maintenance").map((n) => n.name);
    if (inMaintenance.length > 0)
      log.warn(
        { nodes: inMaintenance },
        "nodes in HA maintenance: Refit patches none of them it did not put there",
      );
    s.nodes = nodes;
    if (clusterObs.quorum.ok) {
      const q = clusterObs.quorum.value;
      s.standalone = q.kind === "standalone";
      if (q.kind === "cluster") {
        s.clusterName = q.name;
        s.quorum = {
          quorate: q.quorate,
          ...(q.votes
            ? { totalVotes: q.votes.totalVotes, expectedVotes: q.votes.expectedVotes, quorum: q.votes.quorum }
            : {}),
        };
      }
    }
    if (clusterObs.haManager.ok) {
      s.ha = {
        enabled: clusterObs.haManager.value.configured,
        ...(clusterObs.haManager.value.masterNode ? { master: clusterObs.haManager.value.masterNode } : {}),
      };
    }
    s.lastObservedAt = isoAt(clock);
    const unreachable = nodes.filter((n) => n.error);
    const quorate = s.standalone || s.quorum?.quorate === true;
    setReady(
      s,
      unreachable.length > 0
        ? {
            status: "False",
            reason: "NodeUnreachable",
            message: unreachable.map((n) => `${n.name}: ${n.error ?? ""}`).join("; "),
          }
        : quorate
          ? {
              status: "True",
              reason: "Observed",
              message: `${nodes.length} node(s); ${nodes.filter((n) => (n.pendingUpdates ?? 0) > 0).length} with pending updates${keptBackNote(nodes)}`,
            }
          : { status: "False", reason: "NoQuorum", message: "the cluster is not quorate" },
      gen,
      now,
    );
    s.observedGeneration = gen;
    await store.updateStatus(cluster);
    const ready = getCondition(s, READY);
    log.info(
      {
        nodes: nodes.length,
        unreachable: unreachable.map((n) => n.name),
        withPendingUpdates: nodes.filter((n) => (n.pendingUpdates ?? 0) > 0).map((n) => n.name),
        withKeptBack: nodes.filter((n) => n.keptBack !== undefined).map((n) => n.name),
        rebootRequired: nodes.filter((n) => n.rebootRequired === true).map((n) => n.name),
        quorate,
        ready: ready?.status,
        reason: ready?.reason,
      },
      "cluster observed",
    );
    return { requeueAfter: interval };
  }
}

/** Kept-back packages are not "up to date": the summary names the nodes where a person must look. */
function keptBackNote(nodes: readonly ObservedNode[]): string {
  const kept = nodes.flatMap((n) => (n.keptBack?.length ? [`${n.name}: ${n.keptBack.join(", ")}`] : []));
  if (kept.length === 0) return "";
  return `; ${kept.length} with packages kept back that need a person (${kept.join("; ")})`;
}
