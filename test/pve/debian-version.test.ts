import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareDebianVersions,
  debianVersionOrder,
  newestVersion,
  parseDebianVersion,
} from "../../src/pve/debian-version.js";

const sign = (n: number): number => Math.sign(n);

describe("compareDebianVersions", () => {
  // [a, b, expected sign of compare(a, b)]: dpkg's own ordering rules plus kernels and Proxmox packages.
  const table: [string, string, -1 | 0 | 1][] = [
    ["1.0", "1.1", -1],
    ["1.0", "1.0", 0],
    ["1.0~rc1", "1.0", -1],
    ["1.0~~", "1.0~", -1],
    ["1.0~~", "1.0~~a", -1],
    ["1.0~~a", "1.0~", -1],
    ["1.0~", "1.0", -1],
    ["1.0", "1.0a", -1],
    ["1.0a", "1.0+", -1],
    ["1.0", "1.0+b1", -1],
    ["1.0.0", "1.0", 1],
    ["1.01", "1.1", 0],
    ["1.0-0", "1.0", 0],
    ["0:1.0", "1.0", 0],
    ["1:0.1", "2.0", 1],
    ["1:1.9-3", "1:2.0-1", -1],
    ["1.0-1", "1.0-2", -1],
    ["1.0-10", "1.0-9", 1],
    ["2.36-9+deb12u10", "2.36-9+deb12u9", 1],
    ["2.41-12+deb13u1", "2.41-12", 1],
    ["8.4.2", "8.4.1", 1],
    ["6.8.12-10-pve", "6.8.12-9-pve", 1],
    ["6.14.8-2-pve", "6.8.12-9-pve", 1],
    ["6.8.12-9-pve", "6.8.12-9-pve", 0],
    ["6.5.13-6-pve", "6.8.4-2-pve", -1],
    ["5.15.107-1-pve", "6.2.11-1-pve", -1],
    ["9.0.6", "8.4.14", 1],
  ];
  it.each(table)("%s vs %s → %i", (a, b, expected) => {
    expect(sign(compareDebianVersions(a, b))).toBe(expected);
    expect(sign(compareDebianVersions(b, a))).toBe(-expected || 0);
  });

  it("splits epoch, upstream and revision at the first colon and the last hyphen", () => {
    expect(parseDebianVersion("1:2.36-9+deb12u10")).toEqual({
      epoch: 1,
      upstream: "2.36",
      revision: "9+deb12u10",
    });
    expect(parseDebianVersion("6.8.12-10-pve")).toEqual({ epoch: 0, upstream: "6.8.12-10", revision: "pve" });
    expect(parseDebianVersion("8.4.1")).toEqual({ epoch: 0, upstream: "8.4.1", revision: "" });
  });

  it("picks the newest kernel of a list and sorts like dpkg", () => {
    expect(newestVersion(["6.8.12-9-pve", "6.8.12-10-pve", "6.5.13-6-pve"])).toBe("6.8.12-10-pve");
    expect(newestVersion([])).toBeUndefined();
    expect(["1.0", "1.0~rc1", "1:0.5", "1.0+b1"].sort(debianVersionOrder)).toEqual([
      "1.0~rc1",
      "1.0",
      "1.0+b1",
      "1:0.5",
    ]);
  });

  const part = fc.stringMatching(/^[0-9][0-9a-z.+~]{0,6}$/);
  const version = fc
    .tuple(
      fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      part,
      fc.option(fc.stringMatching(/^[0-9a-z.+~]{1,5}$/), { nil: undefined }),
    )
    .map(
      ([epoch, up, rev]) =>
        `${epoch === undefined ? "" : `${epoch}:`}${up}${rev === undefined ? "" : `-${rev}`}`,
    );

  it("is reflexive and antisymmetric", () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        expect(compareDebianVersions(a, a)).toBe(0);
        expect(sign(compareDebianVersions(a, b))).toBe(-sign(compareDebianVersions(b, a)) || 0);
      }),
    );
  });

  it("is transitive", () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(debianVersionOrder);
        expect(compareDebianVersions(x ?? "", z ?? "")).toBeLessThanOrEqual(0);
        expect(compareDebianVersions(x ?? "", y ?? "")).toBeLessThanOrEqual(0);
      }),
    );
  });

  it("orders a tilde suffix before the bare version and an epoch above any version without one", () => {
    fc.assert(
      fc.property(part, fc.stringMatching(/^[0-9a-z]{0,4}$/), (v, s) => {
        expect(compareDebianVersions(`${v}~${s}`, v)).toBeLessThan(0);
        expect(compareDebianVersions(`1:${v}`, `${v}9`)).toBeGreaterThan(0);
      }),
    );
  });

  const hasDpkg = dpkgAvailable();

  // dpkg is on every Debian machine; in CI its absence is a broken machine, not a reason to skip.
  it.skipIf(!hasDpkg && !process.env.CI)("agrees with dpkg --compare-versions", () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const lt = dpkg(a, "lt", b);
        const eq = dpkg(a, "eq", b);
        const expected = eq ? 0 : lt ? -1 : 1;
        expect(sign(compareDebianVersions(a, b))).toBe(expected);
      }),
      { numRuns: 150 },
    );
  });
});

function dpkg(a: string, op: string, b: string): boolean {
  try {
    execFileSync("dpkg", ["--compare-versions", a, op, b], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function dpkgAvailable(): boolean {
  try {
    execFileSync("dpkg", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
