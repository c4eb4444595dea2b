import type { HostExec } from "../ssh/types.js";
import {
  migratePreconditionArgv,
  parseMigratePrecondition,
  type MigratePrecondition,
} from "./migrate-precondition.js";
import { APT_SIMULATE_ARGV, parseAptSimulation, type AptSimulation } from "./apt.js";
import type { GuestKind } from "./args.js";
import { BOOT_ID_ARGV, parseBootId } from "./boot-id.js";
import {
  CLUSTER_STATUS_ARGV,
  PVECM_STATUS_ARGV,
  parseClusterStatus,
  parsePvecmStatus,
  quorumView,
  type ClusterStatus,
  type PvecmStatus,
  type QuorumView,
} from "./cluster.js";
import { DF_ROOT_ARGV, parseDfPosix, type DiskUsage } from "./disk.js";
import { CommandFailedError, CommandMissingError, type ParseContext } from "./errors.js";
import { guestConfigArgv, parseGuestConfig, type GuestConfig } from "./guest-config.js";
import { guestStatusArgv, parseGuestStatus, type GuestStatus } from "./guest-power.js";
import {
  HA_CURRENT_ARGV,
  HA_MANAGER_STATUS_ARGV,
  parseHaCurrent,
  parseHaManagerStatus,
  type HaCurrentEntry,
  type HaManagerStatus,
} from "./ha.js";
import {
  BOOT_TOOL_KERNEL_LIST_ARGV,
  UNAME_R_ARGV,
  parseBootKernelList,
  parseUnameRelease,
  type BootKernelList,
  type RebootFlag,
} from "./kernels.js";
import { nodeStatusArgv, parseNodeStatus, type NodeStatus } from "./node-status.js";
import {
  observeCluster,
  observeNode,
  type ClusterObservation,
  type NodeObservation,
  type ObserveNodeOptions,
} from "./observe.js";
import {
  PBS_TASK_LIST_ARGV,
  PBS_VERSIONS_ARGV,
  parsePbsTaskList,
  parsePbsVersions,
  type PbsPackageVersion,
  type PbsTask,
} from "./pbs.js";
import { observePbs, type PbsObservation } from "./observe-pbs.js";
import { PVEVERSION_ARGV, parsePveVersion, type PveVersion } from "./pveversion.js";
import {
  REBOOT_REQUIRED_PKGS_ARGV,
  REBOOT_REQUIRED_TEST_ARGV,
  parseRebootRequiredPkgs,
  parseRebootRequiredTest,
} from "./reboot-required.js";
import {
  CLUSTER_RESOURCES_ARGV,
  parseClusterResources,
  type ClusterResources,
  type StorageIndex,
} from "./resources.js";
import { run, runForOutput } from "./run.js";
import { listSnapshotsArgv, parseSnapshotList, type SnapshotList } from "./snapshots.js";
import { isActiveArgv, isEnabledArgv, parseIsActive, parseIsEnabled } from "./systemd.js";
import { activeTasksArgv, guestTasksArgv, parseTaskList, type PveTask } from "./tasks.js";
import { PveTimeouts } from "./timeouts.js";
import { ZPOOL_STATUS_X_ARGV, parseZpoolStatusX, type ZfsHealth } from "./zfs.js";

export interface ReadOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Read-only Proxmox/Debian operations on one host. Nothing here changes the host, so a dry run gets
 * a PveReader and nothing else. Each method is one exec with a timeout; failures throw the typed
 * errors from ./errors.ts (UnparseableOutput, CommandMissing, LockHeld, CommandFailed).
 */
export class PveReader {
  constructor(readonly exec: HostExec) {}

  get host(): string {
    return this.exec.host;
  }

  private async text(
    argv: readonly string[],
    defaultTimeout: number,
    opts: ReadOptions | undefined,
    okExitCodes?: readonly number[],
  ): Promise<{ stdout: string; stderr: string; exitCode: number; ctx: ParseContext }> {
    const { result, ctx } = await runForOutput(this.exec, argv, {
      timeoutMs: opts?.timeoutMs ?? defaultTimeout,
      ...(okExitCodes ? { okExitCodes } : {}),
      ...(opts?.signal ? { signal: opts.signal } : {}),
    });
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1, ctx };
  }

  async clusterStatus(opts?: ReadOptions): Promise<ClusterStatus> {
    const { stdout, ctx } = await this.text(CLUSTER_STATUS_ARGV, PveTimeouts.api, opts);
    return parseClusterStatus(stdout, ctx);
  }

  async pvecmStatus(opts?: ReadOptions): Promise<PvecmStatus> {
    const { stdout, ctx } = await this.text(PVECM_STATUS_ARGV, PveTimeouts.api, opts);
    return parsePvecmStatus(stdout, ctx);
  }

  /**
   * Cluster membership and quorum. pvecm failing (it does on a standalone node) is tolerated: with no
   * cluster row that is a standalone node, with one it is a cluster whose votes are unknown. A missing
   * pvecm (not a PVE host) still throws.
   */
  async quorum(opts?: ReadOptions): Promise<QuorumView> {
    const status = await this.clusterStatus(opts);
    let votes: PvecmStatus | undefined;
    try {
      votes = await this.pvecmStatus(opts);
    } catch (err) {
      if (err instanceof CommandMissingError || !(err instanceof CommandFailedError)) throw err;
    }
    return quorumView(status, votes);
  }

  async resources(opts?: ReadOptions): Promise<ClusterResources> {
    const { stdout, ctx } = await this.text(CLUSTER_RESOURCES_ARGV, PveTimeouts.api, opts);
    return parseClusterResources(stdout, ctx);
  }

  async nodeStatus(node: string, opts?: ReadOptions): Promise<NodeStatus> {
    const { stdout, ctx } = await this.text(nodeStatusArgv(node), PveTimeouts.api, opts);
    return parseNodeStatus(stdout, ctx);
  }

  async bootId(opts?: ReadOptions): Promise<string> {
    const { stdout, ctx } = await this.text(BOOT_ID_ARGV, PveTimeouts.quick, opts);
    return parseBootId(stdout, ctx);
  }

  async runningKernel(opts?: ReadOptions): Promise<string> {
    const { stdout, ctx } = await this.text(UNAME_R_ARGV, PveTimeouts.quick, opts);
    return parseUnameRelease(stdout, ctx);
  }

  async bootKernels(opts?: ReadOptions): Promise<BootKernelList> {
    const { stdout, ctx } = await this.text(BOOT_TOOL_KERNEL_LIST_ARGV, PveTimeouts.quick, opts);
    return parseBootKernelList(stdout, ctx);
  }

  /** /var/run/reboot-required and its .pkgs list (two execs; observeNode batches them). */
  async rebootFlag(opts?: ReadOptions): Promise<RebootFlag> {
    const t = await this.text(REBOOT_REQUIRED_TEST_ARGV, PveTimeouts.quick, opts, [0, 1]);
    const required = parseRebootRequiredTest(t.exitCode, t.stdout, t.ctx);
    if (!required) return { required, packages: [] };
    const p = await this.text(REBOOT_REQUIRED_PKGS_ARGV, PveTimeouts.quick, opts, [0, 1]);
    return { required, packages: parseRebootRequiredPkgs(p.exitCode, p.stdout + p.stderr, p.ctx) };
  }

  /** `apt-get -s dist-upgrade`: what an upgrade would do, from the current package index. */
  async pendingUpdates(opts?: ReadOptions): Promise<AptSimulation> {
    const { stdout, ctx } = await this.text(APT_SIMULATE_ARGV, PveTimeouts.aptSimulate, opts);
    return parseAptSimulation(stdout, ctx);
  }

  async zfsHealth(opts?: ReadOptions): Promise<ZfsHealth> {
    const { stdout, stderr, ctx } = await this.text(ZPOOL_STATUS_X_ARGV, PveTimeouts.zpool, opts);
    // "no pools available" goes to stderr.
    return parseZpoolStatusX(stdout.trim().length > 0 ? stdout : stderr, ctx);
  }

  async rootDisk(opts?: ReadOptions): Promise<DiskUsage> {
    const { stdout, ctx } = await this.text(DF_ROOT_ARGV, PveTimeouts.quick, opts);
    return parseDfPosix(stdout, ctx);
  }

  async activeTasks(node: string, opts?: ReadOptions): Promise<PveTask[]> {
    const { stdout, ctx } = await this.text(activeTasksArgv(node), PveTimeouts.api, opts);
    return parseTaskList(stdout, ctx);
  }

  /** A guest's tasks on `node`, running and finished, newest first. */
  async guestTasks(node: string, vmid: number, opts?: ReadOptions): Promise<PveTask[]> {
    const { stdout, ctx } = await this.text(guestTasksArgv(node, vmid), PveTimeouts.api, opts);
    return parseTaskList(stdout, ctx);
  }

  async pveVersion(opts?: ReadOptions): Promise<PveVersion> {
    const { stdout, ctx } = await this.text(PVEVERSION_ARGV, PveTimeouts.api, opts);
    return parsePveVersion(stdout, ctx);
  }

  async haManagerStatus(opts?: ReadOptions): Promise<HaManagerStatus> {
    const { stdout, ctx } = await this.text(HA_MANAGER_STATUS_ARGV, PveTimeouts.api, opts);
    return parseHaManagerStatus(stdout, ctx);
  }

  async haCurrent(opts?: ReadOptions): Promise<HaCurrentEntry[]> {
    const { stdout, ctx } = await this.text(HA_CURRENT_ARGV, PveTimeouts.api, opts);
    return parseHaCurrent(stdout, ctx);
  }

  /** A guest's config with its local disks (judged against `storages`) and local devices. */
  /** qemu-server's migration precondition for a VM (what the GUI asks before it offers targets). */
  async migratePrecondition(node: string, vmid: number, opts?: ReadOptions): Promise<MigratePrecondition> {
    const { stdout, ctx } = await this.text(migratePreconditionArgv(node, vmid), PveTimeouts.api, opts);
    return parseMigratePrecondition(stdout, ctx);
  }

  async guestConfig(
    node: string,
    kind: GuestKind,
    vmid: number,
    storages: StorageIndex,
    opts?: ReadOptions,
  ): Promise<GuestConfig> {
    const { stdout, ctx } = await this.text(guestConfigArgv(node, kind, vmid), PveTimeouts.api, opts);
    return parseGuestConfig(kind, vmid, stdout, storages, ctx);
  }

  async guestStatus(node: string, kind: GuestKind, vmid: number, opts?: ReadOptions): Promise<GuestStatus> {
    const { stdout, ctx } = await this.text(guestStatusArgv(node, kind, vmid), PveTimeouts.api, opts);
    return parseGuestStatus(stdout, ctx);
  }

  async snapshots(kind: GuestKind, vmid: number, opts?: ReadOptions): Promise<SnapshotList> {
    const { stdout, ctx } = await this.text(listSnapshotsArgv(kind, vmid), PveTimeouts.api, opts);
    return parseSnapshotList(stdout, ctx);
  }

  /** PBS package versions; throws CommandMissing on a host without proxmox-backup-manager. */
  async pbsVersions(opts?: ReadOptions): Promise<PbsPackageVersion[]> {
    const { stdout, ctx } = await this.text(PBS_VERSIONS_ARGV, PveTimeouts.api, opts);
    return parsePbsVersions(stdout, ctx);
  }

  /** Whether proxmox-backup-manager exists (false only for exit 127; other failures throw). */
  async pbsPresent(opts?: ReadOptions): Promise<boolean> {
    try {
      await run(this.exec, PBS_VERSIONS_ARGV, {
        timeoutMs: opts?.timeoutMs ?? PveTimeouts.api,
        ...(opts?.signal ? { signal: opts.signal } : {}),
      });
      return true;
    } catch (err) {
      if (err instanceof CommandMissingError) return false;
      throw err;
    }
  }

  /** Running PBS tasks (the list without --all holds running tasks only). */
  async pbsRunningTasks(opts?: ReadOptions): Promise<PbsTask[]> {
    const { stdout, ctx } = await this.text(PBS_TASK_LIST_ARGV, PveTimeouts.api, opts);
    return parsePbsTaskList(stdout, ctx).filter((t) => t.running);
  }

  /** unit → is-active state; the exit code is ignored (non-zero whenever any unit is inactive). */
  async servicesActive(units: readonly string[], opts?: ReadOptions): Promise<Record<string, string>> {
    const { stdout, ctx } = await this.text(isActiveArgv(units), PveTimeouts.quick, opts, ANY_EXIT);
    return parseIsActive(units, stdout, ctx);
  }

  /** unit → is-enabled state; the exit code is ignored (non-zero whenever any unit is disabled). */
  async servicesEnabled(units: readonly string[], opts?: ReadOptions): Promise<Record<string, string>> {
    const { stdout, stderr, ctx } = await this.text(isEnabledArgv(units), PveTimeouts.quick, opts, ANY_EXIT);
    return parseIsEnabled(units, stdout, stderr, ctx);
  }

  /** unit → { active, enabled } (two execs; observePbs batches them). */
  async servicesState(
    units: readonly string[],
    opts?: ReadOptions,
  ): Promise<Record<string, { active: string; enabled: string }>> {
    const active = await this.servicesActive(units, opts);
    const enabled = await this.servicesEnabled(units, opts);
    return Object.fromEntries(
      units.map((u) => [u, { active: active[u] ?? "unknown", enabled: enabled[u] ?? "unknown" }]),
    );
  }

  /** A PBS host's versions, running tasks, services, disk, boot id and reboot flag in one round trip. */
  observePbs(opts?: ReadOptions & { units?: readonly string[] }): Promise<PbsObservation> {
    return observePbs(this.exec, opts);
  }

  /** Everything about one node in one round trip; see observeNode. */
  observeNode(node: string, opts?: ObserveNodeOptions): Promise<NodeObservation> {
    return observeNode(this.exec, node, opts);
  }

  /** Cluster status, votes, resources and HA in one round trip; see observeCluster. */
  observeCluster(opts?: ReadOptions): Promise<ClusterObservation> {
    return observeCluster(this.exec, opts);
  }
}

// systemctl is-active/is-enabled exit 0..4 depending on the units' states; 127 stays a failure.
const ANY_EXIT: readonly number[] = Array.from({ length: 256 }, (_, i) => i).filter((i) => i !== 127);
