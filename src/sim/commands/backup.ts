import { saveGuest } from "../model/build.js";
import type { BackupArchive, ClusterState, GuestState, HostState } from "../model/state.js";
import { OpError } from "../ops/errors.js";
import { guestKind, setStopped, startGuest } from "../ops/power.js";
import { hms, isoLocal, vzdumpStamp } from "./time-format.js";
import { confPath, localGuest, requireQuorum, type SubCommand } from "./guest-cli.js";
import { PveArgError, boolOpt, parsePveArgs, parseVmid, strOpt } from "./pve-args.js";
import { registerGuestSubcommand } from "./qm-pct.js";
import { onPve, registerCommands } from "./registry.js";
import type { CommandContext } from "./types.js";

/**
 * `vzdump` (log lines on stderr, as PVE::VZDump prints them), `qmrestore`, `pct restore` and
 * `pvesm free`. Archives live on the named storage (on the node itself for non-shared storage) and
 * keep the guest's config and contents, so a restore brings back exactly what was backed up.
 * Notes templates are verified and expanded as PVE::VZDump does; for a container, snapshot mode
 * needs snapshot support only on the volumes it backs up (rootfs and mount points with backup=1).
 * See ../REFERENCE-snapshots-backup.md for the sources.
 */

const MiB = 1024 ** 2;

function storageOf(cluster: ClusterState, name: string): ClusterState["storages"][number] | undefined {
  return cluster.storages.find((s) => s.name === name);
}

/** PVE::VZDump verify_notes_template: the message of its die, or undefined when the template is fine. */
export function notesTemplateProblem(template: string): string | undefined {
  if (template.includes("\n")) return "contains a line feed";
  const problems: string[] = [];
  for (const m of template.matchAll(/\\(.)/g))
    if (!/^[n\\]$/.test(m[1]!)) problems.push(`escape sequence '\\${m[1]}' at char ${m.index}`);
  for (const m of template.matchAll(/\{\{([^\s{}]+)\}\}/g))
    if (!/^(cluster|guestname|node|vmid)$/.test(m[1]!))
      problems.push(`variable '${m[1]}' at char ${m.index + m[0].length - m[1]!.length}`);
  return problems.length > 0 ? `found unknown: ${problems.join(", ")}` : undefined;
}

/** PVE::VZDump generate_notes: escapes, then {{cluster}}, {{guestname}}, {{node}}, {{vmid}}. */
function expandNotes(template: string, vars: Record<string, string>): string {
  return template
    .replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c))
    .replace(/\{\{(cluster|guestname|node|vmid)\}\}/g, (_m, v: string) => vars[v] ?? "");
}

function archiveName(g: GuestState, at: number): string {
  return g.type === "qemu"
    ? `vzdump-qemu-${g.vmid}-${vzdumpStamp(at)}.vma.zst`
    : `vzdump-lxc-${g.vmid}-${vzdumpStamp(at)}.tar.zst`;
}

async function backupOne(
  ctx: CommandContext,
  host: HostState,
  cluster: ClusterState,
  g: GuestState,
  storage: string,
  mode: string,
  notesTemplate: string | undefined,
  log: (l: string) => void,
): Promise<boolean> {
  const sim = ctx.sim;
  const started = sim.now();
  log(`Starting Backup of VM ${g.vmid} (${g.type})`);
  log(`Backup started at ${isoLocal(started)}`);
  log(`status = ${g.status === "running" ? "running" : "stopped"}`);
  if (g.lock) {
    log(`ERROR: Backup of VM ${g.vmid} failed - ${guestKind(g)} is locked (${g.lock})`);
    log(`Failed at ${isoLocal(sim.now())}`);
    return false;
  }
  if (g.type === "lxc") log(`CT Name: ${g.name}`);
  else log(`VM Name: ${g.name}`);
  const wasRunning = g.status === "running";
  let effective = mode;
  // has_feature('snapshot', ..., $backup_only): only the volumes vzdump backs up count.
  const backedUp = g.type === "lxc" ? g.disks.filter((d) => d.key === "rootfs" || d.backup) : g.disks;
  const canSnapshot = backedUp.every((d) => storageOf(cluster, d.storage)?.snapshots);
  if (mode === "snapshot" && g.type === "lxc" && !canSnapshot) {
    log("mode failure - some volumes do not support snapshots");
    log("trying 'suspend' mode instead");
    effective = "suspend";
  }
  log(`backup mode: ${effective}`);
  log("ionice priority: 7");
  g.lock = "backup";
  const task = sim.startTask(host.name, "vzdump", String(g.vmid));
  try {
    if (effective === "stop" && wasRunning) {
      log(`stopping virtual guest`);
      setStopped(sim, g, "vzdump-stop");
    }
    const at = sim.now();
    const name = archiveName(g, at);
    const shared = storageOf(cluster, storage)?.shared ?? false;
    const path = shared ? `/mnt/pve/${storage}/dump/${name}` : `/var/lib/vz/dump/${name}`;
    log(`creating vzdump archive '${path}'`);
    const used = g.disks.reduce((s, d) => s + d.sizeBytes, 0) * 0.3;
    await sim.sleep(Math.max(1, used / MiB / sim.timing.vzdumpMiBps), ctx.signal);
    const archive: BackupArchive = {
      volid: `${storage}:backup/${name}`,
      storage,
      node: shared ? undefined : host.name,
      vmid: g.vmid,
      type: g.type,
      ctime: Math.floor(at / 1000),
      sizeBytes: Math.round(used * 0.45),
      saved: {
        ...saveGuest(g, sim.state),
        status: wasRunning ? "running" : "stopped",
        name: g.name,
        disks: structuredClone(g.disks),
      },
    };
    cluster.backups.push(archive);
    log(
      `Total bytes written: ${Math.round(used)} (${(used / 1024 ** 3).toFixed(1)}GiB, ${sim.timing.vzdumpMiBps.toFixed(0)}MiB/s)`,
    );
    log(`archive file size: ${Math.round(archive.sizeBytes / MiB)}MB`);
    if (notesTemplate !== undefined && notesTemplate !== "") {
      log("adding notes to backup");
      archive.notes = expandNotes(notesTemplate, {
        cluster: cluster.standalone ? "standalone node" : cluster.name,
        guestname: g.type === "lxc" ? g.name : g.name || `VM ${g.vmid}`,
        node: host.name,
        vmid: String(g.vmid),
      });
    }
    if (effective === "stop" && wasRunning) {
      log("restarting virtual guest");
      await startGuest(sim, g, "vzdump-stop", ctx.signal);
    }
    log(`Finished Backup of VM ${g.vmid} (${hms((sim.now() - started) / 1000)})`);
    log(`Backup finished at ${isoLocal(sim.now())}`);
    sim.finishTask(task, "OK");
    return true;
  } finally {
    if (g.lock === "backup") g.lock = undefined;
    if (task.status === undefined) sim.finishTask(task, "interrupted by signal");
  }
}

async function vzdump(ctx: CommandContext): Promise<number> {
  if (ctx.place.kind !== "host") return 127;
  const host = ctx.place.host;
  const usage = "vzdump {<vmid>} [OPTIONS]";
  const cluster = ctx.sim.clusterOf(host)!;
  let parsed;
  try {
    parsed = parsePveArgs(
      ctx.argv.slice(1),
      {
        mode: "string",
        storage: "string",
        compress: "string",
        remove: "bool",
        "notes-template": "string",
        quiet: "bool",
        all: "bool",
        node: "string",
        "prune-backups": "string",
        protected: "bool",
        dumpdir: "string",
        mailto: "string",
        mailnotification: "string",
        exclude: "string",
        bwlimit: "int",
        zstd: "int",
        pool: "string",
      },
      [],
      usage,
      1000,
    );
  } catch (e) {
    if (e instanceof PveArgError) {
      ctx.err(e.message);
      return 255;
    }
    throw e;
  }
  const mode = strOpt(parsed.opts, "mode") ?? "snapshot";
  if (!["snapshot", "suspend", "stop"].includes(mode)) {
    ctx.err(
      `400 Parameter verification failed.\nmode: value '${mode}' does not have a value in the enumeration 'snapshot, suspend, stop'\n${usage}\n`,
    );
    return 255;
  }
  const notesTemplate = strOpt(parsed.opts, "notes-template");
  const notesProblem = notesTemplate === undefined ? undefined : notesTemplateProblem(notesTemplate);
  if (notesProblem !== undefined) {
    ctx.err(`400 Parameter verification failed.\nnotes-template: ${notesProblem}\n${usage}\n`);
    return 255;
  }
  const storage = strOpt(parsed.opts, "storage") ?? "local";
  const st = storageOf(cluster, storage);
  if (!st) {
    ctx.err(`storage '${storage}' does not exist\n`);
    return 255;
  }
  if (!st.content.includes("backup")) {
    ctx.err(`storage '${storage}' does not support backup content\n`);
    return 255;
  }
  const log = (l: string): void => ctx.err(`INFO: ${l}\n`);
  const vmids = parsed.positional.map((v) => parseVmid(v, usage));
  log(`starting new backup job: vzdump ${ctx.argv.slice(1).join(" ")}`);
  let ok = true;
  for (const vmid of vmids) {
    const g = ctx.sim.guest(vmid);
    if (!g || g.node !== host.name) {
      ctx.err(
        `ERROR: Backup of VM ${vmid} failed - unable to find configuration file for VM ${vmid} on node '${host.name}'\n`,
      );
      ok = false;
      continue;
    }
    ok = (await backupOne(ctx, host, cluster, g, storage, mode, notesTemplate, log)) && ok;
  }
  if (ok) {
    log("Backup job finished successfully");
    return 0;
  }
  ctx.err("INFO: Backup job finished with errors\njob errors\n");
  return 255;
}

function findArchive(cluster: ClusterState, host: HostState, volid: string): BackupArchive | undefined {
  return cluster.backups.find(
    (b) =>
      (b.volid === volid || b.volid.endsWith(`/${volid.split("/").pop() ?? ""}`)) &&
      (b.node === undefined || b.node === host.name),
  );
}

async function restore(
  ctx: CommandContext,
  host: HostState,
  type: "qemu" | "lxc",
  vmid: number,
  volid: string,
  force: boolean,
  storage: string | undefined,
  log: (l: string) => void,
): Promise<number> {
  const sim = ctx.sim;
  const cluster = sim.clusterOf(host)!;
  requireQuorum(ctx, host);
  const archive = findArchive(cluster, host, volid);
  const kind = type === "qemu" ? "VM" : "CT";
  if (!archive) throw new OpError(`volume '${volid}' does not exist`);
  const existing = sim.guest(vmid);
  if (existing && type === "qemu") {
    if (existing.node !== host.name)
      throw new OpError(
        `unable to restore ${kind} ${vmid} - ${kind} ${vmid} already exists on node '${existing.node}'`,
      );
    if (!force)
      throw new OpError(
        `unable to restore ${kind} ${vmid} - ${kind} ${vmid} already exists on node '${host.name}'`,
      );
    if (existing.status === "running")
      throw new OpError(`unable to restore ${kind} ${vmid} - ${kind} is running`);
    if (existing.lock) throw new OpError(`${kind} is locked (${existing.lock})`);
  }
  if (existing && type === "lxc") {
    // pve-container create_vm: without --force (or for a CT on another node) check_vmid_unused
    // refuses; with it a running container is refused; create_and_lock_config checks the lock.
    if (existing.node !== host.name || !force)
      throw new OpError(`CT ${vmid} already exists on node '${existing.node}'`);
    if (existing.status === "running") throw new OpError("can't overwrite running container");
    if (existing.lock) throw new OpError(`unable to restore CT ${vmid} - CT is locked (${existing.lock})`);
  }
  if (storage && !cluster.storages.some((s) => s.name === storage))
    throw new OpError(`storage '${storage}' does not exist`);
  const g: GuestState = existing ?? {
    vmid,
    cluster: cluster.name,
    type,
    name: archive.saved.name,
    node: host.name,
    memoryBytes: archive.saved.memoryBytes,
    cores: archive.saved.cores,
    status: "stopped",
    tags: [],
    onboot: false,
    template: false,
    disks: [],
    devices: [],
    snapshots: [],
    health: [],
    macSeed: vmid * 7919,
  };
  sim.state.guests[String(vmid)] = g;
  g.lock = "create";
  // pve-container create_vm forks the extraction as a 'vzrestore' worker after its early checks.
  const task = type === "lxc" ? sim.startTask(host.name, "vzrestore", String(vmid)) : undefined;
  try {
    if (type === "lxc") log(`recovering backed-up configuration from '${archive.volid}'`);
    log(`restoring '${archive.volid}' now..`);
    if (type === "lxc") log(`extracting archive '/var/lib/vz/dump/${archive.volid.split("/").pop() ?? ""}'`);
    await sim.sleep(Math.max(1, archive.sizeBytes / MiB / sim.timing.vzdumpMiBps), ctx.signal);
    g.memoryBytes = archive.saved.memoryBytes;
    g.cores = archive.saved.cores;
    g.tags = [...archive.saved.tags];
    g.onboot = archive.saved.onboot;
    g.name = archive.saved.name;
    g.disks = archive.saved.disks.map((d) => ({
      ...d,
      storage: storage ?? d.storage,
      volume: `${storage ?? d.storage}:${d.volume.split(":")[1] ?? ""}`,
    }));
    if (archive.saved.contents) g.contents = structuredClone(archive.saved.contents);
    const inner = sim.hostOfGuest(g);
    if (inner && archive.saved.hostApt) inner.apt = structuredClone(archive.saved.hostApt);
    g.snapshots = [];
    g.parent = undefined;
    if (type === "lxc") {
      log(
        `Total bytes read: ${archive.sizeBytes} (${(archive.sizeBytes / MiB).toFixed(0)}MiB, ${sim.timing.vzdumpMiBps}MiB/s)`,
      );
      log("merging backed-up and given configuration..");
    } else log(`rescan volumes...`);
    if (task) sim.finishTask(task, "OK");
  } finally {
    if (g.lock === "create") g.lock = undefined;
    if (task && task.status === undefined) sim.finishTask(task, "interrupted by signal");
  }
  sim.events.emit("guest-changed", vmid);
  return 0;
}

const pctRestore: SubCommand = {
  usage: "<vmid> <ostemplate> [OPTIONS]",
  opts: {
    storage: "string",
    force: "bool",
    unique: "bool",
    start: "bool",
    unprivileged: "bool",
    rootfs: "string",
    "ignore-unpack-errors": "bool",
    pool: "string",
  },
  positional: ["vmid", "ostemplate"],
  run: async (ctx, host, pos, opts) => {
    const vmid = parseVmid(pos[0]!, "pct restore <vmid> <ostemplate> [OPTIONS]");
    const code = await restore(
      ctx,
      host,
      "lxc",
      vmid,
      pos[1]!,
      boolOpt(opts, "force"),
      strOpt(opts, "storage"),
      (l) => ctx.out(`${l}\n`),
    );
    if (boolOpt(opts, "start"))
      await startGuest(ctx.sim, localGuest(ctx, host, "lxc", vmid), "restore", ctx.signal);
    return code;
  },
};

async function qmrestore(ctx: CommandContext): Promise<number> {
  if (ctx.place.kind !== "host") return 127;
  const host = ctx.place.host;
  const usage = "qmrestore <archive> <vmid> [OPTIONS]";
  try {
    const p = parsePveArgs(
      ctx.argv.slice(1),
      {
        storage: "string",
        force: "bool",
        unique: "bool",
        start: "bool",
        pool: "string",
        "live-restore": "bool",
        bwlimit: "number",
      },
      ["archive", "vmid"],
      usage,
    );
    const vmid = parseVmid(p.positional[1]!, usage);
    const existing = ctx.sim.guest(vmid);
    if (existing && existing.type !== "qemu")
      throw new OpError(
        `unable to restore VM ${vmid} - ${confPath(existing.node, "qemu", vmid)} does not exist`,
      );
    const code = await restore(
      ctx,
      host,
      "qemu",
      vmid,
      p.positional[0]!,
      boolOpt(p.opts, "force"),
      strOpt(p.opts, "storage"),
      (l) => ctx.out(`${l}\n`),
    );
    if (boolOpt(p.opts, "start"))
      await startGuest(ctx.sim, localGuest(ctx, host, "qemu", vmid), "restore", ctx.signal);
    return code;
  } catch (e) {
    if (e instanceof PveArgError) {
      ctx.err(e.message);
      return 255;
    }
    if (e instanceof OpError) {
      ctx.err(`${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

/**
 * `pvesm free <volid>` for backup archives (pve-storage API2/Storage/Content.pm delete and
 * Plugin.pm free_image): removes the archive with its notes and prints "Removed volume"; a file
 * that is already gone only warns ("disk image ... does not exist") and still succeeds.
 */
function pvesm(ctx: CommandContext): number {
  if (ctx.place.kind !== "host") return 127;
  const host = ctx.place.host;
  const [sub, volid, ...rest] = ctx.argv.slice(1);
  if (sub !== "free") {
    ctx.err(`ERROR: unknown command 'pvesm ${sub ?? ""}'\nUSAGE: pvesm <COMMAND> [ARGS] [OPTIONS]\n`);
    return 255;
  }
  if (volid === undefined || rest.some((r) => !r.startsWith("--"))) {
    ctx.err("400 not enough arguments\npvesm free <volume> [OPTIONS]\n");
    return 255;
  }
  const cluster = ctx.sim.clusterOf(host)!;
  const m = /^([A-Za-z][A-Za-z0-9._-]*):(.+)$/.exec(volid);
  const st = m ? storageOf(cluster, m[1]!) : undefined;
  if (!m || !st) {
    ctx.err(m ? `storage '${m[1]}' does not exist\n` : `unable to parse volume ID '${volid}'\n`);
    return 255;
  }
  const archive = cluster.backups.find(
    (b) => b.volid === volid && (b.node === undefined || b.node === host.name),
  );
  if (archive) cluster.backups = cluster.backups.filter((b) => b !== archive);
  else {
    const file = m[2]!.replace(/^backup\//, "");
    ctx.err(
      `disk image '${st.shared ? `/mnt/pve/${st.name}` : "/var/lib/vz"}/dump/${file}' does not exist\n`,
    );
  }
  ctx.out(`Removed volume '${volid}'\n`);
  return 0;
}

registerGuestSubcommand("pct", "restore", pctRestore);
registerCommands([
  { name: "vzdump", path: "/usr/bin/vzdump", available: onPve, handler: vzdump },
  { name: "qmrestore", path: "/usr/sbin/qmrestore", available: onPve, handler: qmrestore },
  { name: "pvesm", path: "/usr/sbin/pvesm", available: onPve, handler: (ctx) => Promise.resolve(pvesm(ctx)) },
]);
