import { describe, expect, it } from "vitest";
import { parseDfPosix } from "../../src/pve/disk.js";
import { PveReader } from "../../src/pve/reader.js";
import { parsePveVersion } from "../../src/pve/pveversion.js";
import { parseZpoolStatusX } from "../../src/pve/zfs.js";
import { LocalShExec, fixture } from "./helpers.js";

describe("df -P -B1 /", () => {
  it("reads a ZFS root", () => {
    const d = parseDfPosix(fixture("df-root.zfs.txt"));
    expect(d).toMatchObject({
      filesystem: "rpool/ROOT/pve-1",
      mountpoint: "/",
      sizeBytes: 100861181952,
      usedBytes: 5398265856,
      availableBytes: 95462916096,
      usedPercent: 6,
    });
    expect(d.freeGiB).toBeCloseTo(88.91, 1);
  });

  it("reads a full root and the capture from a Debian 12 machine", () => {
    expect(parseDfPosix(fixture("df-root.lvm-full.txt"))).toMatchObject({ usedPercent: 100, freeGiB: 0 });
    expect(parseDfPosix(fixture("df-root.capture-debian12.txt"))).toMatchObject({
      filesystem: "/dev/vda",
      mountpoint: "/",
    });
  });

  it("reads this machine's real df through a shell", async () => {
    const d = await new PveReader(new LocalShExec()).rootDisk();
    expect(d.mountpoint).toBe("/");
    expect(d.sizeBytes).toBeGreaterThan(d.availableBytes);
    expect(d.usedPercent).toBeGreaterThanOrEqual(0);
    expect(d.usedPercent).toBeLessThanOrEqual(100);
  });

  it("refuses human-readable or multi-line output", () => {
    expect(() =>
      parseDfPosix("Filesystem Size Used Avail Use% Mounted on\n/dev/vda 252G 12G 80G 14% /\n"),
    ).toThrow(/fs size used available/);
    expect(() => parseDfPosix("df: /: No such file or directory\n")).toThrow(/header line/);
  });
});

describe("zpool status -x", () => {
  it("reads the healthy and no-pools answers", () => {
    expect(parseZpoolStatusX("all pools are healthy\n")).toEqual({ state: "healthy" });
    expect(parseZpoolStatusX("no pools available\n")).toEqual({ state: "no-pools" });
  });

  it("reports every unhealthy pool with its state and the text", () => {
    const z = parseZpoolStatusX(fixture("zpool-x.degraded.txt"));
    expect(z.state).toBe("unhealthy");
    if (z.state !== "unhealthy") return;
    expect(z.pools).toEqual([{ pool: "rpool", state: "DEGRADED" }]);
    expect(z.detail).toMatch(/UNAVAIL/);
  });

  it("refuses empty or foreign output", () => {
    expect(() => parseZpoolStatusX("")).toThrow(/zpool status -x/);
    expect(() => parseZpoolStatusX("internal error: failed to initialize ZFS library\n")).toThrow(
      /pool status/,
    );
  });
});

describe("pveversion", () => {
  it("reads the manager version and the running kernel", () => {
    expect(parsePveVersion(fixture("pveversion.txt"))).toEqual({
      version: "8.4.1",
      build: "2a5fa54a8503f96d",
      runningKernel: "6.8.12-9-pve",
      major: 8,
    });
    expect(parsePveVersion("pve-manager/9.0.6/49c767b70aeb6648 (running kernel: 6.14.8-2-pve)\n").major).toBe(
      9,
    );
    expect(() => parsePveVersion("proxmox-backup-server 3.4.1-1")).toThrow(/pve-manager/);
  });
});
