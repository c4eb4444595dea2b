/**
 * A hyper-converged Ceph cluster: a monitor and `osdsPerNode` OSDs on every node, size-3 pools with
 * the host as failure domain. Health is derived from the nodes' power and boot times, so nothing has
 * to tick: a node that is not up has its OSDs down (OSD_DOWN, OSD_HOST_DOWN) and its share of the
 * PGs degraded (PG_DEGRADED); a node that booted after the model was built recovers its PGs for
 * `recoverySeconds` after the boot (degraded objects shrinking to 0), then the check clears. Flags
 * show as real Ceph prints them (OSDMAP_FLAGS for cluster-wide flags, OSD_FLAGS for `set-group`).
 * Message formats: src/pve/REFERENCE-ceph.md.
 */
import { randomUUID } from "node:crypto";
import type { CephSpec } from "../fleet-schema.js";
import type { Sim } from "../world.js";
import type { CephSimState, ClusterState, HostState } from "./state.js";

export type CephSeverity = "HEALTH_OK" | "HEALTH_WARN" | "HEALTH_ERR";

export interface CephCheckView {
  code: string;
  severity: Exclude<CephSeverity, "HEALTH_OK">;
  summary: string;
  count: number;
  detail: string[];
}

export interface CephHealthView {
  status: CephSeverity;
  checks: CephCheckView[];
}

export function buildCeph(spec: CephSpec, nodes: readonly string[], now: number): CephSimState {
  return {
    fsid: randomUUID(),
    osds: nodes.flatMap((host, ni) =>
      Array.from({ length: spec.osdsPerNode }, (_, k) => ({ id: ni * spec.osdsPerNode + k, host })),
    ),
    pgs: spec.pgs,
    objects: spec.objects,
    recoverySeconds: spec.recoverySeconds,
    downOutSeconds: spec.downOutSeconds,
    rebalanceSeconds: spec.rebalanceSeconds,
    downSince: {},
    backfillFrom: {},
    flags: [...spec.flags],
    groupFlags: {},
    createdAt: now,
    extraChecks: spec.checks.map((c) => ({ ...c, detail: [...c.detail] })),
  };
}

/** The bootstrap ceph.conf `pveceph init` writes (pve-docs pveceph.adoc). */
export function cephConf(ceph: CephSimState, monIps: readonly string[]): string {
  const net = `${(monIps[0] ?? "10.10.0.11").split(".").slice(0, 3).join(".")}.0/24`;
  return [
    "[global]",
    "\tauth_client_required = cephx",
    "\tauth_cluster_required = cephx",
    "\tauth_service_required = cephx",
    `\tcluster_network = ${net}`,
    `\tfsid = ${ceph.fsid}`,
    `\tmon_host = ${monIps.join(" ")}`,
    "\tosd_pool_default_min_size = 2",
    "\tosd_pool_default_size = 3",
    `\tpublic_network = ${net}`,
    "",
    "[client]",
    "\tkeyring = /etc/pve/priv/$cluster.$name.keyring",
    "",
  ].join("\n");
}

const up = (h: HostState | undefined): boolean => h?.power === "up";

/** Whether noout protects this node's OSDs: the cluster-wide flag, or the node's (or an OSD's) group flag. */
function noout(ceph: CephSimState, host: string): boolean {
  if (ceph.flags.includes("noout")) return true;
  const own = [host, ...ceph.osds.filter((o) => o.host === host).map((o) => `osd.${o.id}`)];
  return own.some((w) => ceph.groupFlags[w]?.includes("noout"));
}

/** When a down node's OSDs are (or will be) marked out; undefined while noout holds them in. */
function outAt(ceph: CephSimState, host: string): number | undefined {
  const since = ceph.downSince[host];
  if (since === undefined || noout(ceph, host)) return undefined;
  return since + ceph.downOutSeconds * 1000;
}

/**
 * Tracks nodes going down and coming back (the monitors see it): a node that returns after its
 * OSDs were marked out gets its data backfilled back (OBJECT_MISPLACED) instead of a quick recovery.
 */
export function watchCeph(sim: Sim): void {
  const cephOf = (name: string) => {
    const h = sim.host(name);
    return h ? sim.clusterOf(h)?.ceph : undefined;
  };
  sim.events.on("host-down", (name) => {
    const ceph = cephOf(name);
    if (ceph && ceph.downSince[name] === undefined) ceph.downSince[name] = sim.now();
  });
  sim.events.on("host-up", (name) => {
    const ceph = cephOf(name);
    if (!ceph) return;
    const out = outAt(ceph, name);
    if (out !== undefined && sim.now() >= out) ceph.backfillFrom[name] = sim.now();
    else delete ceph.backfillFrom[name];
    delete ceph.downSince[name];
  });
}

/** Share of a whole-node rebalance still to do, `from` its start (1 → 0 over rebalanceSeconds). */
function rebalanceLeft(sim: Sim, ceph: CephSimState, from: number): number {
  if (ceph.rebalanceSeconds <= 0) return 0;
  return Math.max(0, Math.min(1, 1 - (sim.now() - from) / (ceph.rebalanceSeconds * 1000)));
}

/** Degraded share of a down node: all of it, until its OSDs are out and their data re-replicated. */
function downShare(sim: Sim, ceph: CephSimState, host: string): number {
  const out = outAt(ceph, host);
  return out === undefined || sim.now() < out ? 1 : rebalanceLeft(sim, ceph, out);
}

/** The OSDs that are `in` now (a down node's OSDs go out after downOutSeconds without noout). */
export function osdsIn(sim: Sim, ceph: CephSimState): number {
  return ceph.osds.filter((o) => {
    const out = outAt(ceph, o.host);
    return up(sim.host(o.host)) || out === undefined || sim.now() < out;
  }).length;
}

function misplacedCheck(sim: Sim, ceph: CephSimState, hostShare: number): CephCheckView[] {
  const share = Object.values(ceph.backfillFrom).reduce(
    (s, from) => s + rebalanceLeft(sim, ceph, from) * hostShare,
    0,
  );
  const copies = ceph.objects * 3;
  const misplaced = Math.round(copies * share);
  if (misplaced === 0) return [];
  return [
    {
      code: "OBJECT_MISPLACED",
      severity: "HEALTH_WARN",
      summary: `${misplaced}/${copies} objects misplaced (${((misplaced / copies) * 100).toFixed(3)}%)`,
      count: misplaced,
      detail: [],
    },
  ];
}

/** Monitors answer while more than half of them (one per node) are up. */
export function monQuorum(sim: Sim, cluster: ClusterState): boolean {
  const upCount = cluster.nodes.filter((n) => up(sim.host(n))).length;
  return upCount * 2 > cluster.nodes.length;
}

/** How much of a returned node's data is still to recover (1 at its boot, 0 after recoverySeconds). */
function recoveringShare(sim: Sim, ceph: CephSimState, host: HostState): number {
  if (!up(host) || host.bootedAt <= ceph.createdAt || ceph.recoverySeconds <= 0) return 0;
  // Its data was re-replicated while it was out: what comes back is misplaced, not degraded.
  if (ceph.backfillFrom[host.name] !== undefined) return 0;
  const left = 1 - (sim.now() - host.bootedAt) / (ceph.recoverySeconds * 1000);
  return Math.max(0, Math.min(1, left));
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function monDown(sim: Sim, cluster: ClusterState, downHosts: string[]): CephCheckView[] {
  const down = cluster.nodes.filter((n) => downHosts.includes(n));
  if (down.length === 0) return [];
  const quorum = cluster.nodes.filter((n) => !down.includes(n));
  return [
    {
      code: "MON_DOWN",
      severity: "HEALTH_WARN",
      summary: `${down.length}/${cluster.nodes.length} mons down, quorum ${quorum.join(",")}`,
      count: down.length,
      detail: down.map((n) => {
        const ip = sim.host(n)?.ip ?? "0.0.0.0";
        return `mon.${n} (rank ${cluster.nodes.indexOf(n)}) addr [v2:${ip}:3300/0,v1:${ip}:6789/0] is down (out of quorum)`;
      }),
    },
  ];
}

function downChecks(ceph: CephSimState, downHosts: string[]): CephCheckView[] {
  const downOsds = ceph.osds.filter((o) => downHosts.includes(o.host));
  if (downOsds.length === 0) return [];
  return [
    {
      code: "OSD_DOWN",
      severity: "HEALTH_WARN",
      summary: `${downOsds.length} osds down`,
      count: downOsds.length,
      detail: downOsds.map((o) => `osd.${o.id} (root=default,host=${o.host}) is down`),
    },
    {
      code: "OSD_HOST_DOWN",
      severity: "HEALTH_WARN",
      summary: `${plural(downHosts.length, "host")} (${downOsds.length} osds) down`,
      count: downHosts.length,
      detail: downHosts.map(
        (h) => `host ${h} (root=default) (${ceph.osds.filter((o) => o.host === h).length} osds) is down`,
      ),
    },
  ];
}

/** Size-3 pools over hosts: one host's share of the copies is missing while it is down or recovering. */
function degradedCheck(ceph: CephSimState, share: number): CephCheckView[] {
  const copies = ceph.objects * 3;
  const degraded = Math.round(copies * share);
  if (degraded === 0) return [];
  const pgs = Math.max(1, Math.min(ceph.pgs, Math.round(ceph.pgs * share * 3)));
  const pct = ((degraded / copies) * 100).toFixed(3);
  return [
    {
      code: "PG_DEGRADED",
      severity: "HEALTH_WARN",
      summary: `Degraded data redundancy: ${degraded}/${copies} objects degraded (${pct}%), ${pgs} pgs degraded`,
      count: pgs,
      detail: [`pg 1.0 is active+undersized+degraded, acting [0,${ceph.osds.length - 1}]`],
    },
  ];
}

function flagChecks(ceph: CephSimState): CephCheckView[] {
  const out: CephCheckView[] = [];
  if (ceph.flags.length > 0)
    out.push({
      code: "OSDMAP_FLAGS",
      severity: "HEALTH_WARN",
      summary: `${ceph.flags.join(",")} flag(s) set`,
      count: ceph.flags.length,
      detail: [],
    });
  const groups = Object.entries(ceph.groupFlags).filter(([, f]) => f.length > 0);
  if (groups.length > 0)
    out.push({
      code: "OSD_FLAGS",
      severity: "HEALTH_WARN",
      summary: `${groups.length} OSDs or CRUSH {nodes, device-classes} have {NOUP,NODOWN,NOIN,NOOUT} flags set`,
      count: groups.length,
      detail: groups.map(
        ([who, f]) => `${/^osd\.\d+$/.test(who) ? who : `host ${who}`} has flags ${f.join(",")}`,
      ),
    });
  return out;
}

/** The health `ceph health detail` reports now. */
export function cephHealth(sim: Sim, cluster: ClusterState): CephHealthView {
  const ceph = cluster.ceph;
  if (!ceph) return { status: "HEALTH_OK", checks: [] };
  const hosts = [...new Set(ceph.osds.map((o) => o.host))];
  const downHosts = hosts.filter((h) => !up(sim.host(h)));
  const hostShare = 1 / Math.max(3, hosts.length);
  const share = Math.min(
    1,
    downHosts.reduce((s, h) => s + downShare(sim, ceph, h) * hostShare, 0) +
      hosts.reduce((s, h) => s + recoveringShare(sim, ceph, sim.host(h)!) * hostShare, 0),
  );
  const checks = [
    ...flagChecks(ceph),
    ...monDown(sim, cluster, downHosts),
    ...downChecks(ceph, downHosts),
    ...degradedCheck(ceph, share),
    ...misplacedCheck(sim, ceph, hostShare),
    ...ceph.extraChecks.map((c) => ({ ...c, count: 1 })),
  ];
  const status: CephSeverity = checks.some((c) => c.severity === "HEALTH_ERR")
    ? "HEALTH_ERR"
    : checks.length > 0
      ? "HEALTH_WARN"
      : "HEALTH_OK";
  return { status, checks };
}

/** Whether `who` is a CRUSH host bucket or an OSD (`osd.3` or `3`) of this cluster. */
export function crushTarget(ceph: CephSimState, who: string): string | undefined {
  if (ceph.osds.some((o) => o.host === who)) return who;
  const id = /^(?:osd\.)?(\d+)$/.exec(who)?.[1];
  return id !== undefined && ceph.osds.some((o) => o.id === Number(id)) ? `osd.${id}` : undefined;
}
