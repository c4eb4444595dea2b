import type { ExecResult, HostExec } from "../ssh/types.js";
import { RetryableError } from "../errors.js";
import { APT_UPDATE_ARGV, aptUpdateFailures } from "./apt.js";
import { PveReason } from "./reasons.js";
import type { GuestKind } from "./args.js";
import {
  parseVzdumpArchive,
  restoreArgv,
  vzdumpArgv,
  type RestoreOptions,
  type VzdumpArchive,
  type VzdumpOptions,
} from "./backup.js";
import { describeCommand } from "./errors.js";
import { pctExecArgv } from "./guest-exec.js";
import { guestPowerArgv, type PowerAction } from "./guest-power.js";
import { haMigrateArgv, nodeMaintenanceArgv } from "./ha.js";
import { pctMigrateArgv, qmMigrateArgv, type CtMigrateOptions, type VmMigrateOptions } from "./migrate.js";
import { run } from "./run.js";
import {
  createSnapshotArgv,
  deleteSnapshotArgv,
  rollbackSnapshotArgv,
  type CreateSnapshotOptions,
} from "./snapshots.js";
import { PveTimeouts } from "./timeouts.js";

export interface ActionOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Operations that change a host. Kept apart from PveReader so a dry run can be handed only the
 * reader. Each method runs one command directly and waits for it; work that must survive an SSH
 * drop (migrations, vzdump, long pct exec) should instead run the same argv (the *Argv builders) as
 * a remote job. Failures throw the typed errors from ./errors.ts.
 */
export class PveActions {
  constructor(readonly exec: HostExec) {}

  get host(): string {
    return this.exec.host;
  }

  private run(
    argv: readonly string[],
    defaultTimeout: number,
    opts: ActionOptions | undefined,
  ): Promise<ExecResult> {
    return run(this.exec, argv, {
      timeoutMs: opts?.timeoutMs ?? defaultTimeout,
      ...(opts?.signal ? { signal: opts.signal } : {}),
    });
  }

  /** `apt-get update`: refreshes the package index (changes /var/lib/apt/lists, so not a dry-run read). */
  /**
   * `apt-get update`. apt exits 0 when an index cannot be fetched (it keeps the old one), so its
   * warnings are read too: a stale index must not make a node look up to date.
   */
  async refreshPackageIndex(opts?: ActionOptions): Promise<void> {
    const r = await this.run(APT_UPDATE_ARGV, PveTimeouts.aptUpdate, opts);
    const failed = aptUpdateFailures(`${r.stdout}\n${r.stderr}`);
    if (failed.length > 0) {
      throw new RetryableError(
        PveReason.RepositoryUnreachable,
        `apt-get update on ${this.host} could not refresh every package index (${failed.slice(0, 3).join("; ")}); the pending updates would be stale. Check the node's network and repositories; Refit will retry.`,
        { host: this.host },
      );
    }
  }

  /** Queues HA node maintenance on/off; completion shows in manager_status.node_status[node]. */
  async setNodeMaintenance(node: string, enable: boolean, opts?: ActionOptions): Promise<void> {
    await this.run(nodeMaintenanceArgv(node, enable), PveTimeouts.haCommand, opts);
  }

  async migrateVm(
    vmid: number,
    target: string,
    migrate: VmMigrateOptions = {},
    opts?: ActionOptions,
  ): Promise<ExecResult> {
    return this.run(qmMigrateArgv(vmid, target, migrate), PveTimeouts.migrate, opts);
  }

  async migrateCt(
    vmid: number,
    target: string,
    migrate: CtMigrateOptions = {},
    opts?: ActionOptions,
  ): Promise<ExecResult> {
    return this.run(pctMigrateArgv(vmid, target, migrate), PveTimeouts.migrate, opts);
  }

  /** Requests an HA migration; returns once queued (the `hamigrate` task then moves the guest). */
  async haMigrate(kind: GuestKind, vmid: number, target: string, opts?: ActionOptions): Promise<void> {
    await this.run(haMigrateArgv(kind, vmid, target), PveTimeouts.haCommand, opts);
  }

  async createSnapshot(
    kind: GuestKind,
    vmid: number,
    name: string,
    snapshot: CreateSnapshotOptions = {},
    opts?: ActionOptions,
  ): Promise<void> {
    await this.run(createSnapshotArgv(kind, vmid, name, snapshot), PveTimeouts.snapshot, opts);
  }

  async deleteSnapshot(
    kind: GuestKind,
    vmid: number,
    name: string,
    del: { force?: boolean } = {},
    opts?: ActionOptions,
  ): Promise<void> {
    await this.run(deleteSnapshotArgv(kind, vmid, name, del), PveTimeouts.snapshot, opts);
  }

  async rollbackSnapshot(
    kind: GuestKind,
    vmid: number,
    name: string,
    rollback: { start?: boolean } = {},
    opts?: ActionOptions,
  ): Promise<void> {
    await this.run(rollbackSnapshotArgv(kind, vmid, name, rollback), PveTimeouts.snapshot, opts);
  }

  /** Backs a guest up and returns the archive it wrote (from vzdump's log). */
  async vzdump(vmid: number, backup: VzdumpOptions, opts?: ActionOptions): Promise<VzdumpArchive> {
    const argv = vzdumpArgv(vmid, backup);
    const result = await this.run(argv, PveTimeouts.backup, opts);
    // vzdump logs to stderr when not attached to a terminal; look at both.
    return parseVzdumpArchive(`${result.stdout}\n${result.stderr}`, backup.storage, {
      command: describeCommand(argv),
      host: this.host,
    });
  }

  async restore(
    kind: GuestKind,
    vmid: number,
    archive: string,
    restore: RestoreOptions,
    opts?: ActionOptions,
  ): Promise<void> {
    await this.run(restoreArgv(kind, vmid, archive, restore), PveTimeouts.backup, opts);
  }

  /**
   * Runs argv inside a container and returns the result whatever the exit code: the exit code is
   * the inner command's, which only the caller can interpret. A 127 here may mean the command is
   * missing in the container, not on the host.
   */
  async pctExec(vmid: number, argv: readonly string[], opts?: ActionOptions): Promise<ExecResult> {
    return this.exec.exec(pctExecArgv(vmid, argv), {
      timeoutMs: opts?.timeoutMs ?? PveTimeouts.pctExec,
      ...(opts?.signal ? { signal: opts.signal } : {}),
    });
  }

  async guestPower(
    kind: GuestKind,
    action: PowerAction,
    vmid: number,
    power: { timeoutSec?: number } = {},
    opts?: ActionOptions,
  ): Promise<void> {
    // The CLI waits up to --timeout for the guest; give the exec that long plus a margin.
    const defaultTimeout =
      power.timeoutSec !== undefined ? power.timeoutSec * 1000 + PveTimeouts.api : PveTimeouts.guestPower;
    await this.run(guestPowerArgv(kind, action, vmid, power), defaultTimeout, opts);
  }
}
