import { hms, isoLocal } from "../commands/time-format.js";
import { isOnline, nodeMemoryFree, reserveMemory } from "../model/cluster.js";
import { localDisks } from "../model/guest-config.js";
import type { GuestState, MigrationRecord } from "../model/state.js";
import type { Sim } from "../world.js";
import { OpError } from "./errors.js";
import { shutdownGuest, startGuest } from "./power.js";

/**
 * Guest migration as qemu-server/pve-container do it: a `qmigrate`/`vzmigrate` task on the source,
 * the guest locked `migrate` while it runs, sim time proportional to memory (live) and local disk
 * size, a task log with timestamps, and the failures a real cluster produces (target offline,
 * target out of memory, injected migration failures).
 */

export interface MigrateOptions {
  target: string;
  online: boolean;
  withLocalDisks: boolean;
  restart: boolean;
  /** `pct migrate --timeout`: the restart-mode shutdown timeout (default 180, never forced). */
  shutdownTimeout?: number;
  via: "cli" | "ha";
  /** Task log lines go here (the CLI prints them). */
  log: (line: string) => void;
  signal?: AbortSignal;
}

const MiB = 1024 ** 2;

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
    log(
      `starting migration of ${g.type === "qemu" ? "VM" : "CT"} ${g.vmid} to node '${opts.target}' (${target.ip})`,
    );
    await sim.sleep(1, opts.signal);
    if (!isOnline(target)) {
      const msg = `migration aborted (duration ${duration()}): Can't connect to destination address using public key`;
      log(`ERROR: ${msg}`);
      record(false, msg);
      sim.finishTask(task, "migration aborted");
      throw new OpError("migration aborted");
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
      const f = fault();
      if (f || !isOnline(target) || !isOnline(sim.state.hosts[source])) {
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
    log("start final cleanup");
    g.node = opts.target;
    release?.();
    release = undefined;
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
  } finally {
    release?.();
    if (g.lock === "migrate") g.lock = undefined;
    if (task.status === undefined) sim.finishTask(task, "migration aborted");
  }
}
