import { ctime } from "../commands/time-format.js";
import { clusterQuorum, isOnline, isQuorate } from "../model/cluster.js";
import {
  haActive,
  haGuests,
  haMaster,
  haServiceNode,
  haServiceState,
  haServices,
  haSid,
  lrmView,
} from "../model/ha-view.js";
import type { ClusterState } from "../model/state.js";
import { guestResource, nodeResource } from "./metrics.js";
import { ApiError, perl, registerEndpoints, type ApiRequest } from "./router.js";

function clusterOf(req: ApiRequest): ClusterState {
  const c = req.sim.clusterOf(req.local);
  if (!c) throw new ApiError(500, "no cluster");
  return c;
}

/** GET /cluster/status — a `cluster` row (not on a standalone node) and one row per node. */
function clusterStatus(req: ApiRequest): unknown {
  const c = clusterOf(req);
  const q = clusterQuorum(req.sim, c);
  const rows: Record<string, unknown>[] = [];
  if (!c.standalone)
    rows.push({
      type: "cluster",
      id: "cluster",
      name: c.name,
      nodes: c.nodes.length,
      // As the local node sees it: a node outside the membership (corosync rejoining) has none.
      quorate: perl(q.quorate && isQuorate(req.sim, req.local)),
      version: c.configVersion,
    });
  c.nodes.forEach((n, i) => {
    const h = req.sim.state.hosts[n]!;
    rows.push({
      type: "node",
      id: `node/${n}`,
      name: n,
      nodeid: c.standalone ? 0 : i + 1,
      ip: h.ip,
      level: "",
      local: perl(n === req.local.name),
      online: perl(isOnline(h)),
    });
  });
  return rows;
}

/** GET /cluster/resources [--type vm|storage|node|sdn] — guests, nodes, storages, pools, sdn zones. */
function clusterResources(req: ApiRequest): unknown {
  const { sim } = req;
  const c = clusterOf(req);
  const type = req.params.type;
  if (type !== undefined && !["vm", "storage", "node", "sdn"].includes(String(type)))
    throw new ApiError(
      400,
      `Parameter verification failed.\ntype: value '${String(type)}' does not have a value in the enumeration 'vm, storage, node, sdn'`,
    );
  const rows: Record<string, unknown>[] = [];
  if (!type || type === "vm") for (const g of sim.guestsIn(c.name)) rows.push(guestResource(sim, g));
  if (!type || type === "node") for (const n of c.nodes) rows.push(nodeResource(sim, sim.state.hosts[n]!));
  if (!type || type === "storage") {
    for (const n of c.nodes) {
      const h = sim.state.hosts[n]!;
      if (!isOnline(h)) continue;
      for (const s of c.storages) {
        const size = s.shared ? 4 * 1024 ** 4 : h.rootDisk.sizeBytes * 8;
        rows.push({
          id: `storage/${n}/${s.name}`,
          type: "storage",
          node: n,
          storage: s.name,
          plugintype: s.type,
          content: s.content.join(","),
          status: "available",
          shared: perl(s.shared),
          disk: Math.round(size * 0.21),
          maxdisk: size,
        });
      }
    }
  }
  if (!type) for (const p of c.pools) rows.push({ id: `pool/${p}`, type: "pool", pool: p });
  if (!type || type === "sdn")
    for (const n of c.nodes)
      if (isOnline(sim.state.hosts[n]))
        rows.push({ id: `sdn/${n}/localnetwork`, type: "sdn", node: n, sdn: "localnetwork", status: "ok" });
  return rows;
}

/** GET /cluster/ha/status/current — quorum, master, lrm and service rows (no `node` rows). */
function haCurrent(req: ApiRequest): unknown {
  const { sim } = req;
  const c = clusterOf(req);
  const q = clusterQuorum(sim, c);
  const now = sim.now();
  const rows: Record<string, unknown>[] = [
    {
      id: "quorum",
      type: "quorum",
      node: req.local.name,
      status: q.quorate && isQuorate(sim, req.local) ? "OK" : `No quorum on node '${req.local.name}'!`,
      quorate: perl(q.quorate && isQuorate(sim, req.local)),
    },
  ];
  if (!haActive(sim, c)) return rows;
  const master = haMaster(sim, c);
  if (master) {
    const alive = isOnline(sim.state.hosts[master]) && q.quorate;
    rows.push({
      id: "master",
      type: "master",
      node: master,
      status: `${master} (${alive ? "active" : "old timestamp - dead?"}, ${ctime(now)})`,
      timestamp: Math.floor(now / 1000),
    });
  }
  for (const n of c.nodes) {
    const v = lrmView(sim, c, n);
    rows.push({
      id: `lrm:${n}`,
      type: "lrm",
      node: n,
      status: `${n} (${v.word}, ${ctime(v.timestamp)})`,
      timestamp: Math.floor(v.timestamp / 1000),
    });
  }
  for (const g of haGuests(sim, c)) {
    const sid = haSid(g);
    const state = haServiceState(sim, g);
    const node = haServiceNode(g);
    rows.push({
      id: `service:${sid}`,
      type: "service",
      sid,
      node,
      crm_state: state,
      state,
      status: `${sid} (${node}, ${state})`,
      request_state: g.ha!.state,
      max_restart: 1,
      max_relocate: 1,
      failback: 1,
      ...(g.ha!.group ? { group: g.ha!.group } : {}),
    });
  }
  return rows;
}

/**
 * GET /cluster/options — datacenter.cfg as PVE::API2::Cluster get_options returns it: the keys
 * that are set (the simulator models `max_workers` only), nothing for unset ones.
 */
function clusterOptions(req: ApiRequest): unknown {
  const c = clusterOf(req);
  return c.maxWorkers !== undefined ? { max_workers: c.maxWorkers } : {};
}

/** GET /cluster/ha/status/manager_status — the CRM's raw status. */
function haManagerStatus(req: ApiRequest): unknown {
  const { sim } = req;
  const c = clusterOf(req);
  const q = clusterQuorum(sim, c);
  const now = Math.floor(sim.now() / 1000);
  if (!haActive(sim, c))
    return { manager_status: {}, quorum: { node: req.local.name, quorate: q.quorate ? "1" : "0" } };
  // The CRM's own view: it changes only in CRM rounds (a node that just went down is still
  // `online` here until the next round).
  const nodeStatus: Record<string, string> = {};
  for (const n of c.nodes) nodeStatus[n] = c.haNodeStatus[n] ?? "unknown";
  const serviceStatus: Record<string, unknown> = {};
  for (const g of haServices(sim, c)) {
    const ha = g.ha!;
    const state = haServiceState(sim, g);
    serviceStatus[haSid(g)] = {
      node: haServiceNode(g),
      state,
      uid: `${g.vmid.toString(36)}${ha.uid.toString(36)}`.padEnd(22, "A").slice(0, 22),
      ...(state === "started" && g.status === "running" ? { running: 1 } : {}),
      ...(ha.maintenanceOrigin ? { maintenance_node: ha.maintenanceOrigin } : {}),
      ...(ha.target ? { target: ha.target } : {}),
      ...(ha.runtime === "request_stop" && ha.stopTimeout !== undefined ? { timeout: ha.stopTimeout } : {}),
    };
  }
  // node_request keeps an empty object for a node whose maintenance was cleared.
  const nodeRequest: Record<string, Record<string, number>> = {};
  for (const [n, on] of Object.entries(c.maintenanceRequested)) nodeRequest[n] = on ? { maintenance: 1 } : {};
  const lrm: Record<string, unknown> = {};
  for (const n of c.nodes) {
    const v = lrmView(sim, c, n);
    lrm[n] = { mode: v.mode, state: v.state, timestamp: Math.floor(v.timestamp / 1000), results: {} };
  }
  return {
    manager_status: {
      master_node: haMaster(sim, c),
      timestamp: now,
      node_status: nodeStatus,
      service_status: serviceStatus,
      ...(Object.keys(nodeRequest).length > 0 ? { node_request: nodeRequest } : {}),
    },
    quorum: { node: req.local.name, quorate: q.quorate ? "1" : "0" },
    lrm_status: lrm,
  };
}

function haResources(req: ApiRequest): unknown {
  const c = clusterOf(req);
  return haGuests(req.sim, c).map((g) => ({
    sid: haSid(g),
    type: g.type === "qemu" ? "vm" : "ct",
    state: g.ha!.state,
    digest: "a5d1c7e5f2",
    ...(g.ha!.group ? { group: g.ha!.group } : {}),
  }));
}

function clusterTasks(req: ApiRequest): unknown {
  const c = clusterOf(req);
  return req.sim.state.tasks
    .filter((t) => c.nodes.includes(t.node))
    .slice(-50)
    .reverse();
}

function nodesList(req: ApiRequest): unknown {
  const c = clusterOf(req);
  return c.nodes.map((n) => {
    const r = nodeResource(req.sim, req.sim.state.hosts[n]!);
    return { ...r, ssl_fingerprint: "5A:3C:...:9F" };
  });
}

function version(req: ApiRequest): unknown {
  const v = req.local.apt.installed["pve-manager"]?.version ?? "8.4.1";
  return { version: v, release: v.split(".").slice(0, 2).join("."), repoid: "2a5fa54a" };
}

export function registerClusterEndpoints(): void {
  registerEndpoints([
    { pattern: /^\/cluster\/status$/, params: {}, get: clusterStatus },
    { pattern: /^\/cluster\/resources$/, params: { type: "string" }, get: clusterResources },
    { pattern: /^\/cluster\/ha\/status\/current$/, params: {}, get: haCurrent },
    { pattern: /^\/cluster\/ha\/status\/manager_status$/, params: {}, get: haManagerStatus },
    { pattern: /^\/cluster\/ha\/resources$/, params: { type: "string" }, get: haResources },
    { pattern: /^\/cluster\/tasks$/, params: {}, get: clusterTasks },
    { pattern: /^\/cluster\/options$/, params: {}, get: clusterOptions },
    { pattern: /^\/nodes$/, params: {}, get: nodesList },
    { pattern: /^\/version$/, params: {}, get: version },
  ]);
}
