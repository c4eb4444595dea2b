import { describe, expect, it } from "vitest";
import {
  aptDistUpgradeArgv,
  aptMarkArgv,
  aptUpdateFailures,
  aptFixBrokenArgv,
  dpkgConfigureArgv,
  isUpToDate,
  kernelUpdatePending,
  parseAptSimulation,
  parseDpkgAudit,
  parseShowHold,
} from "../../src/pve/apt.js";
import { packageManagerBusy, UnparseableOutputError } from "../../src/pve/errors.js";
import { fixture } from "./helpers.js";

describe("parseAptSimulation", () => {
  it("reads upgrades with old, new, origins and arch, and a new kernel package (bookworm)", () => {
    const s = parseAptSimulation(fixture("apt-s-dist-upgrade.bookworm.txt"));
    expect(s.summary).toEqual({
      upgraded: 5,
      newlyInstalled: 1,
      reinstalled: 0,
      downgraded: 0,
      toRemove: 0,
      notUpgraded: 0,
    });
    expect(s.changes.map((c) => [c.kind, c.package, c.oldVersion, c.newVersion])).toEqual([
      ["upgrade", "libc-bin", "2.36-9+deb12u9", "2.36-9+deb12u10"],
      ["upgrade", "libc6", "2.36-9+deb12u9", "2.36-9+deb12u10"],
      ["install", "proxmox-kernel-6.8.12-10-pve-signed", undefined, "6.8.12-10"],
      ["upgrade", "proxmox-kernel-6.8", "6.8.12-9", "6.8.12-10"],
      ["upgrade", "libpve-common-perl", "8.3.1", "8.3.2"],
      ["upgrade", "pve-manager", "8.4.1", "8.4.2"],
    ]);
    expect(s.changes[0]).toMatchObject({
      origins: ["Debian:12.10/stable", "Debian-Security:12/stable-security"],
      arch: "amd64",
    });
    expect(s.changes[3]).toMatchObject({ origins: ["Proxmox:8.4/pve-no-subscription"], arch: "all" });
    expect(s.configures.map((c) => c.package)).toContain("pve-manager");
    expect(s.removals).toEqual([]);
    expect(kernelUpdatePending(s)).toBe(true);
    expect(isUpToDate(s)).toBe(false);
  });

  it("reads removals, downgrades with epochs and the NOTE preamble (trixie, non-root)", () => {
    const s = parseAptSimulation(fixture("apt-s-dist-upgrade.trixie.txt"));
    expect(s.summary).toMatchObject({
      upgraded: 4,
      newlyInstalled: 1,
      downgraded: 1,
      toRemove: 1,
      notUpgraded: 2,
    });
    expect(s.removals).toEqual([
      { package: "proxmox-kernel-6.14.5-1-pve-signed", version: "6.14.5-1", purge: false },
    ]);
    expect(s.changes.find((c) => c.package === "libfoo1")).toMatchObject({
      kind: "downgrade",
      oldVersion: "1:2.0-1",
      newVersion: "1:1.9-3",
    });
    expect(s.changes.find((c) => c.package === "proxmox-kernel-6.14")).toMatchObject({
      kind: "upgrade",
      oldVersion: "6.14.8-2",
      newVersion: "6.14.11-2",
    });
  });

  it("sees an up-to-date host", () => {
    const s = parseAptSimulation(fixture("apt-s-dist-upgrade.up-to-date.txt"));
    expect(isUpToDate(s)).toBe(true);
    expect(kernelUpdatePending(s)).toBe(false);
  });

  it("recognises the brief's example line and a Purg line", () => {
    const s = parseAptSimulation(
      [
        "Inst proxmox-kernel-6.8 [6.8.12-9] (6.8.12-10 Proxmox:8.4/pve-no-subscription [amd64])",
        "Purg old-thing [1.0-1]",
        "Inst same [1.0] (1.0 Debian:12/stable [amd64])",
        "1 upgraded, 0 newly installed, 1 reinstalled, 1 to remove and 0 not upgraded.",
      ].join("\n"),
    );
    expect(s.changes[0]).toEqual({
      kind: "upgrade",
      package: "proxmox-kernel-6.8",
      oldVersion: "6.8.12-9",
      newVersion: "6.8.12-10",
      origins: ["Proxmox:8.4/pve-no-subscription"],
      arch: "amd64",
    });
    expect(s.changes[1]?.kind).toBe("reinstall");
    expect(s.removals).toEqual([{ package: "old-thing", version: "1.0-1", purge: true }]);
    expect(s.summary.reinstalled).toBe(1);
  });

  it("refuses output without the summary line: an early stop must not look like 'nothing to do'", () => {
    expect(() => parseAptSimulation("Reading package lists...\n")).toThrow(UnparseableOutputError);
    expect(() => parseAptSimulation("Reading package lists...\n")).toThrow(/summary line/);
    expect(() =>
      parseAptSimulation(
        "Inst broken-line-without-parens\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.",
      ),
    ).toThrow(/Inst line/);
  });
});

describe("package job argv", () => {
  it("never prompts and keeps existing config files", () => {
    expect(aptDistUpgradeArgv()).toEqual([
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "-y",
      "-o",
      "Dpkg::Options::=--force-confdef",
      "-o",
      "Dpkg::Options::=--force-confold",
      "dist-upgrade",
    ]);
    expect(dpkgConfigureArgv()).toEqual([
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "dpkg",
      "--configure",
      "-a",
    ]);
    expect(aptFixBrokenArgv().slice(-2)).toEqual(["--fix-broken", "install"]);
  });
});

describe("aptUpdateFailures", () => {
  it("finds apt's fetch warnings, which come with exit code 0", () => {
    const out = [
      "Hit:1 http://deb.debian.org/debian bookworm InRelease",
      "Err:2 http://download.proxmox.com/debian/pve bookworm InRelease",
      "  Temporary failure resolving 'download.proxmox.com'",
      "Reading package lists...",
      "W: Failed to fetch http://download.proxmox.com/debian/pve/dists/bookworm/InRelease  Temporary failure resolving 'download.proxmox.com'",
      "W: Some index files failed to download. They have been ignored, or old ones used instead.",
    ].join("\n");
    expect(aptUpdateFailures(out)).toHaveLength(2);
    expect(
      aptUpdateFailures("Hit:1 http://deb.debian.org/debian bookworm InRelease\nReading package lists...\n"),
    ).toEqual([]);
  });
});

describe("kept back, holds, dpkg --audit, a busy lock", () => {
  it("reads the kept-back list apart from the changes", () => {
    const s = parseAptSimulation(fixture("apt-s-dist-upgrade.kept-back.txt"));
    expect(s.keptBack).toEqual(["proxmox-ve", "zfsutils-linux"]);
    expect(s.changes.map((c) => c.package)).toEqual(["pve-manager"]);
    expect(s.summary.notUpgraded).toBe(2);
  });

  it("reads the kept-back list with -V versions", () => {
    const s = parseAptSimulation(fixture("apt-s-dist-upgrade.kept-back-verbose.txt"));
    expect(s.keptBack).toEqual(["qemu-block-extra", "qemu-utils"]);
    expect(isUpToDate(s)).toBe(true);
  });

  it("no kept-back list on a node with nothing held", () => {
    expect(parseAptSimulation(fixture("apt-s-dist-upgrade.bookworm.txt")).keptBack).toEqual([]);
  });

  it("apt-mark showhold: one name per line, nothing when none", () => {
    expect(parseShowHold("zfsutils-linux\nproxmox-ve\n")).toEqual(["zfsutils-linux", "proxmox-ve"]);
    expect(parseShowHold("")).toEqual([]);
  });

  it("dpkg --audit: every package named, each problem once; empty is healthy", () => {
    const a = parseDpkgAudit(fixture("dpkg-audit.unpacked.txt"));
    expect(a.packages).toEqual(["proxmox-kernel-6.8.12-10-pve-signed", "pve-manager", "libpve-common-perl"]);
    expect(a.problems).toEqual([
      "The following packages have been unpacked but not yet configured",
      "The following packages are only half configured",
    ]);
    expect(parseDpkgAudit("")).toEqual({ packages: [], problems: [] });
  });

  it("a held dpkg lock names its holder", () => {
    expect(packageManagerBusy(fixture("apt-lock-held.stderr.txt"))).toBe(
      "package manager busy (pid 2412, apt-get)",
    );
    expect(
      packageManagerBusy("dpkg: error: dpkg frontend lock was locked by another process with pid 4242\n"),
    ).toBe("package manager busy (pid 4242)");
    expect(packageManagerBusy("E: broken packages")).toBeUndefined();
  });

  it("holds and releases through apt-mark argv", () => {
    expect(aptMarkArgv("hold", ["pve-manager", "zfsutils-linux"])).toEqual([
      "apt-mark",
      "hold",
      "pve-manager",
      "zfsutils-linux",
    ]);
  });
});
