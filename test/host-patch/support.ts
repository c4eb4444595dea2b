/** Builders for the host patch decisions: a context, and observations as the readers type them. */
import type { HostPatch } from "../../src/api/host-patch.js";
import { hostPatchPlanSpec, type HostPatchPlanSpec } from "../../src/api/host-patch-plan.js";
import { proxmoxClusterSpec } from "../../src/api/proxmox-cluster.js";
import {
  available,
  unavailable,
  type AptPackageChange,
  type ClusterObservation,
  type ClusterResources,
  type GuestResource,
  type HaManagerStatus,
  type NodeObservation,
  type NodeResource,
  type PveTask,
  type PvecmStatus,
} from "../../src/pve/index.js";
import type { JobStatus } from "../../src/ssh/index.js";
import { DEFAULT_TIMING } from "../../controller/context.js";
import type { EvacGuest } from "../../controller/host-patch/evacuation-plan.js";
import type { Observation, PatchContext } from "../../controller/host-patch/observation.js";
import type { Status, Transition } from "../../controller/host-patch/transition.js";

export const NOW = Date.parse("2026-12-01T02:00:00Z");
export const HOSTS = ["pve1", "pve2", "pve3"];

export function planSpec(over: Partial<Record<keyof HostPatchPlanSpec, unknown>> = {}): HostPatchPlanSpec {
  return hostPatchPlanSpec.parse({
    clusterRef: { name: "lab" },
    targets: { nodes: ["pve*"] },
    ...over,
  });
}

export function context(over: Partial<PatchContext> & { spec?: HostPatchPlanSpec } = {}): PatchContext {
  const hp: Pick<HostPatch, "spec" | "metadata"> = {
    metadata: { name: "nodes-pve1", generation: 1 },
    spec: {
      planRef: { name: "nodes" },
      clusterRef: { name: "lab" },
      host: "pve1",
      profile: "pve",
      cycle: "c1",
    },
  };
  return {
    hp,
    host: "pve1",
    planName: "nodes",
    spec: planSpec(),
    cluster: {
      metadata: { name: "lab" },
      spec: proxmoxClusterSpec.parse({
        endpoints: HOSTS.map((n, i) => ({ node: n, host: `10.0.0.${i + 1}` })),
        ssh: { privateKey: { file: "k" }, knownHosts: { file: "kh" } },
      }),
    },
    status: { phase: "Preflight" },
    now: NOW,
    timing: DEFAULT_TIMING,
    schedule: { windows: [], blackouts: [], force: false },
    turn: { ok: true },
    patchedNodes: [],
    ...over,
  };
}

export function change(name: string, to: string): AptPackageChange {
  return { kind: "upgrade", package: name, oldVersion: "1", newVersion: to, origins: [], arch: "amd64" };
}

export interface NodeShape {
  bootId?: string | null;
  running?: string;
  boot?: string;
  pending?: AptPackageChange[] | null;
  rootPercent?: number;
  /** The node's active task list (default empty). */
  activeTasks?: PveTask[];
  /** "The following packages have been kept back:" */
  keptBack?: string[];
  /** `apt-mark showhold` (null: unreadable). */
  holds?: string[] | null;
  /** Packages `dpkg --audit` names. */
  audit?: string[];
}

/** A healthy node; `boot` newer than `running` means it needs a reboot. */
export function node(s: NodeShape = {}): NodeObservation {
  const running = s.running ?? "6.8.12-9-pve";
  const boot = s.boot ?? running;
  const needed = boot !== running;
  const pending = s.pending === undefined ? [] : s.pending;
  return {
    node: "pve1",
    status: unavailable("NotRead", "the decisions do not read it"),
    bootId: s.bootId === null ? unavailable("Unreachable", "down") : available(s.bootId ?? "boot-a"),
    runningKernel: available(running),
    bootKernels: available({ manual: [], automatic: [boot], pinned: undefined, nextBoot: undefined }),
    rebootFlag: available({ required: false, packages: [] }),
    reboot: available({
      needed,
      reasons: needed ? [`running ${running}, newest ${boot}`] : [],
      runningKernel: running,
      bootKernel: boot,
    }),
    rootDisk: available({
      filesystem: "rpool",
      mountpoint: "/",
      sizeBytes: 100,
      usedBytes: s.rootPercent ?? 20,
      availableBytes: 80,
      usedPercent: s.rootPercent ?? 20,
      freeGiB: 80,
    }),
    zfs: available({ state: "healthy" }),
    activeTasks: available(s.activeTasks ?? []),
    pveVersion: available({ version: "8.4.1", build: undefined, runningKernel: running, major: 8 }),
    ...(pending === null
      ? { pendingUpdates: unavailable("CommandFailed", "apt-get failed") }
      : {
          holds:
            s.holds === null ? unavailable("CommandFailed", "apt-mark failed") : available(s.holds ?? []),
          dpkgAudit: available({
            packages: s.audit ?? [],
            problems: s.audit?.length
              ? ["The following packages have been unpacked but not yet configured"]
              : [],
          }),
          pendingUpdates: available({
            changes: pending,
            keptBack: s.keptBack ?? [],
            removals: [],
            configures: [],
            summary: {
              upgraded: pending.length,
              newlyInstalled: 0,
              reinstalled: 0,
              downgraded: 0,
              toRemove: 0,
              notUpgraded: s.keptBack?.length ?? 0,
            },
          }),
        }),
  };
}

export function guest(vmid: number, onNode: string, over: Partial<GuestResource> = {}): GuestResource {
  return {
    type: vmid >= 200 ? "lxc" : "qemu",
    vmid,
    node: onNode,
    name: `g${vmid}`,
    status: "running",
    template: false,
    tags: [],
    pool: undefined,
    hastate: undefined,
    lock: undefined,
    cpu: 0,
    maxcpu: 1,
    mem: 1,
    maxmem: 2 * 1024 ** 3,
    disk: 0,
    maxdisk: 0,
    uptime: 1,
    ...over,
  };
}

export interface ClusterShape {
  guests?: GuestResource[];
  quorate?: boolean;
  online?: Record<string, boolean>;
  /** The node the cluster was read on (default pve1). */
  local?: string;
  /** Node → HA manager node status ("online", "maintenance"). */
  haNodes?: Record<string, string>;
  /** Node → LRM mode. */
  lrmMode?: Record<string, string>;
  haServices?: Record<string, { node: string; state: string }>;
  /** datacenter.cfg max_workers (default: unset, HA's 4). */
  haMaxWorkers?: number;
}

export function cluster(s: ClusterShape = {}): ClusterObservation {
  const nodes = HOSTS.map((n, i) => ({
    name: n,
    nodeid: i + 1,
    ip: undefined,
    local: n === (s.local ?? HOSTS[0]),
    online: s.online?.[n] ?? true,
    level: undefined,
  }));
  const resources: ClusterResources = {
    nodes: HOSTS.map((n): NodeResource => ({
      type: "node",
      node: n,
      status: (s.online?.[n] ?? true) ? "online" : "offline",
      cpu: 0,
      maxcpu: 8,
      mem: 8 * 1024 ** 3,
      maxmem: 64 * 1024 ** 3,
      disk: 0,
      maxdisk: 0,
      uptime: 1,
    })),
    guests: s.guests ?? [],
    storages: [],
    other: [],
  };
  const haConfigured = s.haNodes !== undefined || s.haServices !== undefined;
  const ha: HaManagerStatus = {
    configured: haConfigured,
    masterNode: haConfigured ? "pve2" : undefined,
    timestamp: undefined,
    nodeStatus: s.haNodes ?? {},
    services: s.haServices ?? {},
    lrm: Object.fromEntries(
      Object.entries(s.lrmMode ?? {}).map(([n, mode]) => [
        n,
        { mode, state: mode === "maintenance" ? "maintenance" : "active", timestamp: undefined },
      ]),
    ),
    quorate: s.quorate ?? true,
  };
  const status = available({
    cluster: { name: "lab", quorate: s.quorate ?? true, nodes: 3, version: 3 },
    nodes,
  });
  return {
    status,
    votes: unavailable("NotRead", "not read"),
    quorum: available({ kind: "cluster", name: "lab", quorate: s.quorate ?? true, nodes, votes: VOTES }),
    resources: available(resources),
    haManager: available(ha),
    haCurrent: available([]),
    options: available({ haMaxWorkers: s.haMaxWorkers ?? 4 }),
  };
}

const VOTES: PvecmStatus = {
  clusterName: "lab",
  configVersion: 3,
  transport: "knet",
  quorate: true,
  nodes: 3,
  expectedVotes: 3,
  highestExpected: 3,
  totalVotes: 3,
  quorum: 2,
  flags: ["Quorate"],
  twoNode: false,
  waitForAll: false,
  members: [1, 2, 3].map((id) => ({ nodeid: id, votes: 1, name: `10.0.0.${id}`, local: id === 1 })),
  qdevice: undefined,
};

export function job(state: JobStatus["state"], exitCode?: number, log: string[] = []): JobStatus {
  return { state, ...(exitCode !== undefined ? { exitCode } : {}), log };
}

export function evacGuest(vmid: number, over: Partial<EvacGuest> = {}): EvacGuest {
  return {
    vmid,
    type: vmid >= 200 ? "lxc" : "qemu",
    status: "running",
    memoryBytes: 2 * 1024 ** 3,
    haManaged: false,
    template: false,
    localDisks: 0,
    localDevices: [],
    ...over,
  };
}

/** An observation of a cluster without Ceph, unless `over` says otherwise. */
export function obs(over: Partial<Observation> = {}): Observation {
  return { jobs: {}, ceph: { ok: true, value: { kind: "none" } }, ...over };
}

export function status(over: Partial<Status>): Status {
  return { phase: "Preflight", ...over };
}

/**
 * A PVE task as the task list parser returns it; `status` undefined = running. `startedAt` is epoch
 * ms (default NOW - 60 s, after a migration begun at NOW - 120 s).
 */
export function task(
  type: string,
  vmid: number,
  over: { on?: string; status?: string; startedAt?: number; user?: string } = {},
): PveTask {
  const on = over.on ?? "pve1";
  const start = Math.floor((over.startedAt ?? NOW - 60_000) / 1000);
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, "0");
  const user = over.user ?? "root@pam";
  return {
    upid: `UPID:${on}:${hex(4000 + vmid)}:${hex(1234)}:${hex(start)}:${type}:${vmid}:${user}:`,
    node: on,
    type,
    id: String(vmid),
    user,
    startTime: start,
    endTime: over.status === undefined ? undefined : start + 30,
    status: over.status,
    running: over.status === undefined,
  };
}

/** `obs.tasks` for the given guests' task lists on their nodes. */
export function tasks(...lists: { on: string; vmid: number; tasks: PveTask[] }[]): Observation["tasks"] {
  return Object.fromEntries(lists.map((l) => [`${l.on}/${l.vmid}`, available(l.tasks)]));
}

/** A transition reduced to what a user would notice: where it goes, why, and which commands run. */
export function summary(t: Transition): Record<string, unknown> {
  if (t.kind === "idle") return { kind: "idle" };
  const out: Record<string, unknown> = { kind: t.kind };
  if (t.kind === "goto" || (t.kind === "act" && t.phase)) out.phase = t.kind === "goto" ? t.phase : t.phase;
  if (t.kind === "wait" || t.kind === "fail") out.reason = t.reason;
  if (t.kind === "act")
    out.commands = t.actions.map((a) =>
      a.type === "run" ? `${a.command.on}: ${a.command.argv.join(" ")}` : `notify ${a.notice.event}`,
    );
  return out;
}
