import type { OsRunner } from "../../api/runners.js";
import type { Change, RunnerStep, RunnerTarget, StepResult } from "../contract.js";

/** One OS package manager behind the os runner; os/index.ts picks it from the spec or the ostype. */
export interface OsManager {
  /** The program whose presence says the manager is there (probed with `command -v`). */
  tool: string;
  refresh(spec: OsRunner): RunnerStep[];
  list(spec: OsRunner): RunnerStep[];
  pending(spec: OsRunner, results: readonly StepResult[]): Change[];
  hold(spec: OsRunner): RunnerStep[];
  apply(spec: OsRunner, pending: readonly Change[]): RunnerStep[];
  release(spec: OsRunner): RunnerStep[];
  installed(spec: OsRunner): RunnerStep[];
  /** Installed versions by package name, from the installed() steps' results. */
  versions(spec: OsRunner, results: readonly StepResult[]): Map<string, string>;
}

export type OsManagerName = Exclude<OsRunner["manager"], "auto">;

/** The distributions Proxmox's LXC templates cover, by `ostype` (pve-container PVE::LXC::Setup). */
const BY_OSTYPE: Record<string, OsManagerName> = {
  debian: "apt",
  ubuntu: "apt",
  devuan: "apt",
  alpine: "apk",
  archlinux: "pacman",
  fedora: "dnf",
  centos: "dnf",
  almalinux: "dnf",
  rockylinux: "dnf",
  opensuse: "zypper",
};

export function managerFor(
  spec: Pick<OsRunner, "manager">,
  target: Pick<RunnerTarget, "ostype">,
): OsManagerName | undefined {
  return spec.manager === "auto" ? BY_OSTYPE[target.ostype] : spec.manager;
}

export type { Change };
