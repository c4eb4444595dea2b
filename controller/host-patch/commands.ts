/**
 * Every remote command the host patch flow issues, built in one place: the applier runs them and
 * `refit plan` prints them, so the dry run shows exactly what the run will do.
 */
import { createHash } from "node:crypto";
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlanSpec } from "../../src/api/host-patch-plan.js";
import { parseDuration } from "../../src/api/primitives.js";
import {
  cdromArgv,
  APT_UPDATE_ARGV,
  UPGRADE_LOCK_TIMEOUT_SECONDS,
  aptMarkArgv,
  dpkgConfigureArgv,
  guestPowerArgv,
  haMigrateArgv,
  nodeMaintenanceArgv,
  pctMigrateArgv,
  qmMigrateArgv,
  nooutArgv,
} from "../../src/pve/index.js";
import { quoteArgv } from "../../src/ssh/index.js";
import { startJobArgv } from "../../src/ssh/jobs.js";
import type { Status } from "./transition.js";

type GuestType = "qemu" | "lxc";

/** A command on one host: run directly with a timeout, or as a transient systemd unit (a job). */
export interface RemoteCommand {
  on: string;
  argv: string[];
  timeoutMs: number;
  /** Long work runs as a job that survives the controller and the SSH connection. */
  job?: { id: string };
  /** The command takes the connection down with it (a reboot): no answer is expected. */
  dropsConnection?: boolean;
}

/** A job id unique to this patch, cycle and step: `hp-<hash>-<step>`, valid for systemd-run. */
export function jobId(hp: Pick<HostPatch, "spec">, step: string): string {
  const hash = createHash("sha256")
    .update(`${hp.spec.planRef.name}/${hp.spec.host}/${hp.spec.cycle}`)
    .digest("hex")
    .slice(0, 12);
  return `hp-${hash}-${step}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 64);
}

/** A retried migration (attempt 2, 3, …) gets its own job: a job id never runs twice. */
export function migrationJobId(
  hp: Pick<HostPatch, "spec">,
  vmid: number,
  back: boolean,
  attempt?: number,
): string {
  return jobId(
    hp,
    `${back ? "back" : "mig"}-${vmid}${attempt !== undefined && attempt > 1 ? `-a${attempt}` : ""}`,
  );
}

export function shutdownJobId(hp: Pick<HostPatch, "spec">, vmid: number, attempt?: number): string {
  return jobId(hp, `stop-${vmid}${attempt !== undefined && attempt > 1 ? `-a${attempt}` : ""}`);
}

/** What the upgrade job does before apt-get: both recorded in status before the job starts. */
export interface UpgradePrep {
  /** `dpkg --configure -a` first: `dpkg --audit` named half-done packages (apt refuses to run otherwise). */
  repairDpkg: boolean;
  /** `apt-mark hold` these for the run (spec.upgrade.holdPackages that would otherwise be upgraded). */
  hold: readonly string[];
  /**
   * This cycle's prefetch refreshed the index and downloaded the upgrade a short while ago: the
   * upgrade installs what it downloaded, without a second `apt-get update`.
   */
  indexFresh?: boolean;
}

const NO_PREP: UpgradePrep = { repairDpkg: false, hold: [] };

/** How old a finished prefetch may be for the upgrade to skip its own index refresh. */
export const PREFETCH_FRESH_MS = 30 * 60_000;

/** Whether this cycle's prefetch finished recently enough for the upgrade to install what it fetched. */
export function prefetchFresh(status: Pick<Status, "prefetch">, now: number): boolean {
  const p = status.prefetch;
  return p?.state === "Done" && now - Date.parse(p.finishedAt ?? "") <= PREFETCH_FRESH_MS;
}

/** The prep a recorded upgrade step is started with. */
export function prepOf(
  status: Pick<Status, "dpkgRepair" | "heldPackages" | "prefetch">,
  now: number,
): UpgradePrep {
  return {
    repairDpkg: status.dpkgRepair?.via === "upgrade-job",
    hold: status.heldPackages ?? [],
    ...(prefetchFresh(status, now) ? { indexFresh: true } : {}),
  };
}

/**
 * One shell line of fixed, quoted steps joined with &&: nothing from desired state is pasted in raw.
 * The job runs under `sh -c`, so the environment is set with a constant assignment prefix. apt waits
 * for the dpkg lock (an unattended-upgrades run) up to a bound instead of failing at once.
 */
const noninteractive = (argv: string[]): string => `DEBIAN_FRONTEND=noninteractive ${quoteArgv(argv)}`;

export function upgradeJobArgv(spec: HostPatchPlanSpec, prep: UpgradePrep = NO_PREP): string[] {
  const u = spec.upgrade;
  const keep = u.dpkgOptions.flatMap((o) => ["-o", `Dpkg::Options::=${o}`]);
  const lock = ["-o", `DPkg::Lock::Timeout=${UPGRADE_LOCK_TIMEOUT_SECONDS}`];
  const steps: string[] = [];
  if (prep.repairDpkg) steps.push(noninteractive(["dpkg", "--configure", "-a"]));
  if (prep.hold.length > 0) steps.push(quoteArgv(aptMarkArgv("hold", prep.hold)));
  if (u.refreshIndex && !prep.indexFresh) steps.push(quoteArgv([...APT_UPDATE_ARGV]));
  steps.push(noninteractive(["apt-get", "-y", ...lock, ...keep, u.mode]));
  if (u.autoremove) steps.push(noninteractive(["apt-get", "-y", ...lock, "autoremove"]));
  if (u.autoclean) steps.push(quoteArgv(["apt-get", ...lock, "autoclean"]));
  return ["sh", "-c", steps.join(" && ")];
}

/**
 * The download ahead of a node's turn: the same index refresh and upgrade mode as the upgrade job,
 * with `--download-only`, which fills /var/cache/apt/archives and takes no dpkg lock (so it never
 * holds up another apt on the node); the turn's upgrade then installs from the cache.
 */
export function prefetchJobArgv(spec: HostPatchPlanSpec): string[] {
  const u = spec.upgrade;
  const steps: string[] = [];
  if (u.refreshIndex) steps.push(quoteArgv([...APT_UPDATE_ARGV]));
  steps.push(noninteractive(["apt-get", "-y", "--download-only", u.mode]));
  return ["sh", "-c", steps.join(" && ")];
}

export function prefetchCommand(hp: Pick<HostPatch, "spec">, spec: HostPatchPlanSpec): RemoteCommand {
  return {
    on: hp.spec.host,
    argv: prefetchJobArgv(spec),
    timeoutMs: parseDuration(spec.upgrade.timeout),
    job: { id: jobId(hp, "prefetch") },
  };
}

export const REBOOT_ARGV = ["systemctl", "reboot"];
const SHORT_MS = 60_000;

export function upgradeCommand(
  hp: Pick<HostPatch, "spec">,
  spec: HostPatchPlanSpec,
  prep: UpgradePrep = NO_PREP,
): RemoteCommand {
  return {
    on: hp.spec.host,
    argv: upgradeJobArgv(spec, prep),
    timeoutMs: parseDuration(spec.upgrade.timeout),
    job: { id: jobId(hp, "upgrade") },
  };
}

export interface MigrationLike {
  vmid: number;
  type: GuestType;
  from: string;
  to: string;
  mode: "online" | "restart" | "ha" | "offline";
  withLocalDisks?: boolean;
  attempt?: number;
}

/** The one migrate command: HA guests through ha-manager, VMs live, containers restart-migrated. */
export function migrationCommand(
  hp: Pick<HostPatch, "spec">,
  spec: HostPatchPlanSpec,
  m: MigrationLike,
  back: boolean,
): RemoteCommand {
  if (m.mode === "ha") return { on: m.from, argv: haMigrateArgv(m.type, m.vmid, m.to), timeoutMs: SHORT_MS };
  const ev = spec.evacuation;
  const argv =
    m.type === "qemu"
      ? qmMigrateArgv(m.vmid, m.to, {
          online: m.mode === "online",
          withLocalDisks: m.withLocalDisks === true,
        })
      : pctMigrateArgv(m.vmid, m.to, {
          restart: true,
          timeoutSec: Math.ceil(parseDuration(ev.containerShutdownTimeout) / 1000),
        });
  return {
    on: m.from,
    argv,
    timeoutMs: parseDuration(ev.timeout),
    job: { id: migrationJobId(hp, m.vmid, back, m.attempt) },
  };
}

/** Eject (`volume` undefined) or re-insert a VM's CD image: `qm set <vmid> --ide2 <vol|none>,media=cdrom`. */
export function cdromCommand(on: string, vmid: number, drive: string, volume?: string): RemoteCommand {
  return { on, argv: cdromArgv(vmid, drive, volume), timeoutMs: SHORT_MS };
}

/** `qm|pct shutdown <id> --timeout N --forceStop 1`, as a job: it can take the whole timeout. */
export function shutdownCommand(
  hp: Pick<HostPatch, "spec">,
  spec: HostPatchPlanSpec,
  g: { vmid: number; type: GuestType; attempt?: number },
): RemoteCommand {
  const timeoutSec = Math.ceil(parseDuration(spec.evacuation.shutdownTimeout) / 1000);
  return {
    on: hp.spec.host,
    argv: guestPowerArgv(g.type, "shutdown", g.vmid, { timeoutSec, forceStop: true }),
    // The job's own bound: the shutdown timeout, the forced stop after it, and a margin.
    timeoutMs: (timeoutSec + 120) * 1000,
    job: { id: shutdownJobId(hp, g.vmid, g.attempt) },
  };
}

export function startGuestCommand(host: string, g: { vmid: number; type: GuestType }): RemoteCommand {
  return { on: host, argv: guestPowerArgv(g.type, "start", g.vmid), timeoutMs: 5 * SHORT_MS };
}

/** `dpkg --configure -a` as a job: it finishes what a cut-off run left, which can take minutes. */
export function dpkgRepairCommand(hp: Pick<HostPatch, "spec">, spec: HostPatchPlanSpec): RemoteCommand {
  return {
    on: hp.spec.host,
    argv: dpkgConfigureArgv(),
    timeoutMs: parseDuration(spec.upgrade.timeout),
    job: { id: jobId(hp, "dpkg-repair") },
  };
}

/** Releases holds Refit put on for the run; short, and repeated until `apt-mark showhold` proves it. */
export function unholdCommand(host: string, packages: readonly string[]): RemoteCommand {
  return { on: host, argv: aptMarkArgv("unhold", packages), timeoutMs: SHORT_MS };
}

export function maintenanceCommand(host: string, enable: boolean): RemoteCommand {
  return { on: host, argv: nodeMaintenanceArgv(host, enable), timeoutMs: SHORT_MS };
}

/** `ceph osd set-group|unset-group noout <node>`: quick, but it waits for a monitor up to its timeout. */
export function nooutCommand(host: string, set: boolean): RemoteCommand {
  return { on: host, argv: nooutArgv(host, set), timeoutMs: SHORT_MS };
}

export function rebootCommand(host: string): RemoteCommand {
  return { on: host, argv: REBOOT_ARGV, timeoutMs: 20_000, dropsConnection: true };
}

/** The exact command line the host receives (the job wrapper included). */
export function commandLine(c: RemoteCommand): string {
  return quoteArgv(c.job ? startJobArgv(c.job.id, c.argv, Math.ceil(c.timeoutMs / 1000)) : c.argv);
}
