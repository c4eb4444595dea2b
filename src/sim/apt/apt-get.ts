import type { CommandContext } from "../commands/types.js";
import { kernelMetaPackage, kernelReleaseOf } from "../model/kernels.js";
import type { AptState, PackageRecord } from "../model/state.js";
import { EXIT_HANGUP } from "../shell/types.js";
import { SimStopped } from "../world.js";
import {
  autoremovableKernels,
  debSize,
  pendingUpgrades,
  repoChanges,
  splitKeptBack,
  type PlannedChange,
} from "./plan.js";
import { awaitLock, frontendLockError, listsLockError } from "./lock.js";
import { aptTarget, type AptTarget } from "./target.js";
import { restartAfterUpgrade } from "./restarts.js";

/**
 * apt-get as Debian 12 prints it without a terminal (no "Done" after the progress lines, the
 * summary line, `Inst`/`Conf` lines in simulation). Installs take sim time per package and change
 * the installed versions; a run cut off while dpkg works leaves dpkg interrupted.
 */

const READING = "Reading package lists...\nBuilding dependency tree...\nReading state information...\n";

class AptExit extends Error {
  constructor(readonly code: number) {
    super(`apt exit ${code}`);
  }
}

interface AptOptions {
  yes: boolean;
  simulate: boolean;
  fixBroken: boolean;
  quiet: number;
  purge: boolean;
  /** `-o DPkg::Lock::Timeout=N`: seconds apt waits for the dpkg lock (0, apt-get's default: none). */
  lockTimeout: number;
  /** `-d`/`--download-only`: fill /var/cache/apt/archives, unpack nothing (and take no dpkg lock). */
  downloadOnly: boolean;
}

function setOption(opts: AptOptions, kv: string): void {
  const eq = kv.indexOf("=");
  if (eq < 0) return;
  // apt's configuration keys are case-insensitive.
  if (kv.slice(0, eq).toLowerCase() === "dpkg::lock::timeout")
    opts.lockTimeout = Number(kv.slice(eq + 1)) || 0;
}

function parseOptions(
  ctx: CommandContext,
  args: string[],
): { opts: AptOptions; op: string | undefined; pkgs: string[] } {
  const opts: AptOptions = {
    yes: false,
    simulate: false,
    fixBroken: false,
    quiet: 0,
    purge: false,
    lockTimeout: 0,
    downloadOnly: false,
  };
  let op: string | undefined;
  const pkgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (
      a === "-o" ||
      a === "-c" ||
      a === "-t" ||
      a === "--option" ||
      a === "--target-release" ||
      a === "--default-release"
    ) {
      if (a === "-o" || a === "--option") setOption(opts, args[i + 1] ?? "");
      i++;
      continue;
    }
    if (a.startsWith("--option=")) {
      setOption(opts, a.slice("--option=".length));
      continue;
    }
    if (a.startsWith("-o")) {
      setOption(opts, a.slice(2));
      continue;
    }
    if (
      a.startsWith("-o") ||
      a.startsWith("--option=") ||
      a.startsWith("--target-release=") ||
      a.startsWith("-t")
    )
      continue;
    if (a.startsWith("--")) {
      switch (a) {
        case "--yes":
        case "--assume-yes":
          opts.yes = true;
          break;
        case "--simulate":
        case "--just-print":
        case "--dry-run":
        case "--recon":
        case "--no-act":
          opts.simulate = true;
          break;
        case "--fix-broken":
          opts.fixBroken = true;
          break;
        case "--quiet":
          opts.quiet++;
          break;
        case "--purge":
          opts.purge = true;
          break;
        case "--allow-downgrades":
        case "--allow-remove-essential":
        case "--allow-change-held-packages":
        case "--with-new-pkgs":
        case "--no-install-recommends":
        case "--install-recommends":
        case "--auto-remove":
        case "--autoremove":
        case "--show-upgraded":
        case "--verbose-versions":
        case "--fix-missing":
        case "--ignore-missing":
        case "--only-upgrade":
          // These change nothing in the model (the sim's `install` only ever upgrades installed
          // packages, which is what --only-upgrade asks for).
          break;
        case "--download-only":
          opts.downloadOnly = true;
          break;
        case "--no-download":
        case "--force-yes":
          break;
        default:
          ctx.err(`E: Command line option ${a} is not understood in combination with the other options\n`);
          throw new AptExit(100);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (const c of a.slice(1)) {
        if (c === "y") opts.yes = true;
        else if (c === "s") opts.simulate = true;
        else if (c === "f") opts.fixBroken = true;
        else if (c === "q") opts.quiet++;
        else if (c === "d") opts.downloadOnly = true;
        else if (c === "V" || c === "u" || c === "m") continue;
        else {
          ctx.err(`E: Command line option '${c}' [from ${a}] is not known.\n`);
          throw new AptExit(100);
        }
      }
      continue;
    }
    if (op === undefined) op = a;
    else pkgs.push(a);
  }
  return { opts, op, pkgs };
}

/** Wraps package names the way apt's ShowList does for an 80-column screen. */
export function showList(title: string, names: string[]): string {
  if (names.length === 0) return "";
  let out = `${title}\n`;
  let line = " ";
  for (const n of names) {
    if (line.length + 1 + n.length > 79 && line.trim().length > 0) {
      out += `${line}\n`;
      line = " ";
    }
    line += ` ${n}`;
  }
  return `${out}${line}\n`;
}

/** Takes (or fails to take) the lock as apt does; prints apt's errors when it is held. */
async function lockError(
  ctx: CommandContext,
  t: AptTarget,
  lists: boolean,
  opts: AptOptions,
): Promise<boolean> {
  const holder = await awaitLock(ctx, t, opts.lockTimeout);
  if (!holder) return false;
  ctx.err(lists ? listsLockError(holder) : frontendLockError(holder));
  return true;
}

function dpkgInterrupted(ctx: CommandContext, t: AptTarget): boolean {
  const fault = ctx.sim.faults.find("dpkgInterrupted", (f) => f.host === t.faultHost);
  if (fault) t.apt.dpkgInterrupted = true;
  return t.apt.dpkgInterrupted;
}

function repoFailure(ctx: CommandContext, t: AptTarget): "unreachable" | "unauthorized" | undefined {
  return ctx.sim.faults.find("repoFailure", (f) => f.host === t.faultHost)?.spec.mode;
}

function fmtBytes(n: number): string {
  if (n === 0) return "0 B";
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(n / 1e3))} kB`;
}

function sourceFor(t: AptTarget, rec: PackageRecord): AptTarget["sources"][number] {
  const proxmox = t.sources.find((s) => s.host === "download.proxmox.com");
  if (rec.origin.startsWith("Proxmox") && proxmox) return proxmox;
  if (rec.origin.includes("Security"))
    return t.sources.find((s) => s.suite.endsWith("-security")) ?? t.sources[0]!;
  return t.sources[0]!;
}

async function update(ctx: CommandContext, t: AptTarget, opts: AptOptions): Promise<number> {
  // The lists lock is taken without waiting: DPkg::Lock::Timeout is for the dpkg lock (apt-pkg/acquire.cc).
  if (await lockError(ctx, t, true, { ...opts, lockTimeout: 0 })) return 100;
  const failure = repoFailure(ctx, t);
  const changed = repoChanges(t.apt);
  const lines: string[] = [];
  const warnings: string[] = [];
  let fetched = 0;
  t.sources.forEach((s, i) => {
    const n = i + 1;
    const proxmox = s.host === "download.proxmox.com";
    if (proxmox && failure === "unreachable") {
      lines.push(`Err:${n} ${s.url} ${s.suite} InRelease\n  Temporary failure resolving '${s.host}'`);
      warnings.push(
        `W: Failed to fetch ${s.url}/dists/${s.suite}/InRelease  Temporary failure resolving '${s.host}'`,
      );
      return;
    }
    if (proxmox && failure === "unauthorized") {
      const url = s.url.replace("http://download.proxmox.com", "https://enterprise.proxmox.com");
      lines.push(`Err:${n} ${url} ${s.suite} InRelease\n  401  Unauthorized [IP: 212.224.123.70 443]`);
      warnings.push(
        `E: Failed to fetch ${url}/dists/${s.suite}/InRelease  401  Unauthorized [IP: 212.224.123.70 443]\nE: The repository '${url} ${s.suite} InRelease' is not signed.\nN: Updating from such a repository can't be done securely, and is therefore disabled by default.\nN: See apt-secure(8) manpage for repository creation and user configuration details.`,
      );
      return;
    }
    const mine = changed.filter((name) => sourceFor(t, t.apt.repo[name]!) === s);
    if (mine.length > 0) {
      lines.push(`Get:${n} ${s.url} ${s.suite} InRelease [2,771 B]`);
      lines.push(
        `Get:${n + t.sources.length} ${s.url} ${s.suite}/${s.component} amd64 Packages [${Math.max(1, mine.length * 3)} kB]`,
      );
      fetched += 2771 + mine.length * 3000;
    } else lines.push(`Hit:${n} ${s.url} ${s.suite} InRelease`);
  });
  t.apt.lockHolder = { pid: ctx.pid, name: "apt-get" };
  try {
    await ctx.sim.sleep(ctx.sim.timing.aptUpdateSeconds, ctx.signal);
  } finally {
    t.apt.lockHolder = undefined;
  }
  ctx.out(`${lines.join("\n")}\n`);
  if (fetched > 0)
    ctx.out(
      `Fetched ${fmtBytes(fetched)} in ${Math.max(1, Math.round(ctx.sim.timing.aptUpdateSeconds))}s (${fmtBytes(fetched / Math.max(1, ctx.sim.timing.aptUpdateSeconds))}/s)\n`,
    );
  ctx.out("Reading package lists...\n");
  if (failure === undefined) {
    for (const [name, rec] of Object.entries(t.apt.repo)) t.apt.lists[name] = { ...rec };
  } else {
    // Only the failing repository keeps its old lists.
    for (const [name, rec] of Object.entries(t.apt.repo))
      if (!rec.origin.startsWith("Proxmox")) t.apt.lists[name] = { ...rec };
  }
  t.apt.lastUpdate = ctx.sim.now();
  if (warnings.length > 0) ctx.err(`${warnings.join("\n")}\n`);
  if (failure === "unreachable")
    ctx.err("W: Some index files failed to download. They have been ignored, or old ones used instead.\n");
  return failure === "unauthorized" ? 100 : 0;
}

/**
 * `upgrade` also keeps back what would need new packages (new kernels and their meta packages);
 * every mode keeps back held packages and those whose dependencies cannot be satisfied.
 */
function plan(apt: AptState, op: string, pkgs: string[]): { changes: PlannedChange[]; keptBack: string[] } {
  const { changes: all, keptBack: kept } = splitKeptBack(apt, pendingUpgrades(apt));
  if (op === "install") {
    const wanted = all.filter((c) => pkgs.includes(c.name));
    return { changes: wanted, keptBack: [] };
  }
  if (op === "upgrade") {
    const newKernels = all.filter((c) => c.from === undefined).map((c) => kernelReleaseOf(c.name)!);
    const metas = new Set(newKernels.map(kernelMetaPackage));
    const keptBack = all.filter((c) => c.from !== undefined && metas.has(c.name)).map((c) => c.name);
    return {
      changes: all.filter((c) => c.from !== undefined && !metas.has(c.name)),
      keptBack: [...keptBack, ...kept].sort(),
    };
  }
  return { changes: all, keptBack: kept };
}

function header(changes: PlannedChange[], keptBack: string[], removals: string[] = []): string {
  const newPkgs = changes.filter((c) => c.from === undefined).map((c) => c.name);
  const upgrades = changes
    .filter((c) => c.from !== undefined)
    .map((c) => c.name)
    .sort();
  let out = "";
  out += showList("The following packages were automatically installed and are no longer required:", []);
  out += showList("The following packages will be REMOVED:", removals);
  out += showList("The following NEW packages will be installed:", newPkgs);
  out += showList("The following packages have been kept back:", keptBack);
  out += showList("The following packages will be upgraded:", upgrades);
  out += `${upgrades.length} upgraded, ${newPkgs.length} newly installed, ${removals.length} to remove and ${keptBack.length} not upgraded.\n`;
  return out;
}

function recStr(rec: PackageRecord): string {
  return `${rec.version} ${rec.origin} [${rec.arch}]`;
}

async function upgradeLike(
  ctx: CommandContext,
  t: AptTarget,
  op: string,
  opts: AptOptions,
  pkgs: string[],
): Promise<number> {
  if (op === "install") {
    for (const p of pkgs) {
      if (!t.apt.lists[p] && !t.apt.installed[p]) {
        ctx.out(READING);
        ctx.err(`E: Unable to locate package ${p}\n`);
        return 100;
      }
    }
  }
  // Root's simulation takes the lock too (only a non-root one runs without it), and taking the lock
  // checks dpkg's journal (debSystem::Lock): an interrupted dpkg makes the simulation refuse as well.
  // apt's CacheFile::OpenForInstall takes no dpkg lock for --download-only.
  if (!opts.downloadOnly) {
    if (await lockError(ctx, t, false, opts)) return 100;
    if (dpkgInterrupted(ctx, t)) {
      ctx.err(
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
      );
      return 100;
    }
  }
  const { changes, keptBack } = plan(t.apt, op, pkgs);
  ctx.out(READING);
  if (op !== "install") ctx.out("Calculating upgrade...\n");
  if (op === "install" && pkgs.length > 0) {
    for (const p of pkgs)
      if (!changes.find((c) => c.name === p) && t.apt.installed[p])
        ctx.out(`${p} is already the newest version (${t.apt.installed[p].version}).\n`);
  }
  ctx.out(header(changes, keptBack));
  if (opts.simulate) {
    for (const c of changes) ctx.out(`Inst ${c.name}${c.from ? ` [${c.from}]` : ""} (${recStr(c.to)})\n`);
    for (const c of changes) ctx.out(`Conf ${c.name} (${recStr(c.to)})\n`);
    return 0;
  }
  if (changes.length === 0) return 0;
  const download = changes.reduce((s, c) => s + debSize(c.name), 0);
  const toFetch = changes.filter((c) => !isCached(t, c)).reduce((s, c) => s + debSize(c.name), 0);
  ctx.out(
    toFetch === download
      ? `Need to get ${fmtBytes(download)} of archives.\n`
      : `Need to get ${fmtBytes(toFetch)}/${fmtBytes(download)} of archives.\n`,
  );
  ctx.out(`After this operation, ${fmtBytes(download * 4)} of additional disk space will be used.\n`);
  if (t.diskFull) {
    ctx.err("E: You don't have enough free space in /var/cache/apt/archives/.\n");
    return 100;
  }
  if (!opts.yes) {
    ctx.out("Do you want to continue? [Y/n] Abort.\n");
    return 1;
  }
  if (opts.downloadOnly) return downloadOnly(ctx, t, changes);
  return install(ctx, t, changes);
}

function archiveName(c: PlannedChange): string {
  return `${c.name}_${c.to.version}_${c.to.arch}.deb`;
}

function isCached(t: AptTarget, c: PlannedChange): boolean {
  return t.apt.cachedArchives.includes(archiveName(c));
}

/**
 * Fetches the archives not yet in /var/cache/apt/archives (a cached one is neither printed nor
 * fetched again). Returns apt's exit code on a failed fetch, undefined when all are there.
 */
async function fetchArchives(
  ctx: CommandContext,
  t: AptTarget,
  changes: PlannedChange[],
): Promise<number | undefined> {
  const per = ctx.sim.timing.aptPackageSeconds;
  const failure = repoFailure(ctx, t);
  const missing = changes.filter((c) => !isCached(t, c));
  let n = 0;
  for (const c of missing) {
    n++;
    const s = sourceFor(t, c.to);
    if (failure && s.host === "download.proxmox.com") {
      ctx.out(
        `Err:${n} ${s.url} ${s.suite}/${s.component} amd64 ${c.name} ${c.to.arch} ${c.to.version}\n  Temporary failure resolving '${s.host}'\n`,
      );
      ctx.err(
        `E: Failed to fetch ${s.url}/pool/${s.component}/${c.name[0]}/${c.name}/${c.name}_${c.to.version}_${c.to.arch}.deb  Temporary failure resolving '${s.host}'\nE: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n`,
      );
      return 100;
    }
    ctx.out(
      `Get:${n} ${s.url} ${s.suite}/${s.component} amd64 ${c.name} ${c.to.arch} ${c.to.version} [${fmtBytes(debSize(c.name))}]\n`,
    );
    await ctx.sim.sleep(per * 0.2, ctx.signal);
    t.apt.cachedArchives.push(archiveName(c));
  }
  // apt prints "Fetched" only when it fetched something.
  if (missing.length === 0) return undefined;
  const total = missing.reduce((s, c) => s + debSize(c.name), 0);
  ctx.out(
    `Fetched ${fmtBytes(total)} in ${Math.max(1, Math.round(per * 0.2 * missing.length))}s (${fmtBytes(total / Math.max(1, per * 0.2 * missing.length))}/s)\n`,
  );
  return undefined;
}

async function downloadOnly(ctx: CommandContext, t: AptTarget, changes: PlannedChange[]): Promise<number> {
  try {
    const failed = await fetchArchives(ctx, t, changes);
    if (failed !== undefined) return failed;
  } catch (e) {
    if (e instanceof SimStopped) throw e;
    return EXIT_HANGUP;
  }
  ctx.out("Download complete and in download only mode\n");
  return 0;
}

async function install(ctx: CommandContext, t: AptTarget, changes: PlannedChange[]): Promise<number> {
  const { sim } = ctx;
  const per = sim.timing.aptPackageSeconds;
  t.apt.lockHolder = { pid: ctx.pid, name: "apt-get" };
  let dpkgStarted = false;
  try {
    const failed = await fetchArchives(ctx, t, changes);
    if (failed !== undefined) return failed;
    dpkgStarted = true;
    ctx.out("(Reading database ... 78432 files and directories currently installed.)\n");
    for (const c of changes) {
      const file = `.../${c.name}_${c.to.version.replace(/^\d+:/, "")}_${c.to.arch}.deb`;
      if (!c.from) ctx.out(`Selecting previously unselected package ${c.name}.\n`);
      ctx.out(`Preparing to unpack ${file} ...\n`);
      t.apt.unpacked[c.name] = { ...c.to };
      ctx.out(
        c.from
          ? `Unpacking ${c.name} (${c.to.version}) over (${c.from}) ...\n`
          : `Unpacking ${c.name} (${c.to.version}) ...\n`,
      );
      await sim.sleep(per * 0.4, ctx.signal);
    }
    for (const c of changes) {
      ctx.out(`Setting up ${c.name} (${c.to.version}) ...\n`);
      await sim.sleep(per * 0.4, ctx.signal);
      configure(ctx, t, c.name);
      if (c.from) await restartAfterUpgrade(ctx, t, c.name);
    }
    ctx.out("Processing triggers for man-db (2.11.2-2) ...\n");
    if (changes.some((c) => c.name === "pve-manager"))
      ctx.out(`Processing triggers for pve-manager (${t.apt.installed["pve-manager"]?.version ?? ""}) ...\n`);
    if (changes.some((c) => c.name === "libc6" || c.name.startsWith("lib")))
      ctx.out("Processing triggers for libc-bin (2.36-9+deb12u10) ...\n");
    return 0;
  } catch (e) {
    // Killed (SIGHUP from a dropped SSH session, a stopped unit, a host going down) while dpkg ran.
    if (dpkgStarted) t.apt.dpkgInterrupted = true;
    if (e instanceof SimStopped) throw e;
    return EXIT_HANGUP;
  } finally {
    t.apt.lockHolder = undefined;
  }
}

/** dpkg configures an unpacked package: it becomes installed; new kernels run their hooks. */
export function configure(ctx: CommandContext, t: AptTarget, name: string): void {
  const rec = t.apt.unpacked[name];
  if (!rec) return;
  t.apt.installed[name] = rec;
  delete t.apt.unpacked[name];
  const rel = kernelReleaseOf(name);
  if (rel && name.startsWith("proxmox-kernel-") && t.host) {
    ctx.out(
      `Examining /etc/kernel/postinst.d.\nrun-parts: executing /etc/kernel/postinst.d/dkms ${rel} /boot/vmlinuz-${rel}\nrun-parts: executing /etc/kernel/postinst.d/initramfs-tools ${rel} /boot/vmlinuz-${rel}\nupdate-initramfs: Generating /boot/initrd.img-${rel}\nrun-parts: executing /etc/kernel/postinst.d/proxmox-auto-removal ${rel} /boot/vmlinuz-${rel}\nrun-parts: executing /etc/kernel/postinst.d/zz-proxmox-boot ${rel} /boot/vmlinuz-${rel}\nRe-executing '/etc/kernel/postinst.d/zz-proxmox-boot' in new private mount namespace..\nNo /etc/kernel/proxmox-boot-uuids found, skipping ESP sync.\nrun-parts: executing /etc/kernel/postinst.d/zz-update-grub ${rel} /boot/vmlinuz-${rel}\n`,
    );
    if (t.host.writesRebootRequired) {
      t.files["/run/reboot-required"] = "*** System restart required ***\n";
      t.files["/run/reboot-required.pkgs"] = `${t.files["/run/reboot-required.pkgs"] ?? ""}${name}\n`;
    }
  }
}

async function autoremove(ctx: CommandContext, t: AptTarget, opts: AptOptions): Promise<number> {
  if (await lockError(ctx, t, false, opts)) return 100;
  if (!opts.simulate) {
    if (dpkgInterrupted(ctx, t)) {
      ctx.err(
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
      );
      return 100;
    }
  }
  const removals = t.host ? autoremovableKernels(t.apt, t.host.kernelRunning, t.host.kernelPinned) : [];
  ctx.out(READING);
  const pending = pendingUpgrades(t.apt).length;
  ctx.out(showList("The following packages will be REMOVED:", removals));
  ctx.out(`0 upgraded, 0 newly installed, ${removals.length} to remove and ${pending} not upgraded.\n`);
  if (removals.length === 0) return 0;
  if (opts.simulate) {
    for (const r of removals) ctx.out(`Remv ${r} [${t.apt.installed[r]!.version}]\n`);
    return 0;
  }
  ctx.out(`After this operation, ${fmtBytes(removals.length * 563e6)} disk space will be freed.\n`);
  if (!opts.yes) {
    ctx.out("Do you want to continue? [Y/n] Abort.\n");
    return 1;
  }
  t.apt.lockHolder = { pid: ctx.pid, name: "apt-get" };
  try {
    ctx.out("(Reading database ... 78432 files and directories currently installed.)\n");
    for (const r of removals) {
      ctx.out(`Removing ${r} (${t.apt.installed[r]!.version}) ...\n`);
      await ctx.sim.sleep(ctx.sim.timing.aptPackageSeconds * 0.5, ctx.signal);
      delete t.apt.installed[r];
      const rel = kernelReleaseOf(r);
      if (rel)
        ctx.out(
          `Examining /etc/kernel/postrm.d.\nrun-parts: executing /etc/kernel/postrm.d/initramfs-tools ${rel} /boot/vmlinuz-${rel}\nupdate-initramfs: Deleting /boot/initrd.img-${rel}\n`,
        );
    }
    return 0;
  } finally {
    t.apt.lockHolder = undefined;
  }
}

async function fixBroken(ctx: CommandContext, t: AptTarget, opts: AptOptions): Promise<number> {
  if (await lockError(ctx, t, false, opts)) return 100;
  if (!opts.simulate) {
    if (dpkgInterrupted(ctx, t)) {
      ctx.err(
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
      );
      return 100;
    }
  }
  ctx.out(READING);
  ctx.out(`0 upgraded, 0 newly installed, 0 to remove and ${pendingUpgrades(t.apt).length} not upgraded.\n`);
  return 0;
}

/**
 * What apt itself prints on stdout goes through its progress meter and `c1out`, both silenced at
 * quiet level 2 (`-qq`): the progress lines, the package lists and the summary, Hit/Get/Err lines,
 * "Need to get", "Do you want to continue?". What is left: the `Inst`/`Conf`/`Remv` lines of a
 * simulation (written to cout directly), dpkg's own output, and every error on stderr. Without a
 * terminal apt already runs at quiet level 1 (apt-private/private-output.cc), which is what the
 * default output here is, so `-q` changes nothing over SSH.
 */
const APT_OWN_LINE =
  /^(Reading package lists\.\.\.|Building dependency tree\.\.\.|Reading state information\.\.\.|Calculating upgrade\.\.\.|The following | {2}\S|\d+ upgraded, |Need to get |After this operation|(Hit|Get|Ign|Err):\d|Fetched |.* is already the newest version|Do you want to continue|Download complete and in download only mode)/;

function veryQuiet(ctx: CommandContext): CommandContext {
  const quiet = Object.create(ctx) as CommandContext;
  let partial = "";
  Object.defineProperty(quiet, "out", {
    value: (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      const kept = lines.filter((l) => !APT_OWN_LINE.test(l));
      if (kept.length > 0) ctx.out(`${kept.join("\n")}\n`);
    },
  });
  return quiet;
}

export async function aptGet(ctx: CommandContext): Promise<number> {
  const t = aptTarget(ctx.sim, ctx.place);
  if (!t) {
    ctx.err(`sh: ${ctx.line}: ${ctx.argv[0]}: not found\n`);
    return 127;
  }
  try {
    const parsed = parseOptions(ctx, ctx.argv.slice(1));
    const { opts, op, pkgs } = parsed;
    if (opts.quiet >= 2) {
      // apt-get(8): "Quiet level 2 implies -y".
      opts.yes = true;
      ctx = veryQuiet(ctx);
    }
    switch (op) {
      case undefined:
        ctx.out("apt 2.6.1 (amd64)\nUsage: apt-get [options] command\n");
        return 1;
      case "update":
        return await update(ctx, t, opts);
      case "upgrade":
      case "dist-upgrade":
      case "full-upgrade":
        return await upgradeLike(ctx, t, op === "full-upgrade" ? "dist-upgrade" : op, opts, []);
      case "install":
        if (pkgs.length === 0) return await fixBroken(ctx, t, opts);
        return await upgradeLike(ctx, t, "install", opts, pkgs);
      case "autoremove":
        return await autoremove(ctx, t, opts);
      case "autoclean":
      case "clean":
        if (await lockError(ctx, t, false, opts)) return 100;
        ctx.out(READING);
        t.apt.cachedArchives =
          op === "clean"
            ? []
            : t.apt.cachedArchives.filter((a) =>
                Object.entries(t.apt.installed).some(([n, r]) => a === `${n}_${r.version}_${r.arch}.deb`),
              );
        return 0;
      case "check":
        ctx.out(READING);
        return 0;
      default:
        ctx.err(`E: Invalid operation ${op}\n`);
        return 100;
    }
  } catch (e) {
    if (e instanceof AptExit) return e.code;
    throw e;
  }
}

/** `apt list --upgradable` (and `apt` otherwise behaving like apt-get, with its CLI warning). */
export async function apt(ctx: CommandContext): Promise<number> {
  const t = aptTarget(ctx.sim, ctx.place);
  if (!t) {
    ctx.err(`sh: ${ctx.line}: apt: not found\n`);
    return 127;
  }
  ctx.err("\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n");
  const args = ctx.argv.slice(1);
  if (args[0] === "list") {
    ctx.out("Listing...\n");
    if (args.includes("--upgradable")) {
      for (const c of pendingUpgrades(t.apt).filter((x) => x.from !== undefined)) {
        const suite = c.to.origin.split("/")[1] ?? "stable";
        ctx.out(`${c.name}/${suite} ${c.to.version} ${c.to.arch} [upgradable from: ${c.from}]\n`);
      }
    } else if (args.includes("--installed")) {
      for (const [n, r] of Object.entries(t.apt.installed).sort())
        ctx.out(`${n}/now ${r.version} ${r.arch} [installed]\n`);
    }
    return 0;
  }
  // `apt` (not apt-get) waits 120 s for the dpkg lock without a terminal, forever with one
  // (apt-private/private-cmndline.cc, Version::2.0::Dpkg::Lock::Timeout); SSH exec has no terminal.
  // A later -o on the command line overrides it.
  const withWait = Object.create(ctx) as CommandContext;
  Object.defineProperty(withWait, "argv", {
    value: [ctx.argv[0]!, "-o", "DPkg::Lock::Timeout=120", ...args],
  });
  return aptGet(withWait);
}
