import { describe, expect, it } from "vitest";
import {
  CEPH_HEALTH_ARGV,
  describeCephHealth,
  hasNoout,
  nooutArgv,
  observeCeph,
  parseCephHealth,
  recoveryChecks,
  withoutOwnNoout,
} from "../../src/pve/ceph.js";
import { batchScript } from "../../src/pve/batch.js";
import type { ExecResult, HostExec } from "../../src/ssh/types.js";
import { fixture } from "./helpers.js";

describe("parseCephHealth", () => {
  it("reads a healthy cluster", () => {
    const h = parseCephHealth(fixture("ceph-health-detail.ok.json.out"));
    expect(h).toEqual({ status: "HEALTH_OK", checks: [] });
  });

  it("reads a live Nautilus capture (no mutes, per-OSD flags)", () => {
    const h = parseCephHealth(fixture("ceph-health-detail.nautilus-noup.json.out"));
    expect(h.status).toBe("HEALTH_WARN");
    expect(h.checks[0]).toMatchObject({
      code: "OSD_FLAGS",
      detail: ["osd.13 has flags noup", "osd.14 has flags noup", "osd.27 has flags noup"],
    });
    expect(hasNoout(h, "pve1")).toBe(false);
  });

  it("sees a down host with its noout flag, and what is left without that flag", () => {
    const h = parseCephHealth(fixture("ceph-health-detail.host-down-noout.json.out"));
    expect(hasNoout(h, "pve2")).toBe(true);
    expect(hasNoout(h, "pve1")).toBe(false);
    const rest = withoutOwnNoout(h, "pve2");
    expect(rest.checks.map((c) => c.code)).toEqual(["OSD_DOWN", "OSD_HOST_DOWN", "PG_DEGRADED"]);
    expect(rest.status).toBe("HEALTH_WARN");
    expect(recoveryChecks(rest).map((c) => c.code)).toEqual(["OSD_DOWN", "OSD_HOST_DOWN", "PG_DEGRADED"]);
    expect(describeCephHealth(rest)).toContain("OSD_DOWN: 2 osds down");
  });

  it("is HEALTH_OK without its own noout once recovered; another host's flag still counts", () => {
    const h = parseCephHealth(fixture("ceph-health-detail.recovering.json.out"));
    expect(recoveryChecks(withoutOwnNoout(h, "pve2")).map((c) => c.code)).toEqual(["PG_DEGRADED"]);
    const recovered = { ...h, checks: h.checks.filter((c) => c.code === "OSD_FLAGS") };
    expect(withoutOwnNoout(recovered, "pve2")).toEqual({ status: "HEALTH_OK", checks: [] });
    expect(withoutOwnNoout(recovered, "pve1").status).toBe("HEALTH_WARN");
  });

  it("keeps the cluster-wide noout flag and HEALTH_ERR as they are", () => {
    const g = parseCephHealth(fixture("ceph-health-detail.noout-global.json.out"));
    expect(withoutOwnNoout(g, "pve2").checks.map((c) => c.code)).toEqual(["OSDMAP_FLAGS"]);
    expect(parseCephHealth(fixture("ceph-health-detail.err.json.out")).status).toBe("HEALTH_ERR");
  });

  it("skips warnings the CLI printed before its JSON (stderr is merged in the batch)", () => {
    const text = `2026-12-04T02:00:00.000+0000 7f0c1a3fe6c0 -1 auth: unable to find a keyring on /etc/ceph/ceph.client.admin.keyring: (2) No such file or directory\n${fixture("ceph-health-detail.ok.json.out")}`;
    expect(parseCephHealth(text).status).toBe("HEALTH_OK");
  });

  it("rejects what is not Ceph's JSON", () => {
    expect(() => parseCephHealth("HEALTH_OK\n")).toThrow(/expected JSON/);
    expect(() => parseCephHealth('{"status":"HEALTH_MAYBE"}')).toThrow(/unexpected JSON shape/);
  });
});

describe("ceph commands", () => {
  it("sets noout on the node's CRUSH host, with a monitor timeout", () => {
    expect(nooutArgv("pve2", true)).toEqual([
      "ceph",
      "--connect-timeout",
      "10",
      "osd",
      "set-group",
      "noout",
      "pve2",
    ]);
    expect(nooutArgv("pve2", false)).toContain("unset-group");
    expect(() => nooutArgv("-rf", true)).toThrow(/not a valid Proxmox node name/);
    expect(CEPH_HEALTH_ARGV).toContain("--connect-timeout");
  });
});

function batchExec(steps: [number, string][]): HostExec {
  return {
    host: "pve1",
    exec: () => {
      const stdout = steps
        .map(([code, out], i) => `@@refit:${i}:begin\n${out}@@refit:${i}:end:${code}\n`)
        .join("");
      const r: ExecResult = {
        exitCode: 0,
        signal: null,
        stdout,
        stderr: "",
        durationMs: 1,
        stdoutTruncated: false,
        stderrTruncated: false,
      };
      return Promise.resolve(r);
    },
  };
}

describe("observeCeph", () => {
  it("is none without /etc/pve/ceph.conf, whatever ceph says", async () => {
    const r = await observeCeph(
      batchExec([
        [1, ""],
        [127, "sh: 1: ceph: not found\n"],
      ]),
    );
    expect(r).toEqual({ ok: true, value: { kind: "none" } });
  });

  it("reads the health when Ceph is set up; unreadable health is unavailable (fail closed)", async () => {
    const ok = await observeCeph(
      batchExec([
        [0, ""],
        [0, fixture("ceph-health-detail.ok.json.out")],
      ]),
    );
    expect(ok).toMatchObject({ ok: true, value: { kind: "ceph", health: { status: "HEALTH_OK" } } });
    const down = await observeCeph(
      batchExec([
        [0, ""],
        [1, "[errno 110] RADOS timed out (error connecting to the cluster)\n"],
      ]),
    );
    expect(down.ok).toBe(false);
  });

  it("sends one batch", () => {
    expect(batchScript([["test", "-f", "/etc/pve/ceph.conf"]])).toContain("test -f /etc/pve/ceph.conf");
  });
});
