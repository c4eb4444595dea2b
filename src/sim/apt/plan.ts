import { compareDebVersions } from "../debversion.js";
import { compareKernels, installedKernels, isKernelPackage, kernelReleaseOf } from "../model/kernels.js";
import type { AptState, PackageRecord } from "../model/state.js";

/** What `apt-get dist-upgrade` would do, computed from the installed packages and the local lists. */

export interface PlannedChange {
  name: string;
  /** Installed version; undefined for a newly installed package. */
  from?: string;
  to: PackageRecord;
}

/**
 * Upgrades of installed packages to newer list versions, plus new kernel packages newer than every
 * installed kernel (the meta package's dependency pulls them in). New packages come first.
 */
export function pendingUpgrades(apt: AptState): PlannedChange[] {
  const changes: PlannedChange[] = [];
  for (const [name, inst] of Object.entries(apt.installed)) {
    const cand = apt.lists[name];
    if (cand && compareDebVersions(cand.version, inst.version) > 0)
      changes.push({ name, from: inst.version, to: cand });
  }
  const kernels = installedKernels(apt);
  const newest = kernels[kernels.length - 1];
  for (const [name, rec] of Object.entries(apt.lists)) {
    if (apt.installed[name] || !isKernelPackage(name)) continue;
    const rel = kernelReleaseOf(name)!;
    if (newest === undefined || compareKernels(rel, newest) > 0) changes.push({ name, to: rec });
  }
  return changes.sort((a, b) => {
    const an = a.from === undefined ? 0 : 1;
    const bn = b.from === undefined ? 0 : 1;
    return an - bn || a.name.localeCompare(b.name);
  });
}

/**
 * What dist-upgrade leaves out of `pendingUpgrades`: held packages (`apt-mark hold`) and packages
 * whose candidate depends on something no list provides. apt lists the installed ones under "The
 * following packages have been kept back:" and counts them as "not upgraded"; a held package that
 * is not installed is simply not installed.
 */
export function splitKeptBack(
  apt: AptState,
  changes: PlannedChange[],
): { changes: PlannedChange[]; keptBack: string[] } {
  const holds = new Set(apt.holds ?? []);
  const unsatisfiable = (c: PlannedChange): boolean =>
    (c.to.depends ?? []).some((d) => !apt.lists[d] && !apt.installed[d]);
  const kept = changes.filter((c) => holds.has(c.name) || unsatisfiable(c));
  return {
    changes: changes.filter((c) => !kept.includes(c)),
    keptBack: kept
      .filter((c) => c.from !== undefined)
      .map((c) => c.name)
      .sort(),
  };
}

/** Kernels `apt-get autoremove` removes: all but the running, the pinned, the newest and the one before. */
export function autoremovableKernels(apt: AptState, running: string, pinned: string | undefined): string[] {
  const kernels = installedKernels(apt);
  const keep = new Set([running, ...kernels.slice(-2)]);
  if (pinned) keep.add(pinned);
  const removable = kernels.filter((k) => !keep.has(k));
  return Object.keys(apt.installed).filter((n) => {
    const rel = kernelReleaseOf(n);
    return rel !== undefined && removable.includes(rel);
  });
}

/** Packages in the repository newer than the local lists (what `apt-get update` would fetch). */
export function repoChanges(apt: AptState): string[] {
  return Object.entries(apt.repo)
    .filter(([name, r]) => {
      const l = apt.lists[name];
      return !l || l.version !== r.version;
    })
    .map(([n]) => n);
}

/** Approximate .deb sizes, for apt's "Need to get" lines. */
export function debSize(name: string): number {
  if (isKernelPackage(name)) return 104_857_600;
  if (name.startsWith("pve-manager")) return 1_598_464;
  if (name.startsWith("pve-qemu-kvm")) return 33_554_432;
  if (name.startsWith("zfs") || name.startsWith("libzfs")) return 2_621_440;
  return 262_144 + (name.length % 7) * 65_536;
}
