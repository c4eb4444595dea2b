import { pveManagerHash, pveManagerVersion, rootUsage } from "../commands/system.js";
import { pendingUpgrades } from "../apt/plan.js";
import { nodeMemoryUsed } from "../model/cluster.js";
import { CPU_MODEL } from "../model/defaults.js";
import { guestConfig } from "../model/guest-config.js";
import { migratePrecondition } from "../ops/migrate-checks.js";
import type { GuestState, HostState } from "../model/state.js";
import { guestMaxDisk, guestMem, guestUptime, nodeCpu, nodeUptime } from "./metrics.js";
import { ApiError, perl, registerEndpoints, type ApiRequest } from "./router.js";
import { registerServiceEndpoints } from "./service-endpoints.js";

function nodeOf(req: ApiRequest): HostState {
  return req.sim.state.hosts[req.path[0]!]!;
}

/** GET /nodes/<n>/status — the shape of the reference capture (loadavg as strings). */
function nodeStatus(req: ApiRequest): unknown {
  const { sim } = req;
  const h = nodeOf(req);
  const root = rootUsage(sim, h);
  const used = nodeMemoryUsed(sim, h.name);
  const ver = pveManagerVersion(h);
  const pkgVer = h.kernelRunning.replace(/-pve$/, "");
  return {
    uptime: nodeUptime(sim, h),
    idle: 0,
    wait: 0.000349400331524035,
    cpu: nodeCpu(sim, h),
    loadavg: ["0.42", "0.37", "0.31"],
    pveversion: `pve-manager/${ver}/${pveManagerHash(ver)}`,
    kversion: `Linux ${h.kernelRunning} #1 SMP PREEMPT_DYNAMIC PMX ${pkgVer} (2025-03-16T19:18Z)`,
    "current-kernel": {
      sysname: "Linux",
      release: h.kernelRunning,
      version: `#1 SMP PREEMPT_DYNAMIC PMX ${pkgVer} (2025-03-16T19:18Z)`,
      machine: "x86_64",
    },
    "boot-info": { mode: "efi", secureboot: 0 },
    rootfs: { total: root.size, used: root.used, avail: root.avail, free: root.avail },
    memory: { total: h.memoryBytes, used, free: h.memoryBytes - used },
    swap: { total: 8589930496, used: 0, free: 8589930496 },
    ksm: { shared: 0 },
    cpuinfo: {
      cpus: h.cpus,
      cores: h.cpus / 2,
      sockets: 1,
      model: CPU_MODEL,
      mhz: "2400.000",
      hvm: "1",
      user_hz: 100,
      flags: "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov",
    },
  };
}

/** GET /nodes/<n>/tasks [--source active|archive|all] [--limit N] [--vmid] [--typefilter] [--errors]. */
function nodeTasks(req: ApiRequest): unknown {
  const { sim, params } = req;
  const node = req.path[0]!;
  const source = String(params.source ?? "archive");
  if (!["active", "archive", "all"].includes(source))
    throw new ApiError(
      400,
      `Parameter verification failed.\nsource: value '${source}' does not have a value in the enumeration 'archive, active, all'`,
    );
  let tasks = sim.state.tasks.filter((t) => t.node === node);
  if (source === "active") tasks = tasks.filter((t) => t.status === undefined);
  if (source === "archive") tasks = tasks.filter((t) => t.status !== undefined);
  if (params.vmid !== undefined) tasks = tasks.filter((t) => t.id === String(params.vmid));
  if (params.typefilter !== undefined) tasks = tasks.filter((t) => t.type === params.typefilter);
  if (params.errors === true) tasks = tasks.filter((t) => t.status !== undefined && t.status !== "OK");
  const limit = typeof params.limit === "number" ? params.limit : 50;
  return tasks
    .slice()
    .sort((a, b) => b.starttime - a.starttime)
    .slice(0, limit)
    .map((t) => ({ ...t }));
}

function guestsOfType(req: ApiRequest, type: "qemu" | "lxc"): GuestState[] {
  return req.sim.guestsOn(req.path[0]!).filter((g) => g.type === type);
}

function qemuList(req: ApiRequest): unknown {
  return guestsOfType(req, "qemu").map((g) => {
    const running = g.status === "running";
    return {
      vmid: g.vmid,
      name: g.name,
      status: running ? "running" : "stopped",
      cpus: g.cores,
      cpu: running ? 0.0123 : 0,
      maxmem: g.memoryBytes,
      mem: guestMem(g),
      maxdisk: guestMaxDisk(g),
      disk: 0,
      uptime: guestUptime(req.sim, g),
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      ...(running ? { pid: 10000 + g.vmid } : {}),
      ...(g.tags.length ? { tags: g.tags.join(";") } : {}),
      ...(g.lock ? { lock: g.lock } : {}),
      ...(g.template ? { template: 1 } : {}),
    };
  });
}

function lxcList(req: ApiRequest): unknown {
  return guestsOfType(req, "lxc").map((g) => {
    const running = g.status === "running";
    return {
      vmid: g.vmid,
      name: g.name,
      type: "lxc",
      status: running ? "running" : "stopped",
      cpus: g.cores,
      cpu: running ? 0.0042 : 0,
      maxmem: g.memoryBytes,
      mem: guestMem(g),
      maxswap: 536870912,
      swap: 0,
      maxdisk: guestMaxDisk(g),
      disk: Math.round(guestMaxDisk(g) * 0.3),
      uptime: guestUptime(req.sim, g),
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      ...(g.tags.length ? { tags: g.tags.join(";") } : {}),
      ...(g.lock ? { lock: g.lock } : {}),
    };
  });
}

function guestOn(req: ApiRequest, type: "qemu" | "lxc"): GuestState {
  const node = req.path[0]!;
  const vmid = Number(req.path[1]);
  const g = req.sim.guest(vmid);
  if (!g || g.node !== node || g.type !== type)
    throw new ApiError(
      500,
      `Configuration file 'nodes/${node}/${type === "qemu" ? "qemu-server" : "lxc"}/${vmid}.conf' does not exist`,
    );
  return g;
}

function guestStatus(req: ApiRequest, type: "qemu" | "lxc"): unknown {
  const g = guestOn(req, type);
  const running = g.status === "running";
  const base: Record<string, unknown> = {
    vmid: g.vmid,
    name: g.name,
    status: running ? "running" : "stopped",
    cpus: g.cores,
    cpu: running ? 0.0123 : 0,
    maxmem: g.memoryBytes,
    mem: guestMem(g),
    maxdisk: guestMaxDisk(g),
    disk: 0,
    uptime: guestUptime(req.sim, g),
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
    ha: g.ha ? { managed: 1, state: g.ha.runtime, group: g.ha.group } : { managed: 0 },
  };
  if (g.lock) base.lock = g.lock;
  if (g.tags.length) base.tags = g.tags.join(";");
  if (type === "qemu") {
    base.qmpstatus = running ? "running" : "stopped";
    if (running) {
      base.pid = 10000 + g.vmid;
      base["running-machine"] = "pc-i440fx-9.0+pve0";
      base["running-qemu"] = "9.0.2";
    }
    if (g.hostName) base.agent = 1;
  } else {
    base.type = "lxc";
    base.maxswap = 536870912;
    base.swap = 0;
  }
  return base;
}

function guestSnapshots(req: ApiRequest, type: "qemu" | "lxc"): unknown {
  const g = guestOn(req, type);
  const rows: Record<string, unknown>[] = g.snapshots.map((s) => ({
    name: s.name,
    description: s.description,
    snaptime: s.snaptime,
    ...(s.parent ? { parent: s.parent } : {}),
    ...(type === "qemu" ? { vmstate: perl(s.vmstate) } : {}),
  }));
  rows.push({
    name: "current",
    description: "You are here!",
    running: perl(g.status === "running"),
    digest: "d1g3st",
    ...(g.parent ? { parent: g.parent } : {}),
  });
  return rows;
}

/** GET /nodes/<n>/apt/update — pending updates as the GUI shows them. */
function aptUpdates(req: ApiRequest): unknown {
  const h = nodeOf(req);
  return pendingUpgrades(h.apt).map((p) => ({
    Package: p.name,
    Title: p.name,
    Description: `${p.name} package`,
    OldVersion: p.from ?? "",
    Version: p.to.version,
    Origin: p.to.origin.startsWith("Debian") ? "Debian" : "Proxmox",
    Priority: "optional",
    Section: "admin",
    Arch: p.to.arch,
  }));
}

/** GET /nodes/<n>/storage/<storage>/content [--content backup] [--vmid N] — backup archives (volid, size, ctime). */
function storageContent(req: ApiRequest): unknown {
  const node = req.path[0]!;
  const storage = req.path[1]!;
  const cluster = req.sim.clusterOf(req.sim.state.hosts[node]!);
  const st = cluster?.storages.find((s) => s.name === storage);
  if (!cluster || !st) throw new ApiError(500, `storage '${storage}' does not exist`);
  const content = req.params.content;
  if (content !== undefined && content !== "backup") return [];
  return cluster.backups
    .filter((b) => b.storage === storage && (b.node === undefined || b.node === node))
    .filter((b) => req.params.vmid === undefined || b.vmid === req.params.vmid)
    .map((b) => ({
      volid: b.volid,
      content: "backup",
      format: b.type === "qemu" ? "vma.zst" : "tar.zst",
      size: b.sizeBytes,
      ctime: b.ctime,
      vmid: b.vmid,
      subtype: b.type,
      ...(b.notes !== undefined ? { notes: b.notes } : {}),
    }));
}

function nodeVersion(req: ApiRequest): unknown {
  const v = pveManagerVersion(nodeOf(req));
  return { version: v, release: v.split(".").slice(0, 2).join("."), repoid: pveManagerHash(v).slice(0, 8) };
}

const NODE = "([a-zA-Z0-9-]+)";

export function registerNodeEndpoints(): void {
  const node = (m: string[]): string => m[0]!;
  registerEndpoints([
    { pattern: new RegExp(`^/nodes/${NODE}/status$`), node, params: {}, get: nodeStatus },
    {
      pattern: new RegExp(`^/nodes/${NODE}/tasks$`),
      node,
      params: {
        source: "string",
        limit: "int",
        start: "int",
        vmid: "int",
        typefilter: "string",
        errors: "bool",
        userfilter: "string",
        since: "int",
        until: "int",
        statusfilter: "string",
      },
      get: nodeTasks,
    },
    { pattern: new RegExp(`^/nodes/${NODE}/qemu$`), node, params: { full: "bool" }, get: qemuList },
    { pattern: new RegExp(`^/nodes/${NODE}/lxc$`), node, params: {}, get: lxcList },
    {
      pattern: new RegExp(`^/nodes/${NODE}/qemu/(\\d+)/config$`),
      node,
      params: { current: "bool", snapshot: "string" },
      get: (r) => guestConfig(guestOn(r, "qemu")),
    },
    {
      pattern: new RegExp(`^/nodes/${NODE}/lxc/(\\d+)/config$`),
      node,
      params: { current: "bool", snapshot: "string" },
      get: (r) => guestConfig(guestOn(r, "lxc")),
    },
    {
      // migrate_vm_precondition: check_lock first ("VM is locked (<lock>)"), then the checks.
      pattern: new RegExp(`^/nodes/${NODE}/qemu/(\\d+)/migrate$`),
      node,
      params: { target: "string" },
      get: (r) => {
        const g = guestOn(r, "qemu");
        if (g.lock) throw new ApiError(500, `VM is locked (${g.lock})`);
        return migratePrecondition(r.sim.cluster(g.cluster)!, g);
      },
    },
    {
      pattern: new RegExp(`^/nodes/${NODE}/qemu/(\\d+)/status/current$`),
      node,
      params: {},
      get: (r) => guestStatus(r, "qemu"),
    },
    {
      pattern: new RegExp(`^/nodes/${NODE}/lxc/(\\d+)/status/current$`),
      node,
      params: {},
      get: (r) => guestStatus(r, "lxc"),
    },
    {
      pattern: new RegExp(`^/nodes/${NODE}/qemu/(\\d+)/snapshot$`),
      node,
      params: {},
      get: (r) => guestSnapshots(r, "qemu"),
    },
    {
      pattern: new RegExp(`^/nodes/${NODE}/lxc/(\\d+)/snapshot$`),
      node,
      params: {},
      get: (r) => guestSnapshots(r, "lxc"),
    },
    { pattern: new RegExp(`^/nodes/${NODE}/apt/update$`), node, params: {}, get: aptUpdates },
    { pattern: new RegExp(`^/nodes/${NODE}/version$`), node, params: {}, get: nodeVersion },
    {
      pattern: new RegExp(`^/nodes/${NODE}/storage/([a-zA-Z0-9_.-]+)/content$`),
      node,
      params: { content: "string", vmid: "int" },
      get: storageContent,
    },
  ]);
  registerServiceEndpoints(node, NODE);
}
