/**
 * What Preflight makes of apt's view of a node: the packages this run upgrades, those apt keeps back
 * (a person must look), those the plan holds for the run (spec.upgrade.holdPackages), and whether
 * an interrupted dpkg must be repaired first. Pure: read from the observation only.
 */
import type { AptPackageChange, AptSimulation, NodeObservation } from "../../../src/pve/index.js";
import { PveReason } from "../../../src/pve/index.js";
import type { PatchContext } from "../observation.js";

export interface PackagePlan {
  /** What the upgrade installs (the plan's holds taken out). */
  changes: AptPackageChange[];
  /** Upgradable, but apt keeps them back: held by someone, or a dependency it cannot satisfy. */
  keptBack: readonly string[];
  /** Of the kept-back packages, those on hold (`apt-mark showhold`). */
  onHold: readonly string[];
  /** Packages Refit holds for this run: pending ones the plan names, not held already. */
  hold: readonly string[];
  /** `dpkg --audit` named half-done packages: `dpkg --configure -a` runs before the upgrade. */
  repair?: { packages: string[]; problems: string[] };
}

export function packagePlan(ctx: PatchContext, node: NodeObservation, sim: AptSimulation): PackagePlan {
  const holds = node.holds?.ok ? node.holds.value : [];
  const wanted = new Set(ctx.spec.upgrade.holdPackages ?? []);
  // A hold left by an earlier run of this patch that was never released stays Refit's to release.
  const earlier = ctx.status.heldPackages ?? [];
  const mine = sim.changes.map((c) => c.package).filter((p) => wanted.has(p) && !holds.includes(p));
  const hold = [...new Set([...earlier, ...mine])].sort();
  const audit = node.dpkgAudit?.ok ? node.dpkgAudit.value : undefined;
  return {
    changes: sim.changes.filter((c) => !hold.includes(c.package)),
    keptBack: sim.keptBack,
    onHold: sim.keptBack.filter((p) => holds.includes(p)),
    hold,
    ...(audit && audit.packages.length > 0
      ? { repair: { packages: [...audit.packages], problems: [...audit.problems] } }
      : {}),
  };
}

/** Why a node with nothing to install is skipped: "up to date" only when nothing is left behind. */
export function skipMessage(p: PackagePlan): string {
  const parts: string[] = [];
  if (p.keptBack.length > 0) {
    const onHold =
      p.onHold.length > 0
        ? `; ${p.onHold.join(", ")} ${p.onHold.length > 1 ? "are" : "is"} on hold (apt-mark showhold)`
        : "";
    parts.push(
      `${p.keptBack.length} package(s) kept back need a person: ${p.keptBack.join(", ")}${onHold}; see \`apt-get -s dist-upgrade\` on the node (a hold, or a dependency apt cannot satisfy)`,
    );
  }
  const plan = p.hold.filter((h) => !p.keptBack.includes(h));
  if (plan.length > 0)
    parts.push(`${plan.length} pending package(s) held by the plan (holdPackages): ${plan.join(", ")}`);
  if (parts.length === 0) return "up to date: no pending updates and no reboot needed";
  return `not up to date: ${parts.join("; ")}; nothing else to install and no reboot needed`;
}

export function upgradeMessage(count: number, p: PackagePlan): string {
  let m = `upgrading ${count} package(s)`;
  if (p.keptBack.length > 0) m += `; ${p.keptBack.length} kept back (${p.keptBack.join(", ")}) need a person`;
  if (p.hold.length > 0) m += `; holding ${p.hold.join(", ")} for the run (holdPackages)`;
  if (p.repair)
    m += `; repairing an interrupted dpkg first (dpkg --configure -a: ${p.repair.packages.join(", ")})`;
  return m;
}

/** A held apt/dpkg lock is its own reason: another run (unattended-upgrades) is working, so wait. */
export function busyOr(reason: string): string {
  return reason === PveReason.LockHeld ? "PackageManagerBusy" : reason;
}
