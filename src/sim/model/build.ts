import { randomUUID } from "node:crypto";
import {
  containerSchema,
  type ClusterSpec,
  type ContainerSpec,
  type Fleet,
  type GuestSpec,
  type NodeSpec,
  type PackageSpec,
} from "../fleet-schema.js";
import { buildCeph, cephConf } from "./ceph.js";
import { addKernel } from "./kernels.js";
import {
  DEBIAN_PACKAGES,
  DEBIAN_SERVICES,
  PBS_PACKAGES,
  PBS_SERVICES,
  PVE_PACKAGES,
  PVE_SERVICES,
  defaultOrigin,
} from "./defaults.js";
import type {
  AptState,
  ClusterState,
  ContainerContents,
  DiskState,
  GuestState,
  HostState,
  PackageRecord,
  PbsTask,
  ServiceState,
  SimState,
  StorageState,
} from "./state.js";
import { pbsUpid } from "./upid.js";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

type HostKind = "pve" | "pbs" | "debian";

function emptyApt(): AptState {
  return { installed: {}, unpacked: {}, lists: {}, repo: {}, dpkgInterrupted: false, cachedArchives: [] };
}

/** Fills an AptState from package specs (installed / candidate in the lists / published in the repo). */
export function aptFromSpecs(
  defaults: Record<string, string>,
  specs: Record<string, PackageSpec>,
  kind: HostKind,
): AptState {
  const apt = emptyApt();
  const rec = (name: string, version: string, arch?: string, origin?: string): PackageRecord => ({
    version,
    arch: arch ?? "amd64",
    origin: origin ?? defaultOrigin(name, kind === "pbs" ? "pbs" : kind),
  });
  for (const [name, version] of Object.entries(defaults)) {
    apt.installed[name] = rec(name, version);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (typeof spec === "string") {
      apt.installed[name] = rec(name, spec);
      continue;
    }
    // Without `installed`, a default package keeps its default version; any other one is not installed.
    if (spec.installed) apt.installed[name] = rec(name, spec.installed, spec.arch, spec.origin);
    const deps = spec.depends ? { depends: [...spec.depends] } : {};
    if (spec.candidate) apt.lists[name] = { ...rec(name, spec.candidate, spec.arch, spec.origin), ...deps };
    if (spec.published) apt.repo[name] = { ...rec(name, spec.published, spec.arch, spec.origin), ...deps };
    if (spec.hold) (apt.holds ??= []).push(name);
  }
  // The lists and the repository start out knowing everything installed.
  for (const [name, r] of Object.entries(apt.installed)) {
    apt.lists[name] ??= { ...r };
  }
  for (const [name, r] of Object.entries(apt.lists)) apt.repo[name] ??= { ...r };
  return apt;
}

function services(
  names: string[],
  overrides: Record<string, { state: "active" | "inactive" | "failed"; enabled: boolean }>,
  now: number,
): Record<string, ServiceState> {
  const out: Record<string, ServiceState> = {};
  for (const n of names) out[n] = { active: "active", enabled: true, since: now };
  for (const [n, s] of Object.entries(overrides))
    out[n] = { active: s.state, enabled: s.enabled, since: now };
  return out;
}

type HostSpecFields = Pick<
  NodeSpec,
  | "packages"
  | "memoryGiB"
  | "hostMemoryGiB"
  | "cpus"
  | "rootDisk"
  | "zfs"
  | "writesRebootRequired"
  | "services"
  | "rebootSeconds"
> & {
  kernel?: NodeSpec["kernel"];
};

function buildHost(
  name: string,
  kind: HostKind,
  spec: HostSpecFields,
  extra: {
    cluster?: string;
    vmid?: number;
    ip: string;
    votes: number;
    online: boolean;
    defaultRebootSeconds: number;
  },
  now: number,
): HostState {
  const defaults = kind === "pve" ? PVE_PACKAGES : kind === "pbs" ? PBS_PACKAGES : DEBIAN_PACKAGES;
  const apt = aptFromSpecs(defaults, spec.packages, kind);
  const kernel = spec.kernel ?? { running: "6.8.12-9-pve", installed: [] };
  const origin = defaultOrigin("proxmox-kernel", kind === "pbs" ? "pbs" : kind);
  for (const k of new Set([...kernel.installed, kernel.running])) addKernel(apt.installed, k, origin);
  for (const k of new Set([...kernel.installed, kernel.running])) addKernel(apt.lists, k, origin);
  for (const k of new Set([...kernel.installed, kernel.running])) addKernel(apt.repo, k, origin);
  if (kernel.candidate) {
    addKernel(apt.lists, kernel.candidate, origin);
    addKernel(apt.repo, kernel.candidate, origin);
  }
  if (kernel.published) addKernel(apt.repo, kernel.published, origin);
  const serviceNames = kind === "pve" ? PVE_SERVICES : kind === "pbs" ? PBS_SERVICES : DEBIAN_SERVICES;
  const online = extra.online;
  const bootId = randomUUID();
  return {
    name,
    kind: kind === "pve" ? "pve" : "debian",
    cluster: extra.cluster,
    vmid: extra.vmid,
    ip: extra.ip,
    votes: extra.votes,
    memoryBytes: spec.memoryGiB * GiB,
    hostMemoryBytes: spec.hostMemoryGiB * GiB,
    cpus: spec.cpus,
    power: online ? "up" : "down",
    bootId,
    // Hosts have been up for a while when the simulation starts.
    bootedAt: now - 86400_000 * 12,
    kernelRunning: kernel.running,
    kernelPinned: kernel.pinned,
    apt,
    writesRebootRequired: spec.writesRebootRequired,
    rootDisk: { sizeBytes: spec.rootDisk.sizeGiB * GiB, usedBytes: spec.rootDisk.usedGiB * GiB },
    zfs: spec.zfs,
    files: initialFiles(name, kind),
    services: services(serviceNames, spec.services, now),
    units: {},
    journal: [],
    rebootSeconds: spec.rebootSeconds ?? extra.defaultRebootSeconds,
    nextPid: 2000 + Math.floor(Math.random() * 1000),
  };
}

export function initialFiles(
  name: string,
  kind: HostKind | "container",
  ostype = "debian",
): Record<string, string> {
  const files: Record<string, string> = {
    "/etc/hostname": `${name}\n`,
    "/etc/debian_version": "12.10\n",
    "/etc/os-release": osRelease(kind === "container" ? ostype : "debian"),
  };
  if (kind === "pve") files["/etc/pve/.version"] = "{}\n";
  return files;
}

function osRelease(ostype: string): string {
  switch (ostype) {
    case "ubuntu":
      return 'PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.2 LTS (Noble Numbat)"\nID=ubuntu\nID_LIKE=debian\n';
    case "alpine":
      return 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.3\nPRETTY_NAME="Alpine Linux v3.21"\n';
    case "fedora":
      return 'NAME="Fedora Linux"\nVERSION="41 (Container Image)"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41 (Container Image)"\n';
    case "rockylinux":
    case "centos":
      return 'NAME="Rocky Linux"\nVERSION="9.5 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.5"\nPRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"\n';
    case "archlinux":
      return 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n';
    case "opensuse":
      return 'NAME="openSUSE Leap"\nVERSION="15.6"\nID="opensuse-leap"\nVERSION_ID="15.6"\nPRETTY_NAME="openSUSE Leap 15.6"\n';
    default:
      return 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';
  }
}

/** Which OS package manager an ostype uses. */
export function osEcosystem(ostype: string): "apt" | "dnf" | "apk" | "pacman" | undefined {
  if (ostype === "debian" || ostype === "ubuntu") return "apt";
  if (ostype === "fedora" || ostype === "centos" || ostype === "rockylinux") return "dnf";
  if (ostype === "alpine") return "apk";
  if (ostype === "archlinux") return "pacman";
  return undefined;
}

function simplePkgs(
  specs: Record<string, string | { installed: string; candidate?: string }>,
): Record<string, { installed: string; candidate?: string }> {
  const out: Record<string, { installed: string; candidate?: string }> = {};
  for (const [n, s] of Object.entries(specs)) out[n] = typeof s === "string" ? { installed: s } : { ...s };
  return out;
}

function buildContents(name: string, spec: ContainerSpec, now: number): ContainerContents {
  const os: Record<string, AptState> = {};
  const osEco = osEcosystem(spec.ostype);
  for (const eco of ["apt", "dnf", "apk", "pacman"] as const) {
    const e = spec.ecosystems[eco];
    if (e) os[eco] = aptFromSpecs({}, e.packages, "debian");
  }
  if (osEco && !os[osEco]) os[osEco] = aptFromSpecs({}, {}, "debian");
  const pip: ContainerContents["pip"] = {};
  for (const [venv, v] of Object.entries(spec.ecosystems.pip?.venvs ?? {}))
    pip[venv] = simplePkgs(v.packages);
  const npm: ContainerContents["npm"] = {};
  for (const [dir, v] of Object.entries(spec.ecosystems.npm?.dirs ?? {})) npm[dir] = simplePkgs(v.packages);
  const compose: ContainerContents["compose"] = {};
  for (const [file, stack] of Object.entries(spec.ecosystems.compose?.stacks ?? {})) {
    const project = stack.project ?? file.split("/").slice(-2, -1)[0] ?? "app";
    compose[file] = { project, services: {} };
    for (const [svc, s] of Object.entries(stack.services)) {
      const digest = s.digest ?? fakeDigest(`${s.image}@initial`);
      compose[file].services[svc] = { image: s.image, digest, registryDigest: s.candidateDigest ?? digest };
    }
  }
  const svc: Record<string, ServiceState> = {};
  for (const [n, s] of Object.entries(spec.services))
    svc[n] = { active: s.state, enabled: s.enabled, since: now };
  if (Object.keys(compose).length > 0) svc.docker ??= { active: "active", enabled: true, since: now };
  return {
    ostype: spec.ostype,
    os,
    pip,
    npm,
    compose,
    services: svc,
    files: initialFiles(name, "container", spec.ostype),
  };
}

export function fakeDigest(seed: string): string {
  let h1 = 0x811c9dc5;
  let out = "";
  for (let round = 0; round < 8; round++) {
    for (const ch of `${seed}#${round}`) h1 = Math.imul(h1 ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h1.toString(16).padStart(8, "0");
  }
  return `sha256:${out}`;
}

function storageSnapshots(type: string, explicit: boolean | undefined): boolean {
  if (explicit !== undefined) return explicit;
  return type === "zfspool" || type === "lvmthin" || type === "rbd";
}

function storageShared(type: string, explicit: boolean | undefined): boolean {
  if (explicit !== undefined) return explicit;
  return type === "rbd" || type === "nfs" || type === "cifs" || type === "pbs";
}

function buildDisks(g: GuestSpec, storages: StorageState[]): DiskState[] {
  const specs =
    g.disks.length > 0
      ? g.disks
      : [
          {
            storage:
              (
                storages.find((s) => s.content.includes(g.type === "qemu" ? "images" : "rootdir")) ??
                storages[0]
              )?.name ?? "local",
            sizeGiB: g.type === "qemu" ? 32 : 8,
            key: undefined,
          },
        ];
  let n = 0;
  return specs.map((d, i) => {
    const storage = storages.find((s) => s.name === d.storage);
    const key = d.key ?? (g.type === "lxc" ? (i === 0 ? "rootfs" : `mp${i - 1}`) : `scsi${i}`);
    const sub = g.type === "lxc" && storage?.type === "zfspool" ? "subvol" : "vm";
    const volume = `${d.storage}:${sub}-${g.vmid}-disk-${n++}`;
    return {
      key,
      storage: d.storage,
      volume,
      sizeBytes: d.sizeGiB * GiB,
      ...(d.backup ? { backup: true } : {}),
    };
  });
}

function buildGuest(
  c: ClusterSpec,
  g: GuestSpec,
  storages: StorageState[],
  now: number,
  hostName: string | undefined,
): GuestState {
  const ha = g.ha === false ? undefined : g.ha === true ? { state: "started" as const } : g.ha;
  const running = g.status === "running";
  return {
    vmid: g.vmid,
    cluster: c.name,
    type: g.type,
    name: g.name,
    node: g.node,
    memoryBytes: g.memoryMiB * MiB,
    cores: g.cores,
    status: g.status,
    startedAt: running ? now - 3600_000 * 30 : undefined,
    tags: [...g.tags],
    pool: g.pool,
    ha: ha
      ? {
          state: ha.state,
          group: ha.group,
          runtime: ha.state === "started" ? (running ? "started" : "stopped") : "stopped",
          uid: 1,
        }
      : undefined,
    onboot: g.onboot,
    lock: g.lock,
    template: g.template,
    disks: buildDisks(g, storages),
    devices: g.devices.map((d) => ({ ...d })),
    snapshots: [],
    contents:
      g.type === "lxc" ? buildContents(g.name, g.container ?? containerSchema.parse({}), now) : undefined,
    health: (g.container?.health ?? []).map((h) => ({ ...h, services: [...h.services] })),
    ...(g.type === "lxc" && g.container?.unprivileged === false ? { privileged: true } : {}),
    hostName,
    ...(g.shutdownSeconds !== undefined ? { shutdownSeconds: g.shutdownSeconds } : {}),
    macSeed: g.vmid * 7919,
  };
}

/** Builds the initial world from a validated fleet. */
export function buildState(fleet: Fleet, now: number): SimState {
  const state: SimState = {
    clusters: {},
    hosts: {},
    guests: {},
    tasks: [],
    history: {
      bootIds: {},
      migrations: [],
      guestEvents: [],
      commands: [],
      reboots: [],
      ha: [],
      serviceRestarts: [],
    },
  };
  fleet.clusters.forEach((c, ci) => {
    const storages: StorageState[] = c.storages.map((s) => ({
      name: s.name,
      type: s.type,
      shared: storageShared(s.type, s.shared),
      content: [...s.content],
      snapshots: storageSnapshots(s.type, s.snapshots),
      ...(s.nodes ? { nodes: [...s.nodes] } : {}),
    }));
    const pools = new Set(c.pools);
    for (const g of c.guests) if (g.pool) pools.add(g.pool);
    const cluster: ClusterState = {
      name: c.name,
      standalone: c.standalone,
      configVersion: c.nodes.length,
      nodes: c.nodes.map((n) => n.name),
      storages,
      pools: [...pools],
      maintenanceRequested: {},
      crmCommands: [],
      haNodeStatus: {},
      lrm: {},
      backups: [],
      twoNode: c.twoNode,
      ...(c.maxWorkers !== undefined ? { maxWorkers: c.maxWorkers } : {}),
      ...(c.qdevice
        ? {
            qdevice: {
              votes: c.qdevice.votes ?? (c.nodes.length % 2 === 0 ? 1 : c.nodes.length - 1),
              alive: c.qdevice.alive,
            },
          }
        : {}),
    };
    state.clusters[c.name] = cluster;
    if (c.ceph) cluster.ceph = buildCeph(c.ceph, cluster.nodes, now);
    c.nodes.forEach((n, ni) => {
      const host = buildHost(
        n.name,
        "pve",
        n,
        {
          cluster: c.name,
          ip: n.ip ?? `10.${10 + ci}.0.${ni + 11}`,
          votes: n.votes,
          online: n.online,
          defaultRebootSeconds: fleet.timing.rebootSeconds,
        },
        now,
      );
      state.hosts[n.name] = host;
      state.history.bootIds[n.name] = [host.bootId];
      cluster.haNodeStatus[n.name] = n.online ? "online" : "unknown";
      // A running LRM holds its agent lock ("active") only while it has active services.
      const hasServices = c.guests.some(
        (g) => g.node === n.name && g.ha !== false && (g.ha === true || g.ha.state === "started"),
      );
      cluster.lrm[n.name] = n.online
        ? { mode: "active", state: hasServices ? "active" : "wait_for_agent_lock" }
        : { mode: "active", state: "wait_for_agent_lock", lastWriteAt: now - 86_400_000 };
    });
    // pveceph init writes /etc/pve/ceph.conf (the cluster file system: every node sees it).
    if (cluster.ceph) {
      const conf = cephConf(
        cluster.ceph,
        cluster.nodes.map((n) => state.hosts[n]!.ip),
      );
      for (const n of cluster.nodes) state.hosts[n]!.files["/etc/pve/ceph.conf"] = conf;
    }
    for (const g of c.guests) {
      let hostName: string | undefined;
      if (g.host || g.pbs) {
        hostName = g.host?.name ?? g.name;
        const hs: Partial<NonNullable<GuestSpec["host"]>> = g.host ?? {};
        const spec: HostSpecFields = {
          packages: hs.packages ?? {},
          memoryGiB: g.memoryMiB / 1024,
          hostMemoryGiB: Math.min(hs.hostMemoryGiB ?? 1, g.memoryMiB / 1024),
          cpus: g.cores,
          rootDisk: hs.rootDisk ?? { sizeGiB: 32, usedGiB: 6 },
          zfs: hs.zfs ?? "none",
          writesRebootRequired: hs.writesRebootRequired ?? false,
          services: hs.services ?? {},
          rebootSeconds: hs.rebootSeconds,
          kernel: hs.kernel,
        };
        const host = buildHost(
          hostName,
          g.pbs ? "pbs" : "debian",
          spec,
          {
            ip: `10.${10 + ci}.1.${(g.vmid % 200) + 10}`,
            votes: 0,
            online: g.status === "running",
            vmid: g.vmid,
            defaultRebootSeconds: 30,
          },
          now,
        );
        if (g.pbs) {
          host.pbs = {
            version: g.pbs.version,
            datastores: [...g.pbs.datastores],
            tasks: g.pbs.tasks.map((t, i): PbsTask => {
              const pid = 1200 + i;
              const starttime = Math.floor(now / 1000) - 600 + i * 7;
              const running = t.runsForSeconds !== undefined;
              const base: PbsTask = {
                upid: pbsUpid(hostName!, pid, 110000 + i, i, starttime, t.workerType, t.workerId, t.user),
                node: "localhost",
                pid,
                pstart: 110000 + i,
                starttime,
                worker_type: t.workerType,
                worker_id: t.workerId ?? null,
                user: t.user,
                finalStatus: t.status,
              };
              if (running) base.endsAt = now + t.runsForSeconds! * 1000;
              else {
                base.endtime = starttime + 60;
                base.status = t.status;
              }
              return base;
            }),
          };
        }
        state.hosts[hostName] = host;
        state.history.bootIds[hostName] = [host.bootId];
      }
      const guest = buildGuest(c, g, storages, now, hostName);
      state.guests[String(g.vmid)] = guest;
      // Snapshots declared in the fleet form a chain, oldest first.
      let parent: string | undefined;
      for (const s of [...g.snapshots].sort((a, b) => b.ageSeconds - a.ageSeconds)) {
        guest.snapshots.push({
          name: s.name,
          description: s.description,
          snaptime: Math.floor((now - s.ageSeconds * 1000) / 1000),
          parent,
          vmstate: s.vmstate,
          saved: saveGuest(guest, state),
        });
        parent = s.name;
      }
      guest.parent = parent;
    }
  });
  return state;
}

/** The parts of a guest a snapshot or backup preserves. */
export function saveGuest(guest: GuestState, state: SimState): GuestState["snapshots"][number]["saved"] {
  const host = guest.hostName ? state.hosts[guest.hostName] : undefined;
  return structuredClone({
    memoryBytes: guest.memoryBytes,
    cores: guest.cores,
    tags: guest.tags,
    onboot: guest.onboot,
    status: guest.status,
    contents: guest.contents,
    hostApt: host?.apt,
    hostKernel: host?.kernelRunning,
  });
}
