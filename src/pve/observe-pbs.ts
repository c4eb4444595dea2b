import type { HostExec } from "../ssh/types.js";
import { runBatch } from "./batch.js";
import { BOOT_ID_ARGV, parseBootId } from "./boot-id.js";
import { DF_ROOT_ARGV, parseDfPosix, type DiskUsage } from "./disk.js";
import { UNAME_R_ARGV, parseUnameRelease } from "./kernels.js";
import { available, type Observed } from "./observed.js";
import { stepObserved } from "./observe.js";
import {
  PBS_SERVICES,
  PBS_TASK_LIST_ARGV,
  PBS_VERSIONS_ARGV,
  parsePbsTaskList,
  parsePbsVersions,
  type PbsPackageVersion,
  type PbsTask,
} from "./pbs.js";
import {
  REBOOT_REQUIRED_PKGS_ARGV,
  REBOOT_REQUIRED_TEST_ARGV,
  parseRebootRequiredPkgs,
  parseRebootRequiredTest,
} from "./reboot-required.js";
import type { RebootFlag } from "./kernels.js";
import { isActiveArgv, isEnabledArgv, parseIsActive, parseIsEnabled } from "./systemd.js";
import { PveTimeouts } from "./timeouts.js";

/** What the `pbs` profile's gates and verification read from a Proxmox Backup Server. */
export interface PbsObservation {
  /** CommandMissing here means the host is not a PBS. */
  readonly versions: Observed<readonly PbsPackageVersion[]>;
  /** Running tasks only (the list without --all). */
  readonly runningTasks: Observed<readonly PbsTask[]>;
  /** unit → { active, enabled } for proxmox-backup and proxmox-backup-proxy. */
  readonly services: Observed<
    Readonly<Record<string, { readonly active: string; readonly enabled: string }>>
  >;
  readonly rootDisk: Observed<DiskUsage>;
  readonly bootId: Observed<string>;
  readonly runningKernel: Observed<string>;
  readonly rebootFlag: Observed<RebootFlag>;
}

export function observePbsSteps(units: readonly string[] = PBS_SERVICES): string[][] {
  return [
    [...PBS_VERSIONS_ARGV],
    [...PBS_TASK_LIST_ARGV],
    isActiveArgv(units),
    isEnabledArgv(units),
    [...DF_ROOT_ARGV],
    [...BOOT_ID_ARGV],
    [...UNAME_R_ARGV],
    [...REBOOT_REQUIRED_TEST_ARGV],
    [...REBOOT_REQUIRED_PKGS_ARGV],
  ];
}

// systemctl is-active / is-enabled exit non-zero whenever a unit is not active/enabled.
const ANY_SYSTEMCTL_EXIT = [0, 1, 2, 3, 4];

/** A PBS host in ONE exec; every part a value or the reason it is unavailable. */
export async function observePbs(
  exec: HostExec,
  opts: { units?: readonly string[]; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<PbsObservation> {
  const units = opts.units ?? PBS_SERVICES;
  const r = await runBatch(exec, observePbsSteps(units), {
    timeoutMs: opts.timeoutMs ?? PveTimeouts.batch,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const host = exec.host;
  const active = stepObserved(r[2], host, (out, ctx) => parseIsActive(units, out, ctx), ANY_SYSTEMCTL_EXIT);
  const enabled = stepObserved(
    r[3],
    host,
    (out, ctx) => parseIsEnabled(units, out, "", ctx),
    ANY_SYSTEMCTL_EXIT,
  );
  const services: PbsObservation["services"] = !active.ok
    ? active
    : !enabled.ok
      ? enabled
      : available(
          Object.fromEntries(
            units.map((u) => [
              u,
              { active: active.value[u] ?? "unknown", enabled: enabled.value[u] ?? "unknown" },
            ]),
          ),
        );
  const flag = stepObserved(r[7], host, (out, ctx, code) => parseRebootRequiredTest(code, out, ctx), [0, 1]);
  const pkgs = stepObserved(r[8], host, (out, ctx, code) => parseRebootRequiredPkgs(code, out, ctx), [0, 1]);
  return {
    versions: stepObserved(r[0], host, parsePbsVersions),
    runningTasks: stepObserved(r[1], host, (out, ctx) => parsePbsTaskList(out, ctx).filter((t) => t.running)),
    services,
    rootDisk: stepObserved(r[4], host, parseDfPosix),
    bootId: stepObserved(r[5], host, parseBootId),
    runningKernel: stepObserved(r[6], host, parseUnameRelease),
    rebootFlag: flag.ok ? available({ required: flag.value, packages: pkgs.ok ? pkgs.value : [] }) : flag,
  };
}
