import { clusterQuorum, isOnline, nodeMemoryFree } from "../model/cluster.js";
import {
  activeServiceCount,
  haMaster,
  haServiceNode,
  haServices,
  haSid,
  lrmRunning,
  noteLrmWrite,
} from "../model/ha-view.js";
import type { ClusterState, GuestState, HaEvent, HostState, LrmMode, LrmStateName } from "../model/state.js";
import { SimStopped, type Sim } from "../world.js";
import { migrateGuest } from "./migrate.js";
import { onLrmShutdown, shutdownGuest, startGuest, stopGuest } from "./power.js";

/**
 * The HA stack as pve-ha-manager runs it (see src/sim/REFERENCE-ha-shutdown.md for the sources).
 *
 * `ha-manager` only queues CRM commands. The CRM master (a node whose pve-ha-crm runs) does one
 * round every `haRoundSeconds`: it reads every node's lrm_status mode and updates its node states
 * (online → maintenance once the LRM reports mode maintenance, back to online once it does not),
 * then processes the queued commands (`enable-node-maintenance` only for an online node: it sets
 * `node_request`; `disable-node-maintenance` clears it), then moves services through their states:
 * a started service on a node in maintenance gets `maintenance_node` and is set to migrate
 * (relocate for a CT) to another online node, and goes back to its maintenance_node once that node
 * is online again. The LRM of each node (running only while pve-ha-lrm is active) does its own
 * round (10 s while active, 5 s otherwise): it takes mode maintenance from node_request, changes its
 * state (wait_for_agent_lock → active once it has active services; active → maintenance at once
 * when maintenance is requested, while its services are still there; maintenance → active when
 * the request is gone and the node is empty), runs the migrations, starts and stops the CRM asked
 * for (at most datacenter.cfg `max_workers`, default 4, at once: run_workers keeps starting the
 * round's queued work as workers end, for up to 8 s of the round), and writes its status. The CRM
 * sees an LRM's results in its next round.
 */

const FENCE_AFTER_SECONDS = 120;
/** datacenter.cfg `max_workers` default (PVE::HA::Env::PVE2::get_max_workers). */
const MAX_WORKERS = 4;
/** LRM.pm run_workers: queued work is started, as workers end, for this long after a round starts. */
const RUN_WORKERS_SECONDS = 8;

function maxWorkers(c: ClusterState): number {
  return c.maxWorkers ?? MAX_WORKERS;
}
/** LRM.pm: `$max_active_idle_rounds`: an active LRM without services goes idle after these rounds. */
const MAX_ACTIVE_IDLE_ROUNDS = 60;

const busy = new WeakSet<GuestState>();
const workers = new Map<string, number>();
const deadSince = new WeakMap<ClusterState, Record<string, number>>();

/** The LRM process of a node (runtime only; what it writes is `cluster.lrm[node]`). */
interface LrmDaemon {
  /** boot id and service start: a new value is a new process. */
  key: string;
  fresh: boolean;
  mode: LrmMode;
  state: LrmStateName;
  idleRounds: number;
  shuttingDown: boolean;
  exited: boolean;
}
const daemons = new WeakMap<HostState, LrmDaemon>();

function daemonKey(host: HostState): string {
  return `${host.bootId}/${host.services["pve-ha-lrm"]?.since ?? 0}`;
}

/** The node's LRM as the HA log records it. */
function lrmNow(sim: Sim, node: string): Pick<HaEvent, "lrm" | "lrmService"> {
  const host = sim.state.hosts[node];
  const svc = host?.services["pve-ha-lrm"];
  const up = host !== undefined && (host.power === "up" || host.power === "shutting-down");
  const d = host ? daemons.get(host) : undefined;
  const running = lrmRunning(host) && d !== undefined && d.key === daemonKey(host!) && !d.exited;
  return {
    lrm: running && !d.fresh ? d.state : "not-running",
    lrmService: up ? (svc?.active ?? "inactive") : "down",
  };
}

export function haEvent(
  sim: Sim,
  cluster: ClusterState,
  node: string,
  e: Omit<HaEvent, "at" | "cluster" | "node" | "lrm" | "lrmService">,
): void {
  const h = sim.state.history.ha;
  h.push({ at: sim.now(), cluster: cluster.name, node, ...e, ...lrmNow(sim, node) });
  if (h.length > 5000) h.splice(0, h.length - 5000);
}

/** `ha-manager` queues a command for the CRM (PVE::HA::Config::queue_crm_commands). */
export function queueCrmCommand(sim: Sim, host: HostState, cmd: string): void {
  const c = sim.clusterOf(host);
  if (!c) return;
  c.crmCommands.push(cmd);
  const m = /^(enable|disable)-node-maintenance (\S+)$/.exec(cmd);
  if (m) haEvent(sim, c, m[2]!, { event: `maintenance-${m[1] as "enable" | "disable"}`, by: host.name });
}

function setNodeStatus(sim: Sim, c: ClusterState, node: string, to: string): void {
  const from = c.haNodeStatus[node] ?? "unknown";
  if (from === to) return;
  c.haNodeStatus[node] = to;
  haEvent(sim, c, node, { event: "node-status", from, to });
}

function change(
  sim: Sim,
  c: ClusterState,
  g: GuestState,
  to: string,
  params: { node?: string; target?: string; stopTimeout?: number } = {},
): void {
  const ha = g.ha!;
  const from = ha.runtime;
  const node = params.node ?? haServiceNode(g);
  ha.runtime = to;
  ha.uid++;
  ha.source = to === "migrate" || to === "relocate" ? node : undefined;
  ha.target = params.target;
  ha.stopTimeout = to === "request_stop" ? params.stopTimeout : undefined;
  haEvent(sim, c, node, {
    event: "service",
    sid: haSid(g),
    from,
    to,
    ...(params.target ? { target: params.target } : {}),
  });
}

/** Online nodes (CRM state) a service could move to, best first (most free memory). */
function candidates(sim: Sim, c: ClusterState, g: GuestState, exclude?: string): string[] {
  const online = c.nodes.filter(
    (n) => n !== exclude && c.haNodeStatus[n] === "online" && isOnline(sim.state.hosts[n]),
  );
  return online.sort((a, b) => nodeMemoryFree(sim, b) - nodeMemoryFree(sim, a));
}

/**
 * Manager.pm select_service_node (failback on, no groups or rules): the maintenance fallback when it
 * is online, else the current node when it is online, else the best online node.
 */
function selectNode(sim: Sim, c: ClusterState, g: GuestState): string | undefined {
  const online = candidates(sim, c, g);
  const origin = g.ha!.maintenanceOrigin;
  if (origin && online.includes(origin)) return origin;
  const node = haServiceNode(g);
  if (online.includes(node)) return node;
  const fits = online.filter((n) => g.status !== "running" || nodeMemoryFree(sim, n) >= g.memoryBytes);
  return fits[0] ?? online[0];
}

function processCommands(sim: Sim, c: ClusterState): void {
  for (const cmd of c.crmCommands.splice(0)) {
    let m = /^enable-node-maintenance (\S+)$/.exec(cmd);
    if (m) {
      const node = m[1]!;
      const state = c.haNodeStatus[node] ?? "unknown";
      if (state === "online") {
        c.maintenanceRequested[node] = true;
        haEvent(sim, c, node, { event: "node-request", to: "maintenance" });
      } else if (state === "maintenance")
        haEvent(sim, c, node, {
          event: "node-request",
          to: "ignored",
          detail: `ignoring crm command - node ${node} is already in maintenance state`,
        });
      else
        haEvent(sim, c, node, {
          event: "node-request",
          to: "dropped",
          detail: `crm command error - node not online: ${cmd}`,
        });
      continue;
    }
    m = /^disable-node-maintenance (\S+)$/.exec(cmd);
    if (m) {
      const node = m[1]!;
      const state = c.haNodeStatus[node] ?? "unknown";
      // The request is cleared whatever the node's state (only a warning when not in maintenance).
      if (c.maintenanceRequested[node] !== undefined) c.maintenanceRequested[node] = false;
      haEvent(sim, c, node, {
        event: "node-request",
        to: "none",
        ...(state !== "maintenance"
          ? { detail: `clearing maintenance of node ${node} requested, but it's in state ${state}` }
          : {}),
      });
      continue;
    }
    m = /^(migrate|relocate) (\S+) (\S+)$/.exec(cmd);
    if (m) {
      const g = serviceBySid(sim, c, m[2]!);
      const target = m[3]!;
      if (g && c.haNodeStatus[target] === "online" && target !== haServiceNode(g))
        g.ha!.pendingMigrate = target;
      continue;
    }
    m = /^stop (\S+) (\d+)$/.exec(cmd);
    if (m) {
      const g = serviceBySid(sim, c, m[1]!);
      if (g) g.ha!.pendingStop = Number(m[2]);
    }
  }
}

function serviceBySid(sim: Sim, c: ClusterState, sid: string): GuestState | undefined {
  return haServices(sim, c).find((g) => haSid(g) === sid);
}

/** One pass of the CRM's service state machine for one service; true when its state changed. */
function nextState(sim: Sim, c: ClusterState, g: GuestState, dead: Record<string, number>): boolean {
  const ha = g.ha!;
  const before = `${ha.runtime}/${ha.uid}`;
  const node = haServiceNode(g);
  const nodeState = c.haNodeStatus[node] ?? "unknown";
  const result = ha.result?.uid === ha.uid ? ha.result : undefined;
  const wantStarted = ha.state === "started";
  switch (ha.runtime) {
    case "started": {
      if (nodeState !== "online") {
        if (nodeState !== "maintenance") {
          const since = dead[node];
          if (since !== undefined && sim.now() - since >= FENCE_AFTER_SECONDS * 1000) {
            // Fenced: the service is recovered on another node.
            const target = candidates(sim, c, g, node)[0];
            if (target) {
              // NodeStatus.pm fence_node(): the node is `fence` until the CRM holds its agent lock;
              // the sim's lock is free at once, so it is acknowledged in the same round (`unknown`).
              setNodeStatus(sim, c, node, "fence");
              setNodeStatus(sim, c, node, "unknown");
              change(sim, c, g, "fence");
              g.node = target;
              g.status = "stopped";
              change(sim, c, g, "recovery", { node: target });
            }
          }
          break;
        }
        ha.maintenanceOrigin = node;
      }
      if (ha.state === "disabled" || ha.state === "stopped") {
        change(sim, c, g, "request_stop");
        break;
      }
      if (ha.pendingStop !== undefined) {
        const timeout = ha.pendingStop;
        ha.pendingStop = undefined;
        ha.state = "stopped";
        change(sim, c, g, "request_stop", { stopTimeout: timeout });
        break;
      }
      if (ha.pendingMigrate !== undefined) {
        const target = ha.pendingMigrate;
        ha.pendingMigrate = undefined;
        if (c.haNodeStatus[target] === "online" && target !== node)
          change(sim, c, g, g.type === "qemu" ? "migrate" : "relocate", { target });
        break;
      }
      if (result && !result.ok) {
        change(sim, c, g, "error");
        break;
      }
      const target = selectNode(sim, c, g);
      if (target && target !== node) {
        const origin = ha.maintenanceOrigin;
        if (origin !== undefined && (target === origin || node !== origin)) ha.maintenanceOrigin = undefined;
        change(sim, c, g, g.type === "qemu" ? "migrate" : "relocate", { target });
      } else if (ha.maintenanceOrigin === node && nodeState === "online") ha.maintenanceOrigin = undefined;
      break;
    }
    case "migrate":
    case "relocate":
      if (result) {
        const to = result.ok ? ha.target! : node;
        change(sim, c, g, wantStarted ? "started" : "request_stop", { node: to });
      }
      break;
    case "request_stop":
      if (result) change(sim, c, g, result.ok ? "stopped" : "error");
      break;
    case "stopped":
      if (ha.pendingStop !== undefined) ha.pendingStop = undefined;
      if (ha.pendingMigrate !== undefined) {
        const target = ha.pendingMigrate;
        ha.pendingMigrate = undefined;
        if (c.haNodeStatus[target] === "online" && target !== node)
          change(sim, c, g, g.type === "qemu" ? "migrate" : "relocate", { target });
        break;
      }
      // request_start → started in the same round (the CRM repeats its loop on a change).
      if (wantStarted && nodeState === "online") change(sim, c, g, "started");
      break;
    case "freeze": {
      const mode = c.lrm[node]?.mode;
      if (mode === "active") change(sim, c, g, wantStarted ? "started" : "request_stop");
      break;
    }
    case "recovery":
      change(sim, c, g, wantStarted ? "started" : "request_stop");
      break;
    case "error":
      if (ha.state === "disabled") change(sim, c, g, "stopped");
      break;
    default:
      break;
  }
  // An LRM that restarts (a node reboot) gets its services frozen.
  if (
    c.lrm[haServiceNode(g)]?.mode === "restart" &&
    ["started", "stopped", "request_stop"].includes(ha.runtime)
  )
    change(sim, c, g, "freeze");
  return `${ha.runtime}/${ha.uid}` !== before;
}

/** One CRM round (Manager.pm manage()). Nothing happens without quorum or a running CRM. */
export function haRound(sim: Sim, cluster: ClusterState): void {
  if (cluster.standalone || !clusterQuorum(sim, cluster).quorate) return;
  if (!haMaster(sim, cluster)) return;
  const now = sim.now();
  const dead = deadSince.get(cluster) ?? {};
  deadSince.set(cluster, dead);
  // NodeStatus.pm update(): from membership and each LRM's reported mode.
  for (const n of cluster.nodes) {
    const online = isOnline(sim.state.hosts[n]);
    const mode = cluster.lrm[n]?.mode ?? "active";
    const state = cluster.haNodeStatus[n] ?? "unknown";
    if (online) {
      delete dead[n];
      if (state === "online" && mode === "maintenance") setNodeStatus(sim, cluster, n, "maintenance");
      else if (state === "unknown" || state === "gone") setNodeStatus(sim, cluster, n, "online");
      else if (state === "maintenance" && mode !== "maintenance") setNodeStatus(sim, cluster, n, "online");
    } else {
      dead[n] ??= now;
      if (state === "online") setNodeStatus(sim, cluster, n, "unknown");
      else if (state === "maintenance" && mode !== "maintenance") setNodeStatus(sim, cluster, n, "unknown");
    }
  }
  processCommands(sim, cluster);
  const services = haServices(sim, cluster);
  for (let pass = 0; pass < 5; pass++) {
    let repeat = false;
    for (const g of services) if (nextState(sim, cluster, g, dead)) repeat = true;
    if (!repeat) break;
  }
}

function quorate(sim: Sim, c: ClusterState): boolean {
  return clusterQuorum(sim, c).quorate;
}

function writeLrm(sim: Sim, c: ClusterState, host: HostState, d: LrmDaemon): void {
  const file = (c.lrm[host.name] ??= { mode: d.mode, state: d.state });
  if (file.mode !== d.mode) {
    haEvent(sim, c, host.name, { event: "lrm-mode", from: file.mode, to: d.mode });
    file.mode = d.mode;
  }
  if (file.state !== d.state) {
    haEvent(sim, c, host.name, { event: "lrm-state", from: file.state, to: d.state });
    file.state = d.state;
  }
  delete file.lastWriteAt;
  noteLrmWrite(host, sim.now());
}

function hasConfiguredService(sim: Sim, c: ClusterState, node: string): boolean {
  return haServices(sim, c).some((g) => haServiceNode(g) === node);
}

function startWorker(sim: Sim, node: string, g: GuestState, work: () => Promise<boolean>): void {
  const ha = g.ha!;
  const uid = ha.uid;
  busy.add(g);
  workers.set(node, (workers.get(node) ?? 0) + 1);
  sim.spawn(`ha ${ha.runtime} ${g.vmid}`, async () => {
    let ok = false;
    try {
      ok = await work();
    } catch (e) {
      if (e instanceof SimStopped) throw e;
    } finally {
      busy.delete(g);
      workers.set(node, (workers.get(node) ?? 1) - 1);
      if (ha.uid === uid) ha.result = { uid, ok };
    }
  });
}

/** HA's stop of a service (PVEVM/PVECT shutdown): timeout 0 is a hard stop. */
async function haStop(sim: Sim, g: GuestState, timeout: number | undefined, reason: string): Promise<void> {
  const t = timeout ?? 60;
  if (t === 0) {
    stopGuest(sim, g, reason);
    return;
  }
  // A VM gets forceStop, a CT does not (PVE::HA::Resources::PVEVM / PVECT shutdown).
  await shutdownGuest(sim, g, {
    cmd: g.type === "qemu" ? "qm" : "pct",
    timeout: t,
    forceStop: g.type === "qemu",
    reason,
  });
}

/**
 * LRM.pm manage_resources: run what the CRM asks of this node's services. Returns the services
 * left queued because every worker was busy; `only` restricts a later pass of the same round to
 * those (run_workers starts the round's queue, never work the CRM asked for after it began).
 */
function manageResources(
  sim: Sim,
  c: ClusterState,
  host: HostState,
  only?: ReadonlySet<number>,
): Set<number> {
  const node = host.name;
  const queued = new Set<number>();
  for (const g of haServices(sim, c)) {
    const ha = g.ha!;
    if (haServiceNode(g) !== node || busy.has(g)) continue;
    if (only && !only.has(g.vmid)) continue;
    if ((workers.get(node) ?? 0) >= maxWorkers(c)) {
      queued.add(g.vmid);
      continue;
    }
    const done = ha.result?.uid === ha.uid;
    switch (ha.runtime) {
      case "started":
        if (g.status !== "running" && !g.lock && g.node === node)
          startWorker(sim, node, g, async () => {
            await startGuest(sim, g, "ha-start");
            return true;
          });
        break;
      case "request_stop":
      case "stopped":
        if (g.status === "running" && g.node === node) {
          const timeout = ha.stopTimeout;
          startWorker(sim, node, g, async () => {
            await haStop(sim, g, timeout, "ha-stop");
            return g.status !== "running";
          });
        } else if (!done) ha.result = { uid: ha.uid, ok: true };
        break;
      case "migrate":
      case "relocate":
        if (!done && ha.target) {
          const target = ha.target;
          if (g.node === target) {
            ha.result = { uid: ha.uid, ok: true };
            break;
          }
          startWorker(sim, node, g, async () => {
            // PVECT::migrate always relocates: HA's own shutdown (60 s, not forced), then an offline
            // move; the target's LRM starts it (the service is `started` there once the CRM reads
            // the result). PVEVM::migrate passes force and with-local-disks (the precondition
            // checks still refuse a running VM with local devices or a local CD image).
            if (g.type === "lxc" && g.status === "running") await haStop(sim, g, undefined, "ha-relocate");
            await migrateGuest(sim, g, {
              target,
              online: g.type === "qemu" && g.status === "running",
              withLocalDisks: g.type === "qemu",
              force: true,
              restart: false,
              via: "ha",
              log: () => undefined,
            });
            return true;
          });
        }
        break;
      default:
        break;
    }
  }
  return queued;
}

/** One LRM round (LRM.pm work()); returns the work left queued for busy workers. */
function lrmRound(sim: Sim, c: ClusterState, host: HostState, d: LrmDaemon): Set<number> {
  const q = quorate(sim, c);
  if (d.fresh) {
    // The first round writes the status, which needs quorum ("do nothing" until then).
    if (!q) return new Set();
    d.fresh = false;
  }
  if (!d.shuttingDown) {
    if (c.maintenanceRequested[host.name]) d.mode = "maintenance";
    else if (d.mode === "maintenance") d.mode = "active";
  }
  const active = activeServiceCount(sim, c, host.name);
  const running = workers.get(host.name) ?? 0;
  switch (d.state) {
    case "wait_for_agent_lock":
      if (active > 0 && q) d.state = "active";
      break;
    case "lost_agent_lock":
      if (q) d.state = "active";
      break;
    case "active":
      if (!q) d.state = "lost_agent_lock";
      else if (d.mode === "maintenance") d.state = "maintenance";
      else if (!hasConfiguredService(sim, c, host.name) && running === 0) {
        if (++d.idleRounds > MAX_ACTIVE_IDLE_ROUNDS) {
          d.state = "wait_for_agent_lock";
          d.idleRounds = 0;
        }
      } else d.idleRounds = 0;
      break;
    case "maintenance":
      if (active > 0 || running > 0) {
        if (!q) d.state = "lost_agent_lock";
      } else if (d.mode !== "maintenance") d.state = q ? "active" : "lost_agent_lock";
      break;
  }
  const queued =
    !d.shuttingDown && (d.state === "active" || d.state === "maintenance")
      ? manageResources(sim, c, host)
      : new Set<number>();
  if (q) writeLrm(sim, c, host, d);
  return queued;
}

/** LRM.pm run_workers: the round's queued work starts as workers end, checked every second for 8 s. */
async function runQueued(
  sim: Sim,
  c: ClusterState,
  host: HostState,
  d: LrmDaemon,
  queued: Set<number>,
): Promise<number> {
  let waited = 0;
  while (queued.size > 0 && waited < RUN_WORKERS_SECONDS) {
    await sim.sleep(1);
    waited += 1;
    if (d.shuttingDown || d.exited || daemons.get(host) !== d || !lrmRunning(host)) break;
    if (!quorate(sim, c) || (d.state !== "active" && d.state !== "maintenance")) break;
    queued = manageResources(sim, c, host, queued);
  }
  return waited;
}

function daemonFor(host: HostState): LrmDaemon | undefined {
  if (!lrmRunning(host)) return undefined;
  const key = daemonKey(host);
  const d = daemons.get(host);
  if (d && d.key === key) return d;
  // A new pve-ha-lrm process: mode active, waiting for its agent lock.
  const fresh: LrmDaemon = {
    key,
    fresh: true,
    mode: "active",
    state: "wait_for_agent_lock",
    idleRounds: 0,
    shuttingDown: false,
    exited: false,
  };
  daemons.set(host, fresh);
  return fresh;
}

function lrmLoop(sim: Sim, c: ClusterState, host: HostState, index: number): void {
  sim.spawn(`ha lrm ${host.name}`, async () => {
    // LRMs and the CRM run unsynchronised on real nodes; offset each LRM from the CRM's rounds.
    await sim.sleep(sim.timing.haRoundSeconds * (0.15 + 0.3 * (index % 3)));
    let spent = 0;
    for (;;) {
      const d = daemons.get(host);
      const alive = d !== undefined && d.key === daemonKey(host) && lrmRunning(host) && !d.exited;
      const period = !alive
        ? 1
        : d.state === "active"
          ? sim.timing.haRoundSeconds
          : sim.timing.haRoundSeconds / 2;
      await sim.sleep(Math.max(0, period - spent));
      spent = 0;
      const cur = daemonFor(host);
      if (!cur) {
        // The process is gone; its last status stays in the cluster file system.
        const file = c.lrm[host.name];
        if (d && !d.exited) {
          d.exited = true;
          if (file && file.lastWriteAt === undefined) file.lastWriteAt = sim.now();
        }
        continue;
      }
      if (cur.shuttingDown || cur.exited) continue;
      const queued = lrmRound(sim, c, host, cur);
      // The round's length includes run_workers (work() sleeps out the rest of its ~10 s).
      spent = await runQueued(sim, c, host, cur, queued);
    }
  });
}

/**
 * pve-ha-lrm stopping for a node shutdown (LRM.pm shutdown_request and the shutdown branches of
 * work(), with the default shutdown_policy `conditional`): a reboot switches the LRM to mode restart
 * (the CRM then freezes its services), a poweroff to mode shutdown (services stay started, so the
 * CRM recovers them elsewhere once the node is fenced); manual maintenance mode stays. Stop jobs are
 * queued for every HA guest still on the node (a VM: 60 s then forced; a CT: 60 s, never forced).
 * The LRM exits once its stop jobs are done and, in restart and maintenance mode, no active service
 * is left on the node. Without quorum the watchdog resets the node after 60 s.
 */
async function lrmShutdown(sim: Sim, host: HostState, reason: string): Promise<void> {
  const c = sim.clusterOf(host);
  if (!c || c.standalone) return;
  const d = daemonFor(host);
  if (!d || d.exited) return;
  const svc = host.services["pve-ha-lrm"]!;
  d.shuttingDown = true;
  svc.active = "deactivating";
  if (d.fresh) d.fresh = !quorate(sim, c);
  if (d.mode !== "maintenance") d.mode = reason === "reboot" ? "restart" : "shutdown";
  if (quorate(sim, c)) writeLrm(sim, c, host, d);
  const stops = sim
    .guestsOn(host.name)
    .filter((g) => g.ha && g.ha.state !== "ignored" && g.status === "running" && !busy.has(g))
    .map((g) =>
      haStop(sim, g, undefined, `node-${reason}`).catch((e: unknown) => {
        if (e instanceof SimStopped) throw e;
      }),
    );
  let stopsDone = false;
  void Promise.all(stops).then(() => (stopsDone = true));
  let unquorate = 0;
  for (;;) {
    const q = quorate(sim, c);
    unquorate = q ? 0 : unquorate + 1;
    if (unquorate > 60) break;
    const active = activeServiceCount(sim, c, host.name);
    const running = workers.get(host.name) ?? 0;
    if (stopsDone && running === 0 && (d.mode === "shutdown" || active === 0)) break;
    if (d.mode === "maintenance" && d.state === "maintenance" && q) manageResources(sim, c, host);
    await sim.sleep(1);
    if (q) writeLrm(sim, c, host, d);
  }
  if (quorate(sim, c)) writeLrm(sim, c, host, d);
  d.exited = true;
  const file = c.lrm[host.name];
  if (file) file.lastWriteAt = sim.now();
  svc.active = "inactive";
  svc.since = sim.now();
}

export function startHaLoop(sim: Sim): void {
  onLrmShutdown(lrmShutdown);
  for (const c of Object.values(sim.state.clusters)) {
    if (c.standalone) continue;
    for (const [index, n] of c.nodes.entries()) {
      const host = sim.state.hosts[n];
      if (!host) continue;
      // The LRMs already running when the simulation starts are past their first round.
      if (lrmRunning(host)) {
        const file = c.lrm[n]!;
        daemons.set(host, {
          key: daemonKey(host),
          fresh: false,
          mode: file.mode,
          state: file.state,
          idleRounds: 0,
          shuttingDown: false,
          exited: false,
        });
      }
      lrmLoop(sim, c, host, index);
    }
  }
  sim.spawn("ha crm", async () => {
    for (;;) {
      await sim.sleep(sim.timing.haRoundSeconds);
      for (const c of Object.values(sim.state.clusters)) haRound(sim, c);
    }
  });
}
