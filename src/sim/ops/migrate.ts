import { hms, isoLocal } from "../commands/time-format.js";
import { isOnline, nodeMemoryFree, reserveMemory } from "../model/cluster.js";
import { localDisks } from "../model/guest-config.js";
import type { GuestState, MigrationRecord } from "../model/state.js";
import type { Sim } from "../world.js";
import { OpError } from "./errors.js";
import { localDeviceBlocker, volumeProblems } from "./migrate-checks.js";
import { shutdownGuest, startGuest } from "./power.js";

/**
 * Guest migration as qemu-server/pve-container do it: a `qmigrate`/`vzmigrate` task on the source,
 * the guest locked `migrate` while it runs, sim time proportional to memory (live) and local disk
 * size, a task log with timestamps, and the failures a real cluster produces (target offline,
 * target out of memory, injected migration failures).
 *
 * The end is not the arrival (src/pve/REFERENCE-migration.md): QemuMigrate's phase3_cleanup moves
 * the config to the target and resumes the VM there, THEN stops the source QEMU, cleans up, frees the
 * local copies and only then clears the lock (`qm unlock` on the target); the task ends after that.
 * pve-container moves the config at the end of phase1 and unlocks in final_cleanup before starting
 * the CT on the target. So the guest shows on (and, live, runs on) the target, `lock: migrate`, with
 * the task still running, for `CLEANUP_SECONDS` (+1 s per local disk). If the source goes down or
 * the task's process is killed (its unit stopped, a reboot) the task ends `unexpected status` (what
 * PVE reads for a worker without its end line) and the lock stays wherever the config is.
 */

export interface MigrateOptions {
  target: string;
  online: boolean;
  withLocalDisks: boolean;
  restart: boolean;
  /** `qm migrate --force`: a stopped VM may move with local devices (HA's resource agent sets it). */
  force?: boolean;
  /** `pct migrate --timeout`: the restart-mode shutdown timeout (default 180, never forced). */
  shutdownTimeout?: number;
  via: "cli" | "ha";
  /** Task log lines go here (the CLI prints them). */
  log: (line: string) => void;
  signal?: AbortSignal;
}

const MiB = 1024 ** 2;

/** Stop of the source QEMU, vm_stop_cleanup and the `qm unlock` over SSH after the resume on the target. */
export const CLEANUP_SECONDS = 4;
/** Per local volume freed on the source (vdisk_free) before the unlock. */
export const CLEANUP_SECONDS_PER_DISK = 1;
/** The status PVE reads for a task whose worker died without writing its end line. */
export const KILLED_TASK_STATUS = "unexpected status";

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`;
}

export async function migrateGuest(sim: Sim, g: GuestState, opts: MigrateOptions): Promise<void> {
  const source = g.node;
  const cluster = sim.cluster(g.cluster)!;
  const target = sim.state.hosts[opts.target]!;
  const started = sim.now();
  const task = sim.startTask(source, g.type === "qemu" ? "qmigrate" : "vzmigrate", String(g.vmid));
  const log = (msg: string): void => opts.log(`${isoLocal(sim.now())} ${msg}`);
  const wasRunning = g.status === "running";
  const record = (ok: boolean, error?: string): void => {
    const rec: MigrationRecord = {
      vmid: g.vmid,
      type: g.type,
      from: source,
      to: opts.target,
      online: wasRunning && g.type === "qemu",
      startedAt: started,
      endedAt: sim.now(),
      ok,
      via: opts.via,
    };
    if (error) rec.error = error;
    sim.state.history.migrations.push(rec);
  };
  const duration = (): string => hms((sim.now() - started) / 1000);
  const fault = (): { message: string } | undefined => {
    const f = sim.faults.take(
      "migrationFailure",
      (s) =>
        (s.vmid === undefined || s.vmid === g.vmid) && (s.target === undefined || s.target === opts.target),
    );
    return f ? { message: f.spec.message } : undefined;
  };
  const sourceBoot = sim.state.hosts[source]?.bootId;
  /**
   * The worker dies with its node: once a shutdown/reboot of the source started (systemd signals the
   * worker and takes the network and the SSH to the target away under the cleanup), or it went down.
   */
  const sourceLost = (): boolean => {
    const h = sim.state.hosts[source];
    return h?.power !== "up" || h.bootId !== sourceBoot;
  };
  let killed = false;
  g.lock = "migrate";
  let release: (() => void) | undefined;
  try {
    const disks = localDisks(g, cluster.storages);
    const diskBytes = disks.reduce((s, d) => s + d.sizeBytes, 0);
    if (g.type === "lxc" && wasRunning && opts.restart) {
      log(`shutdown CT ${g.vmid}`);
      // pve-container's prepare(): PVE::LXC::vm_stop($vmid, 0, $timeout // 180), i.e. --nokill.
      try {
        await shutdownGuest(sim, g, {
          cmd: "pct",
          timeout: opts.shutdownTimeout ?? 180,
          forceStop: false,
          reason: "migrate",
          log,
          signal: opts.signal,
        });
      } catch (e) {
        if (!(e instanceof OpError)) throw e;
        const msg = `migration aborted (duration ${duration()}): ${e.message}`;
        log(`ERROR: ${msg}`);
        record(false, msg);
        sim.finishTask(task, "migration aborted");
        throw new OpError("migration aborted");
      }
    }
    const abort = (err: string): never => {
      const msg = `migration aborted (duration ${duration()}): ${err}`;
      log(`ERROR: ${msg}`);
      record(false, msg);
      sim.finishTask(task, "migration aborted");
      throw new OpError("migration aborted");
    };
    // QemuMigrate::prepare: local devices end the task before phase 1.
    const devices = g.type === "qemu" ? localDeviceBlocker(g, wasRunning, opts.force ?? false) : undefined;
    if (devices) abort(devices);
    log(
      `starting migration of ${g.type === "qemu" ? "VM" : "CT"} ${g.vmid} to node '${opts.target}' (${target.ip})`,
    );
    await sim.sleep(1, opts.signal);
    if (!isOnline(target)) abort("Can't connect to destination address using public key");
    // scan_local_volumes (phase 1): every problem is logged, then the migration is aborted.
    const problems = g.type === "qemu" ? volumeProblems(cluster, g, wasRunning, opts.withLocalDisks) : [];
    if (problems.length > 0) {
      for (const p of problems) log(p);
      const err = "Problem found while scanning volumes - can't migrate VM - check log";
      log(`ERROR: ${err}`);
      log("aborting phase 1 - cleanup resources");
      abort(err);
    }
    for (const d of disks) log(`found local disk '${d.volume}' (in current VM config)`);
    const live = g.type === "qemu" && wasRunning;
    if (live) {
      log(`starting VM ${g.vmid} on remote node '${opts.target}'`);
      if (nodeMemoryFree(sim, opts.target) < g.memoryBytes) {
        log(`[${opts.target}] kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory`);
        log(`[${opts.target}] start failed: QEMU exited with code 1`);
        const msg = "online migrate failure - remote command failed with exit code 255";
        log(`ERROR: ${msg}`);
        log("aborting phase 2 - cleanup resources");
        log("migrate_cancel");
        log(`ERROR: migration finished with problems (duration ${duration()})`);
        record(false, "target lacks memory");
        sim.finishTask(task, "migration problems");
        throw new OpError("migration problems");
      }
      release = reserveMemory(sim, g, opts.target);
      log("start remote tunnel");
      log("ssh tunnel ver 1");
      if (opts.withLocalDisks && disks.length > 0) {
        log(`starting storage migration`);
        for (const d of disks)
          log(
            `${d.key}: start migration to nbd:unix:/run/qemu-server/${g.vmid}_nbd.migrate:exportname=drive-${d.key}`,
          );
        await sim.sleep(diskBytes / MiB / sim.timing.diskMiBps, opts.signal);
        for (const d of disks)
          log(
            `drive-${d.key}: transferred ${gib(d.sizeBytes)} of ${gib(d.sizeBytes)} (100.00%) in ${hms(d.sizeBytes / MiB / sim.timing.diskMiBps)}, ready`,
          );
        log("all 'mirror' jobs are ready");
      }
      log(`starting online/live migration on unix:/run/qemu-server/${g.vmid}.migrate`);
      log("set migration capabilities");
      log("migration downtime limit: 100 ms");
      log("migration cachesize: 256.0 MiB");
      log("set migration parameters");
      log(`start migrate command to unix:/run/qemu-server/${g.vmid}.migrate`);
      const memSeconds = g.memoryBytes / MiB / sim.timing.migrationMiBps;
      await sim.sleep(memSeconds / 2, opts.signal);
      const speed = `${gib(sim.timing.migrationMiBps * MiB)}/s`;
      log(
        `migration active, transferred ${gib(g.memoryBytes / 2)} of ${gib(g.memoryBytes)} VM-state, ${speed}`,
      );
      if (sourceLost()) {
        killed = true;
        return;
      }
      const f = fault();
      if (f || !isOnline(target)) {
        const msg = `online migrate failure - ${f?.message ?? "aborting phase 2 - cleanup resources"}`;
        log(`ERROR: ${msg}`);
        log("aborting phase 2 - cleanup resources");
        log("migrate_cancel");
        log(`ERROR: migration finished with problems (duration ${duration()})`);
        record(false, msg);
        sim.finishTask(task, "migration problems");
        throw new OpError("migration problems");
      }
      await sim.sleep(memSeconds / 2, opts.signal);
      log(`average migration speed: ${speed} - downtime 43 ms`);
      log("migration status: completed");
    } else {
      const copySeconds = Math.max(1, diskBytes / MiB / sim.timing.diskMiBps);
      for (const d of disks) log(`copying local disk '${d.volume}' to '${opts.target}'`);
      await sim.sleep(copySeconds / 2, opts.signal);
      const f = fault();
      if (f || !isOnline(target)) {
        const msg = `migration aborted (duration ${duration()}): ${f?.message ?? "Can't connect to destination address using public key"}`;
        log(`ERROR: ${msg}`);
        record(false, msg);
        sim.finishTask(task, "migration aborted");
        throw new OpError("migration aborted");
      }
      await sim.sleep(copySeconds / 2, opts.signal);
      for (const d of disks) log(`volume '${d.volume}' is '${d.volume}' on the target`);
    }
    // The config moves to the target (qemu: phase3_cleanup; CT: end of phase1) and the VM resumes
    // there; the lock stays until the cleanup on the source is done.
    g.node = opts.target;
    release?.();
    release = undefined;
    sim.events.emit("guest-changed", g.vmid);
    if (live) {
      if (opts.withLocalDisks && disks.length > 0) log("stopping NBD storage migration server on target.");
    }
    await sim.sleep(CLEANUP_SECONDS + CLEANUP_SECONDS_PER_DISK * disks.length, opts.signal);
    if (sourceLost()) {
      killed = true;
      return;
    }
    if (g.type === "lxc") log("start final cleanup");
    g.lock = undefined;
    if (g.type === "lxc" && wasRunning && opts.restart) {
      log("start container on target node");
      try {
        await startGuest(sim, g, "migrate");
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log(`ERROR: ${msg}`);
        log(`ERROR: migration finished with problems (duration ${duration()})`);
        record(false, msg);
        sim.finishTask(task, "migration problems");
        throw new OpError("migration problems");
      }
    }
    log(`migration finished successfully (duration ${duration()})`);
    record(true);
    sim.finishTask(task, "OK");
    sim.events.emit("guest-changed", g.vmid);
  } catch (e) {
    if (!(e instanceof OpError)) killed = true;
    throw e;
  } finally {
    release?.();
    if (killed || (task.status === undefined && sourceLost())) {
      // The worker died: no cleanup ran, the lock stays where the config is.
      if (task.status === undefined) {
        record(false, "task killed");
        sim.finishTask(task, KILLED_TASK_STATUS);
      }
    } else {
      if (g.lock === "migrate") g.lock = undefined;
      if (task.status === undefined) sim.finishTask(task, "migration aborted");
    }
  }
}
