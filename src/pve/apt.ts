import { compareDebianVersions } from "./debian-version.js";
import { unparseable, type ParseContext } from "./errors.js";

/**
 * How long the observation's `apt-get -s` waits for the dpkg lock: root's simulation takes it
 * (apt-private/private-main.cc CheckSimulateMode), and apt retries once a second for this long
 * before it reports the holder. Short: a node busy for longer is reported and looked at again later.
 */
export const SIMULATE_LOCK_TIMEOUT_SECONDS = 10;

/**
 * `LC_ALL=C` keeps apt's summary line in English (a bare leading NAME=value word is an environment
 * assignment for the remote shell; contract 2). `dist-upgrade`, not `upgrade`: plain upgrade holds
 * back new kernel packages. The lock timeout is the observation's bounded retry of a busy lock.
 */
export const APT_SIMULATE_ARGV = [
  "LC_ALL=C",
  "apt-get",
  "-o",
  `DPkg::Lock::Timeout=${SIMULATE_LOCK_TIMEOUT_SECONDS}`,
  "-s",
  "dist-upgrade",
] as const;
export const APT_UPDATE_ARGV = ["apt-get", "update"] as const;
/** Packages on hold (the dpkg `hold` selection), one per line (apt cmdline/apt-mark.cc ShowSelection). */
export const APT_MARK_SHOWHOLD_ARGV = ["apt-mark", "showhold"] as const;
/** Half-installed, unpacked, half-configured packages; exits 0 and prints nothing when healthy. */
export const DPKG_AUDIT_ARGV = ["LC_ALL=C", "dpkg", "--audit"] as const;

/**
 * How long the upgrade's apt waits for the dpkg lock (`-o DPkg::Lock::Timeout=`; apt retries once a
 * second): an unattended-upgrades run that just started usually ends within minutes.
 */
export const UPGRADE_LOCK_TIMEOUT_SECONDS = 600;

export function aptMarkArgv(op: "hold" | "unhold", packages: readonly string[]): string[] {
  return ["apt-mark", op, ...packages];
}

/**
 * Argv for long package work, meant to run as a remote job (contract 4) so an SSH drop never
 * interrupts dpkg. `env` sets the environment because a systemd unit runs argv without a shell;
 * keeping existing config files (confdef/confold) means an upgrade never stops at a prompt.
 */
const NONINTERACTIVE = ["env", "DEBIAN_FRONTEND=noninteractive"] as const;
const KEEP_CONFIG = [
  "-o",
  "Dpkg::Options::=--force-confdef",
  "-o",
  "Dpkg::Options::=--force-confold",
] as const;

export function aptDistUpgradeArgv(): string[] {
  return [...NONINTERACTIVE, "apt-get", "-y", ...KEEP_CONFIG, "dist-upgrade"];
}

/** Finishes an interrupted dpkg run (package-manager health before an upgrade). */
export function dpkgConfigureArgv(): string[] {
  return [...NONINTERACTIVE, "dpkg", "--configure", "-a"];
}

/** Repairs broken dependencies left by an interrupted upgrade. */
export function aptFixBrokenArgv(): string[] {
  return [...NONINTERACTIVE, "apt-get", "-y", ...KEEP_CONFIG, "--fix-broken", "install"];
}

export type AptChangeKind = "upgrade" | "install" | "downgrade" | "reinstall";

export interface AptPackageChange {
  readonly kind: AptChangeKind;
  /** As apt prints it (may carry an `:arch` qualifier for foreign architectures). */
  readonly package: string;
  /** Installed version; undefined for a new package. */
  readonly oldVersion: string | undefined;
  readonly newVersion: string;
  /** e.g. ["Proxmox:8.4/pve-no-subscription"] or ["Debian:12.10/stable", "Debian-Security:12/stable-security"]. */
  readonly origins: readonly string[];
  readonly arch: string | undefined;
}

export interface AptRemoval {
  readonly package: string;
  readonly version: string | undefined;
  readonly purge: boolean;
}

export interface AptConfigure {
  readonly package: string;
  readonly version: string;
  readonly arch: string | undefined;
}

export interface AptSummary {
  readonly upgraded: number;
  readonly newlyInstalled: number;
  readonly reinstalled: number;
  readonly downgraded: number;
  readonly toRemove: number;
  readonly notUpgraded: number;
}

export interface AptSimulation {
  readonly changes: readonly AptPackageChange[];
  /**
   * "The following packages have been kept back:" (held, or kept back by a dependency apt cannot
   * satisfy): upgradable, but this dist-upgrade leaves them alone. They need a person.
   */
  readonly keptBack: readonly string[];
  readonly removals: readonly AptRemoval[];
  readonly configures: readonly AptConfigure[];
  readonly summary: AptSummary;
}

const INST = /^Inst (\S+)(?: \[([^\]]*)\])? \(([^)]*)\)/;
const CONF = /^Conf (\S+) \(([^)]*)\)/;
const REMV = /^(Remv|Purg) (\S+)(?: \[([^\]]*)\])?/;
const SUMMARY =
  /^(\d+) upgraded, (\d+) newly installed, (?:(\d+) reinstalled, )?(?:(\d+) downgraded, )?(\d+) to remove and (\d+) not upgraded\.\s*$/m;

// "(6.8.12-10 Proxmox:8.4/pve-no-subscription [amd64])" without the parentheses.
function parseTarget(
  inner: string,
): { version: string; origins: string[]; arch: string | undefined } | undefined {
  const m = /^(\S+)(.*?)(?:\s*\[([^\]]*)\])?\s*$/.exec(inner.trim());
  if (!m?.[1]) return undefined;
  const origins = (m[2] ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  return { version: m[1], origins, arch: m[3] };
}

function kindOf(oldVersion: string | undefined, newVersion: string): AptChangeKind {
  if (oldVersion === undefined) return "install";
  const c = compareDebianVersions(newVersion, oldVersion);
  return c > 0 ? "upgrade" : c < 0 ? "downgrade" : "reinstall";
}

/**
 * Parses `apt-get -s dist-upgrade`. The `Inst`/`Conf`/`Remv`/`Purg` lines are apt's simulation
 * trace (never translated); the summary line must be present, because without it we cannot tell
 * "nothing to do" from "apt stopped early".
 */
export function parseAptSimulation(text: string, ctx?: ParseContext): AptSimulation {
  const cmd = APT_SIMULATE_ARGV.join(" ");
  const changes: AptPackageChange[] = [];
  const removals: AptRemoval[] = [];
  const configures: AptConfigure[] = [];
  const keptBack: string[] = [];
  let inKeptBack = false;
  for (const line of text.split(/\r?\n/)) {
    // ShowList indents the names under its title; with -V each name is followed by "(old => new)".
    if (inKeptBack && line.startsWith(" ")) {
      keptBack.push(
        ...line
          .replace(/\([^)]*\)/g, " ")
          .split(/\s+/)
          .filter(Boolean),
      );
      continue;
    }
    inKeptBack = line === "The following packages have been kept back:";
    if (line.startsWith("Inst ")) {
      const m = INST.exec(line);
      const target = m?.[3] !== undefined ? parseTarget(m[3]) : undefined;
      if (!m?.[1] || target === undefined)
        unparseable(ctx, cmd, line, "an Inst line is not `Inst pkg [old] (new origin [arch])`");
      const oldVersion = m[2] === undefined || m[2] === "" ? undefined : m[2];
      changes.push({
        kind: kindOf(oldVersion, target.version),
        package: m[1],
        oldVersion,
        newVersion: target.version,
        origins: target.origins,
        arch: target.arch,
      });
    } else if (line.startsWith("Conf ")) {
      const m = CONF.exec(line);
      const target = m?.[2] !== undefined ? parseTarget(m[2]) : undefined;
      if (!m?.[1] || target === undefined)
        unparseable(ctx, cmd, line, "a Conf line is not `Conf pkg (version origin [arch])`");
      configures.push({ package: m[1], version: target.version, arch: target.arch });
    } else if (line.startsWith("Remv ") || line.startsWith("Purg ")) {
      const m = REMV.exec(line);
      if (!m?.[2]) unparseable(ctx, cmd, line, "a Remv line is not `Remv pkg [version]`");
      removals.push({ package: m[2], version: m[3] === "" ? undefined : m[3], purge: m[1] === "Purg" });
    }
  }
  const s = SUMMARY.exec(text);
  if (!s) unparseable(ctx, cmd, text, "no `N upgraded, N newly installed, ...` summary line");
  const n = (i: number): number => Number(s[i] ?? "0");
  return {
    changes,
    keptBack,
    removals,
    configures,
    summary: {
      upgraded: n(1),
      newlyInstalled: n(2),
      reinstalled: n(3),
      downgraded: n(4),
      toRemove: n(5),
      notUpgraded: n(6),
    },
  };
}

/** Nothing would be installed, upgraded or removed. */
export function isUpToDate(sim: AptSimulation): boolean {
  return sim.changes.length === 0 && sim.removals.length === 0;
}

/** A Proxmox kernel package is among the changes (pveupgrade's own "kernel updated" test). */
export function kernelUpdatePending(sim: Pick<AptSimulation, "changes">): boolean {
  return kernelChanges(sim).length > 0;
}

/** The pending changes that install a Proxmox kernel. */
export function kernelChanges(sim: Pick<AptSimulation, "changes">): AptPackageChange[] {
  return sim.changes.filter((c) => /^(?:pve|proxmox)-kernel/.test(c.package));
}

/** The lines in which `apt-get update` says an index could not be fetched (it exits 0 all the same). */
export function aptUpdateFailures(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^(W|E): (Failed to fetch|Some index files failed to download)/.test(l));
}

/** `apt-mark showhold`: one package name per line. */
export function parseShowHold(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export interface DpkgAudit {
  /** Packages dpkg lists as not fully installed or configured, by name (an `:arch` qualifier kept). */
  readonly packages: readonly string[];
  /** The first line of each problem paragraph dpkg printed, e.g. "The following packages have been unpacked but not yet configured." */
  readonly problems: readonly string[];
}

/**
 * `dpkg --audit` (dpkg src/main/enquiry.c `audit`): paragraphs of an explanation (unindented lines)
 * followed by ` name  synopsis` lines. Empty output is a healthy database.
 */
export function parseDpkgAudit(text: string): DpkgAudit {
  const packages: string[] = [];
  const problems: string[] = [];
  let head = true;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      head = true;
      continue;
    }
    if (line.startsWith(" ")) {
      const name = line.trim().split(/\s+/)[0];
      if (name) packages.push(name);
      head = false;
    } else if (head && line.startsWith("The following packages")) {
      problems.push(line.split(/[.,:]/)[0] ?? line);
      head = false;
    }
  }
  return { packages: [...new Set(packages)], problems };
}
