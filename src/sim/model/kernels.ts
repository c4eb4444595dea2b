import { compareDebVersions } from "../debversion.js";
import type { AptState, HostState, PackageRecord } from "./state.js";

/**
 * Kernels are ordinary packages, as on a real host: `proxmox-kernel-<release>-signed` (PVE 8) or
 * `linux-image-<release>` (Debian), plus a meta package (`proxmox-kernel-6.8`) whose upgrade pulls in
 * the new one. The installed kernels are therefore whatever dpkg says, never a separate list.
 */

const PVE_KERNEL =
  /^(?:proxmox-kernel-(\d+\.\d+\.\d+-\d+-pve)(?:-signed)?|pve-kernel-(\d+\.\d+\.\d+-\d+-pve))$/;
const DEBIAN_KERNEL = /^linux-image-(\d+\.\d+\.\d+-\d+-[a-z0-9]+)$/;

export function kernelPackageName(release: string): string {
  return release.endsWith("-pve") ? `proxmox-kernel-${release}-signed` : `linux-image-${release}`;
}

/** Package version of a kernel release: `6.8.12-9-pve` → `6.8.12-9`. */
export function kernelPackageVersion(release: string): string {
  return release.replace(/-[a-z0-9]+$/, "");
}

/** The meta package that tracks the newest kernel of a series. */
export function kernelMetaPackage(release: string): string {
  const m = /^(\d+\.\d+)\./.exec(release);
  return release.endsWith("-pve") ? `proxmox-kernel-${m?.[1] ?? "6.8"}` : "linux-image-amd64";
}

export function kernelReleaseOf(pkg: string): string | undefined {
  const m = PVE_KERNEL.exec(pkg) ?? DEBIAN_KERNEL.exec(pkg);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function isKernelPackage(pkg: string): boolean {
  return kernelReleaseOf(pkg) !== undefined;
}

export function compareKernels(a: string, b: string): number {
  return compareDebVersions(kernelPackageVersion(a), kernelPackageVersion(b));
}

/** Installed kernel releases, oldest first. */
export function installedKernels(apt: AptState): string[] {
  const out = new Set<string>();
  for (const name of Object.keys(apt.installed)) {
    const rel = kernelReleaseOf(name);
    if (rel) out.add(rel);
  }
  return [...out].sort(compareKernels);
}

/** The kernel the boot loader starts: the pinned one if it is installed, else the newest. */
export function bootKernel(host: HostState): string {
  const kernels = installedKernels(host.apt);
  if (host.kernelPinned && kernels.includes(host.kernelPinned)) return host.kernelPinned;
  return kernels[kernels.length - 1] ?? host.kernelRunning;
}

/** Adds a kernel and its meta package to a package table (installed, lists or repo). */
export function addKernel(table: Record<string, PackageRecord>, release: string, origin: string): void {
  table[kernelPackageName(release)] = { version: kernelPackageVersion(release), arch: "amd64", origin };
  const meta = kernelMetaPackage(release);
  const current = table[meta];
  if (!current || compareDebVersions(kernelPackageVersion(release), current.version) > 0)
    table[meta] = { version: kernelPackageVersion(release), arch: "all", origin };
}
