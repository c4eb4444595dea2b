import { CLUSTER_OPTIONS_ARGV, parseClusterOptions, type ClusterOptions } from "./cluster-options.js";
import type { HostExec } from "../ssh/types.js";
import {
  APT_MARK_SHOWHOLD_ARGV,
  APT_SIMULATE_ARGV,
  DPKG_AUDIT_ARGV,
  parseAptSimulation,
  parseDpkgAudit,
  parseShowHold,
  type AptSimulation,
  type DpkgAudit,
} from "./apt.js";
import { runBatch, type BatchStepResult } from "./batch.js";
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
import { commandError, describeCommand, type ParseContext } from "./errors.js";
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
  assessReboot,
  parseBootKernelList,
  parseUnameRelease,
  type BootKernelList,
  type RebootAssessment,
  type RebootFlag,
} from "./kernels.js";
import { nodeStatusArgv, parseNodeStatus, type NodeStatus } from "./node-status.js";
import { available, observe, unavailable, unavailableFrom, type Observed } from "./observed.js";
import { PVEVERSION_ARGV, parsePveVersion, type PveVersion } from "./pveversion.js";
import {
  REBOOT_REQUIRED_PKGS_ARGV,
  REBOOT_REQUIRED_TEST_ARGV,
  parseRebootRequiredPkgs,
  parseRebootRequiredTest,
} from "./reboot-required.js";
import { CLUSTER_RESOURCES_ARGV, parseClusterResources, type ClusterResources } from "./resources.js";
import { activeTasksArgv, parseTaskList, type PveTask } from "./tasks.js";
import { PveTimeouts } from "./timeouts.js";
import { parseZpoolStatusX, type ZfsHealth } from "./zfs.js";
import { ZPOOL_STATUS_X_ARGV } from "./zfs.js";

/**
 * Interprets one batch step: a failed exit is classified exactly like a direct exec
 * (127 → CommandMissing, locks → LockHeld, ...), then the output goes to the parser.
 */
export function stepObserved<T>(
  step: BatchStepResult | undefined,
  host: string,
  parse: (output: string, ctx: ParseContext, exitCode: number) => T,
  okExitCodes: readonly number[] = [0],
): Observed<T> {
  if (step === undefined)
    return unavailable("BatchTruncated", "The batch reply has no result for this step.");
  const ctx: ParseContext = { command: describeCommand(step.argv), host };
  if (step.exitCode === 127 || !okExitCodes.includes(step.exitCode)) {
    return unavailableFrom(commandError(step.argv, { exitCode: step.exitCode, output: step.output }, host));
  }
  return observe(() => parse(step.output, ctx, step.exitCode));
}

export interface NodeObservation {
  readonly node: string;
  readonly status: Observed<NodeStatus>;
  readonly bootId: Observed<string>;
  /** `uname -r`. */
  readonly runningKernel: Observed<string>;
  readonly bootKernels: Observed<BootKernelList>;
  readonly rebootFlag: Observed<RebootFlag>;
  /** Derived: whether a reboot is needed and why. */
  readonly reboot: Observed<RebootAssessment>;
  readonly rootDisk: Observed<DiskUsage>;
  readonly zfs: Observed<ZfsHealth>;
  readonly activeTasks: Observed<readonly PveTask[]>;
  readonly pveVersion: Observed<PveVersion>;
  /** Present only when asked for (`pendingUpdates: true`): apt's simulation is slow. */
  readonly pendingUpdates?: Observed<AptSimulation>;
  /** `apt-mark showhold`, read with the pending updates: what an admin (or Refit) holds. */
  readonly holds?: Observed<readonly string[]>;
  /** `dpkg --audit`, read with the pending updates: packages an interrupted run left half done. */
  readonly dpkgAudit?: Observed<DpkgAudit>;
}

export interface ObserveNodeOptions {
  /** Also run `apt-get -s dist-upgrade` in the same round trip. */
  readonly pendingUpdates?: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The argv steps observeNode sends, in order (exported for COMMANDS.md and the simulator's tests). */
export function observeNodeSteps(node: string, opts: { pendingUpdates?: boolean } = {}): string[][] {
  const steps: string[][] = [
    nodeStatusArgv(node),
    [...BOOT_ID_ARGV],
    [...UNAME_R_ARGV],
    [...BOOT_TOOL_KERNEL_LIST_ARGV],
    [...REBOOT_REQUIRED_TEST_ARGV],
    [...REBOOT_REQUIRED_PKGS_ARGV],
    [...DF_ROOT_ARGV],
    [...ZPOOL_STATUS_X_ARGV],
    activeTasksArgv(node),
    [...PVEVERSION_ARGV],
  ];
  if (opts.pendingUpdates)
    steps.push([...APT_SIMULATE_ARGV], [...APT_MARK_SHOWHOLD_ARGV], [...DPKG_AUDIT_ARGV]);
  return steps;
}

/**
 * Everything about one node in ONE exec. Transport failures (unreachable host, timeout) and a cut
 * reply throw; every other problem makes just that part Unavailable with its reason, so a gate can
 * say exactly why it could not be evaluated.
 */
export async function observeNode(
  exec: HostExec,
  node: string,
  opts: ObserveNodeOptions = {},
): Promise<NodeObservation> {
  const steps = observeNodeSteps(node, opts);
  const timeoutMs = opts.timeoutMs ?? (opts.pendingUpdates ? PveTimeouts.batchWithApt : PveTimeouts.batch);
  const r = await runBatch(exec, steps, { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  const host = exec.host;
  const status = stepObserved(r[0], host, parseNodeStatus);
  const bootId = stepObserved(r[1], host, parseBootId);
  const runningKernel = stepObserved(r[2], host, parseUnameRelease);
  const bootKernels = stepObserved(r[3], host, parseBootKernelList);
  const flagPresent = stepObserved(
    r[4],
    host,
    (out, ctx, code) => parseRebootRequiredTest(code, out, ctx),
    [0, 1],
  );
  const flagPkgs = stepObserved(
    r[5],
    host,
    (out, ctx, code) => parseRebootRequiredPkgs(code, out, ctx),
    [0, 1],
  );
  // The package list only explains the flag; an unreadable list must not hide a set flag.
  const rebootFlag: Observed<RebootFlag> = flagPresent.ok
    ? available({ required: flagPresent.value, packages: flagPkgs.ok ? flagPkgs.value : [] })
    : flagPresent;
  const observation: NodeObservation = {
    node,
    status,
    bootId,
    runningKernel,
    bootKernels,
    rebootFlag,
    reboot: combineReboot(runningKernel, bootKernels, rebootFlag),
    rootDisk: stepObserved(r[6], host, parseDfPosix),
    zfs: stepObserved(r[7], host, parseZpoolStatusX),
    activeTasks: stepObserved(r[8], host, parseTaskList),
    pveVersion: stepObserved(r[9], host, parsePveVersion),
  };
  if (opts.pendingUpdates)
    return {
      ...observation,
      pendingUpdates: stepObserved(r[10], host, parseAptSimulation),
      holds: stepObserved(r[11], host, parseShowHold),
      dpkgAudit: stepObserved(r[12], host, parseDpkgAudit),
    };
  return observation;
}

/**
 * A reboot is proven needed by any one available signal; "not needed" needs all of them. So a set
 * flag is enough even if the kernel list is unreadable, but an unreadable kernel list with no flag
 * is Unavailable, not "no reboot".
 */
export function combineReboot(
  running: Observed<string>,
  kernels: Observed<BootKernelList>,
  flag: Observed<RebootFlag>,
): Observed<RebootAssessment> {
  if (flag.ok && flag.value.required && !(running.ok && kernels.ok)) {
    const none: BootKernelList = { manual: [], automatic: [], pinned: undefined, nextBoot: undefined };
    return available(assessReboot(running.ok ? running.value : "unknown", none, flag.value));
  }
  if (!running.ok) return running;
  if (!kernels.ok) return kernels;
  if (flag.ok) return available(assessReboot(running.value, kernels.value, flag.value));
  const byKernel = assessReboot(running.value, kernels.value, { required: false, packages: [] });
  return byKernel.needed ? available(byKernel) : flag;
}

export interface ClusterObservation {
  readonly status: Observed<ClusterStatus>;
  /** `pvecm status`; unavailable on a standalone node (and whenever pvecm fails). */
  readonly votes: Observed<PvecmStatus>;
  /** Derived from status + votes: standalone, or the cluster with its quorum and votes. */
  readonly quorum: Observed<QuorumView>;
  readonly resources: Observed<ClusterResources>;
  readonly haManager: Observed<HaManagerStatus>;
  readonly haCurrent: Observed<readonly HaCurrentEntry[]>;
  /** datacenter.cfg (HA's max_workers). */
  readonly options: Observed<ClusterOptions>;
}

export function observeClusterSteps(): string[][] {
  return [
    [...CLUSTER_STATUS_ARGV],
    [...PVECM_STATUS_ARGV],
    [...CLUSTER_RESOURCES_ARGV],
    [...HA_MANAGER_STATUS_ARGV],
    [...HA_CURRENT_ARGV],
    [...CLUSTER_OPTIONS_ARGV],
  ];
}

/** The cluster as one node sees it, in ONE exec. */
export async function observeCluster(
  exec: HostExec,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ClusterObservation> {
  const r = await runBatch(exec, observeClusterSteps(), {
    timeoutMs: opts.timeoutMs ?? PveTimeouts.batch,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const host = exec.host;
  const status = stepObserved(r[0], host, parseClusterStatus);
  const votes = stepObserved(r[1], host, parsePvecmStatus);
  // No cluster row and a failing pvecm is a standalone node; a cluster row with a failing pvecm is
  // a cluster whose votes are unknown (quorumView keeps `votes` undefined, so vote gates stay closed).
  const quorum: Observed<QuorumView> = status.ok
    ? available(quorumView(status.value, votes.ok ? votes.value : undefined))
    : status;
  return {
    status,
    votes,
    quorum,
    resources: stepObserved(r[2], host, parseClusterResources),
    haManager: stepObserved(r[3], host, parseHaManagerStatus),
    haCurrent: stepObserved(r[4], host, parseHaCurrent),
    options: stepObserved(r[5], host, parseClusterOptions),
  };
}
