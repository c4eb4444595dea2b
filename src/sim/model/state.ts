/**
 * The simulator's world, as plain JSON-serialisable data. Everything a command observes or changes
 * lives here, so `snapshot()` can deep-copy it for tests and nothing hides in closures.
 */

export interface PackageRecord {
  version: string;
  arch: string;
  origin: string;
  /**
   * Packages this version depends on. A dependency that is neither installed nor in the lists
   * cannot be satisfied, so dist-upgrade keeps the package back (as apt does for `proxmox-ve` when
   * a repository is missing).
   */
  depends?: string[];
}

/** One Debian package database: what is installed, what the local lists know, what the repo serves. */
export interface AptState {
  installed: Record<string, PackageRecord>;
  /** Packages unpacked but not configured (a dist-upgrade cut off mid-way). */
  unpacked: Record<string, PackageRecord>;
  /** The local package lists (as of the last `apt-get update`). */
  lists: Record<string, PackageRecord>;
  /** The remote repository; `apt-get update` copies it into `lists`. */
  repo: Record<string, PackageRecord>;
  /** dpkg was interrupted and needs `dpkg --configure -a`. */
  dpkgInterrupted: boolean;
  /** dpkg selection `hold` (`apt-mark hold`): never upgraded, shown as kept back. */
  holds?: string[];
  /** Holder of /var/lib/dpkg/lock-frontend while an apt/dpkg run is in progress. */
  lockHolder?: { pid: number; name: string };
  /** Downloaded .deb archives in /var/cache/apt/archives (freed by autoclean). */
  cachedArchives: string[];
  lastUpdate?: number;
}

export type ServiceActive = "active" | "inactive" | "failed" | "activating" | "deactivating";

export interface ServiceState {
  active: ServiceActive;
  enabled: boolean;
  since: number;
}

export interface JournalEntry {
  at: number;
  bootId: string;
  unit: string;
  /** The process name journald records (`sh`, `systemd`). */
  ident: string;
  pid: number;
  message: string;
}

export type UnitResult = "success" | "exit-code" | "signal" | "timeout" | "core-dump";

export interface TransientUnit {
  name: string;
  argv: string[];
  description: string;
  runtimeMaxSec?: number;
  collect: boolean;
  remainAfterExit: boolean;
  pid: number;
  active: "active" | "inactive" | "failed" | "deactivating";
  sub: "running" | "dead" | "failed" | "exited" | "stop-sigterm";
  result: UnitResult;
  startedAt: number;
  exitedAt?: number;
  exitStatus?: number;
  /** Signal name when killed (TERM, KILL). */
  exitSignal?: string;
}

export interface PbsTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  worker_type: string;
  worker_id: string | null;
  user: string;
  endsAt?: number;
  endtime?: number;
  status?: string;
  finalStatus: string;
}

export interface PbsState {
  version: string;
  datastores: string[];
  tasks: PbsTask[];
}

export type PowerState = "up" | "shutting-down" | "down" | "booting";

/** A Debian host with SSH: a PVE node, or a VM (e.g. PBS) that is a host of its own. */
export interface HostState {
  name: string;
  kind: "pve" | "debian";
  cluster?: string;
  /** For a VM host: the guest it lives in. */
  vmid?: number;
  ip: string;
  votes: number;
  /**
   * wait_for_all (two_node turns it on): booted while not every node was up, so not quorate until
   * it has seen all nodes at once (votequorum(5)).
   */
  waitingForAll?: boolean;
  memoryBytes: number;
  hostMemoryBytes: number;
  cpus: number;
  power: PowerState;
  bootId: string;
  bootedAt: number;
  kernelRunning: string;
  kernelPinned?: string;
  apt: AptState;
  writesRebootRequired: boolean;
  rootDisk: { sizeBytes: number; usedBytes: number };
  zfs: "healthy" | "degraded" | "none";
  /** A tiny in-memory file system: /run (cleared on boot) and a few files under /etc. */
  files: Record<string, string>;
  services: Record<string, ServiceState>;
  units: Record<string, TransientUnit>;
  /** Unit journals survive unit collection and reboots (persistent journal, as on PVE). */
  journal: JournalEntry[];
  rebootSeconds: number;
  nextPid: number;
  pbs?: PbsState;
}

export type GuestType = "qemu" | "lxc";
export type GuestStatus = "running" | "stopped" | "unknown";

export interface DiskState {
  key: string;
  storage: string;
  volume: string;
  sizeBytes: number;
  /** Container mount point with `backup=1` (vzdump includes rootfs and only these). */
  backup?: boolean;
}

export interface EcosystemPackage {
  installed: string;
  candidate?: string;
}

export interface ComposeService {
  image: string;
  digest: string;
  /** Digest the registry serves now (a `pull` fetches it). */
  registryDigest: string;
  /** Digest pulled but not yet running (`up -d` recreates the container). */
  pulledDigest?: string;
}

/** What runs inside a container; snapshot and rollback copy and restore all of it. */
export interface ContainerContents {
  ostype: string;
  /** OS package manager state, keyed by ecosystem (apt, dnf, apk, pacman). */
  os: Record<string, AptState>;
  pip: Record<string, Record<string, EcosystemPackage>>;
  npm: Record<string, Record<string, EcosystemPackage>>;
  compose: Record<string, { project: string; services: Record<string, ComposeService> }>;
  services: Record<string, ServiceState>;
  /** The container's own small file system (/etc, /run). */
  files: Record<string, string>;
}

export interface HealthEndpointState {
  name: string;
  kind: "http" | "tcp";
  port: number;
  path: string;
  services: string[];
}

export interface SnapshotState {
  name: string;
  description: string;
  snaptime: number;
  parent?: string;
  vmstate: boolean;
  /** The guest as it was: config, contents and power state. */
  saved: GuestSaved;
}

export interface GuestSaved {
  memoryBytes: number;
  cores: number;
  tags: string[];
  onboot: boolean;
  status: GuestStatus;
  contents?: ContainerContents;
  hostApt?: AptState;
  hostKernel?: string;
}

export interface HaConfig {
  /** The request state in resources.cfg. */
  state: "started" | "stopped" | "ignored" | "disabled";
  group?: string;
  /**
   * The CRM's state of the service in manager_status (started, request_stop, stopped, migrate,
   * relocate, freeze, fence, recovery, error).
   */
  runtime: string;
  /** Bumped on every CRM state change (manager_status `uid`); LRM results answer one uid. */
  uid: number;
  /** `maintenance_node`: where the service ran when its node entered maintenance; it returns there. */
  maintenanceOrigin?: string;
  /** A queued `migrate`/`relocate` crm command the CRM has accepted (`cmd` in manager_status). */
  pendingMigrate?: string;
  /** A queued `stop <sid> <timeout>` crm command (`cmd`). */
  pendingStop?: number;
  /** While migrate/relocate: the node it leaves and the node it goes to (manager_status node/target). */
  source?: string;
  target?: string;
  /** The shutdown timeout of the current request_stop (0 = hard stop; undefined = the agent's 60 s). */
  stopTimeout?: number;
  /** The LRM's result for a uid: ok, or failed. The CRM acts on it in its next round. */
  result?: { uid: number; ok: boolean };
}

export interface GuestState {
  vmid: number;
  cluster: string;
  type: GuestType;
  name: string;
  node: string;
  memoryBytes: number;
  cores: number;
  status: GuestStatus;
  startedAt?: number;
  tags: string[];
  pool?: string;
  ha?: HaConfig;
  onboot: boolean;
  lock?: string;
  template: boolean;
  disks: DiskState[];
  devices: { key: string; value: string }[];
  snapshots: SnapshotState[];
  /** The snapshot the current state descends from (`parent` in the config). */
  parent?: string;
  contents?: ContainerContents;
  /** A privileged container (`unprivileged` absent from its config); containers are unprivileged by default. */
  privileged?: boolean;
  health: HealthEndpointState[];
  /** For a VM that is an SSH host: that host's name. */
  hostName?: string;
  /** Seconds a graceful shutdown takes (ACPI / SIGPWR to init); default timing.guestShutdownSeconds. */
  shutdownSeconds?: number;
  macSeed: number;
}

export interface StorageState {
  name: string;
  type: string;
  shared: boolean;
  content: string[];
  snapshots: boolean;
  /** storage.cfg `nodes`: the only nodes that have it; undefined means every node. */
  nodes?: string[];
}

export interface BackupArchive {
  volid: string;
  storage: string;
  /** Node that holds the archive for non-shared storage. */
  node?: string;
  vmid: number;
  type: GuestType;
  ctime: number;
  sizeBytes: number;
  /** The archive's notes (vzdump --notes-template, variables expanded). */
  notes?: string;
  saved: GuestSaved & { name: string; disks: DiskState[] };
}

export interface TaskRecord {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status?: string;
  endtime?: number;
}

export type LrmMode = "active" | "maintenance" | "restart" | "shutdown";
export type LrmStateName = "wait_for_agent_lock" | "active" | "maintenance" | "lost_agent_lock";

/**
 * What a node's LRM last wrote to `/etc/pve/nodes/<node>/lrm_status`. It lives in the cluster file
 * system, so it survives the node's reboot: while pve-ha-lrm is not running, the CRM and the status
 * API keep reading what it wrote before it stopped.
 */
export interface LrmStatusFile {
  mode: LrmMode;
  state: LrmStateName;
  /** When a stopped LRM wrote it last (a running LRM rewrites it every round). */
  lastWriteAt?: number;
}

/** A hyper-converged Ceph cluster: what is set; its health is derived (model/ceph.ts). */
export interface CephSimState {
  fsid: string;
  osds: { id: number; host: string }[];
  pgs: number;
  objects: number;
  recoverySeconds: number;
  /** Cluster-wide OSD flags (`ceph osd set noout`). */
  flags: string[];
  /** Flags per CRUSH node or OSD (`ceph osd set-group noout pve2`). */
  groupFlags: Record<string, string[]>;
  /** When the model was built: a node booted later than this recovers its PGs after the boot. */
  createdAt: number;
  downOutSeconds: number;
  rebalanceSeconds: number;
  /** Nodes that are down, since when (sim ms). */
  downSince: Record<string, number>;
  /** Nodes that came back after their OSDs had been marked out: backfill back to them since then. */
  backfillFrom: Record<string, number>;
  extraChecks: { code: string; severity: "HEALTH_WARN" | "HEALTH_ERR"; summary: string; detail: string[] }[];
}

export interface ClusterState {
  name: string;
  standalone: boolean;
  configVersion: number;
  nodes: string[];
  storages: StorageState[];
  pools: string[];
  /**
   * manager_status `node_request`: maintenance the CRM accepted from a queued
   * `enable-node-maintenance` command (false once a `disable-node-maintenance` cleared it).
   */
  maintenanceRequested: Record<string, boolean>;
  /** CRM commands queued by `ha-manager` (/etc/pve/ha/crm_commands), read by the next CRM round. */
  crmCommands: string[];
  /** CRM view of each node: online, maintenance, unknown, fence, gone. */
  haNodeStatus: Record<string, string>;
  /** Each node's lrm_status file. */
  lrm: Record<string, LrmStatusFile>;
  haMaster?: string;
  backups: BackupArchive[];
  ceph?: CephSimState;

  /** votequorum's two_node (and wait_for_all with it). */
  twoNode: boolean;
  /** datacenter.cfg `max_workers`, when set. */
  maxWorkers?: number;
  /** The QDevice: the votes it gives, and whether corosync-qnetd answers. */
  qdevice?: { votes: number; alive: boolean };
}

export interface MigrationRecord {
  vmid: number;
  type: GuestType;
  from: string;
  to: string;
  online: boolean;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error?: string;
  via: "cli" | "ha";
}

export interface GuestEvent {
  vmid: number;
  node: string;
  event: "start" | "stop";
  at: number;
  reason: string;
}

/**
 * One entry of the HA log. `lrm` is the node's LRM at that moment: its state when pve-ha-lrm runs,
 * `not-running` when it does not (node down, service activating after boot, stopped);
 * `lrmService` is what `systemctl is-active pve-ha-lrm` says on the node (`down` when it is off).
 */
export interface HaEvent {
  at: number;
  cluster: string;
  node: string;
  /**
   * `maintenance-enable`/`maintenance-disable`: `ha-manager crm-command node-maintenance` queued the
   * command (`by` names the host it ran on). `node-request`: the CRM processed it (`to`:
   * `maintenance`, `none`, or `ignored`/`dropped` with `detail`). `node-status`: the CRM's node state
   * changed. `lrm-mode`/`lrm-state`: what the LRM wrote changed. `service`: a CRM service state
   * change (`sid`, and `target` for a migration).
   */
  event:
    | "maintenance-enable"
    | "maintenance-disable"
    | "node-request"
    | "node-status"
    | "lrm-mode"
    | "lrm-state"
    | "service";
  from?: string;
  to?: string;
  lrm: LrmStateName | "not-running";
  lrmService: ServiceActive | "down";
  by?: string;
  sid?: string;
  target?: string;
  detail?: string;
}

export interface SimHistory {
  bootIds: Record<string, string[]>;
  migrations: MigrationRecord[];
  guestEvents: GuestEvent[];
  /** Every command line the hosts executed, for tests that prove what was (not) run. */
  commands: { host: string; at: number; command: string; via: "ssh" | "unit" | "pct-exec" }[];
  reboots: { host: string; at: number; kernel: string }[];
  /** Services restarted by a package upgrade's maintainer scripts. */
  serviceRestarts: { host: string; unit: string; at: number }[];
  /** HA: maintenance requests, the CRM's node states, LRM mode/state changes, service moves. */
  ha: HaEvent[];
}

export interface SimState {
  clusters: Record<string, ClusterState>;
  hosts: Record<string, HostState>;
  guests: Record<string, GuestState>;
  tasks: TaskRecord[];
  history: SimHistory;
}
