import { describe, expect, it } from "vitest";
import { parsePbsTaskList, parsePbsVersions } from "../../src/pve/pbs.js";
import { isActiveArgv, isEnabledArgv, parseIsActive, parseIsEnabled } from "../../src/pve/systemd.js";
import { fixture } from "./helpers.js";

describe("PBS", () => {
  it("reads the task list and marks only rows without end time as running (§10)", () => {
    const tasks = parsePbsTaskList(fixture("pbs-task-list.rendered.json.out"));
    expect(tasks.map((t) => [t.workerType, t.workerId, t.running])).toEqual([
      ["backup", "store1:vm/100", true],
      ["garbage_collection", "store1", false],
    ]);
    expect(tasks[1]).toMatchObject({ status: "OK", endTime: 1699999990 });
    expect(parsePbsTaskList("[]")).toEqual([]);
  });

  it("reads versions as JSON and as text", () => {
    const expected = [
      { package: "proxmox-backup-server", version: "3.4.1-1", extraInfo: "running version: 3.4.1" },
    ];
    expect(parsePbsVersions(fixture("pbs-versions.json.out"))).toEqual(expected);
    expect(parsePbsVersions(fixture("pbs-versions.txt"))).toEqual(expected);
    expect(() => parsePbsVersions("")).toThrow(/package/);
  });
});

describe("systemctl is-active / is-enabled", () => {
  it("maps one line per unit, whatever the exit code", () => {
    expect(
      parseIsActive(["pve-cluster", "pvedaemon", "corosync"], fixture("systemctl-is-active.txt")),
    ).toEqual({
      "pve-cluster": "active",
      pvedaemon: "inactive",
      corosync: "failed",
    });
  });

  it("refuses a line count that does not match the units", () => {
    expect(() => parseIsActive(["a", "b"], "active\n")).toThrow(/2 state line/);
    expect(() =>
      parseIsActive(
        ["a"],
        "System has not been booted with systemd as init system (PID 1). Can't operate.\n",
      ),
    ).toThrow(/state line/);
  });

  it("marks a missing unit not-found and the units after it unknown", () => {
    const r = parseIsEnabled(
      ["proxmox-backup", "cron", "nosuch.service", "proxmox-backup-proxy"],
      fixture("systemctl-is-enabled.partial.stdout.txt"),
      fixture("systemctl-is-enabled.partial.stderr.txt"),
    );
    expect(r).toEqual({
      "proxmox-backup": "enabled",
      cron: "disabled",
      "nosuch.service": "not-found",
      "proxmox-backup-proxy": "unknown",
    });
    expect(parseIsEnabled(["a", "b"], "enabled\nnot-found\n", "")).toEqual({ a: "enabled", b: "not-found" });
    expect(() => parseIsEnabled(["a", "b"], "enabled\n", "")).toThrow(/state line/);
  });

  it("validates unit names", () => {
    expect(isActiveArgv(["pve-cluster", "pve-ha-lrm"])).toEqual([
      "systemctl",
      "is-active",
      "pve-cluster",
      "pve-ha-lrm",
    ]);
    expect(isEnabledArgv(["proxmox-backup-proxy.service"])).toEqual([
      "systemctl",
      "is-enabled",
      "proxmox-backup-proxy.service",
    ]);
    expect(() => isActiveArgv(["--all"])).toThrow(/unit name/);
    expect(() => isActiveArgv(["a b"])).toThrow(/unit name/);
  });
});
