import { describe, expect, it } from "vitest";
import {
  haMasterAlive,
  haMigrateArgv,
  haStatusState,
  lrmStates,
  nodeInMaintenance,
  nodeMaintenanceArgv,
  parseHaCurrent,
  parseHaManagerStatus,
} from "../../src/pve/ha.js";
import { activeTasksArgv, parseTaskList, parseUpid, runningTasks } from "../../src/pve/tasks.js";
import { fixture } from "./helpers.js";

describe("active tasks", () => {
  it("reads rows, fills gaps from the UPID and tells running from finished", () => {
    const tasks = parseTaskList(fixture("tasks-active.json.out"));
    expect(tasks.map((t) => [t.type, t.id, t.running])).toEqual([
      ["qmigrate", "100", true],
      ["vzdump", "104", true],
      ["aptupdate", "", false],
    ]);
    expect(tasks[1]).toMatchObject({ node: "pve1", user: "root@pam", startTime: 0x67da9c20 });
    expect(runningTasks(tasks)).toHaveLength(2);
    expect(parseTaskList("[]")).toEqual([]);
  });

  it("splits a UPID and rejects other strings", () => {
    expect(parseUpid("UPID:pve1:00013D52:0095BA79:67DA9C10:qmigrate:100:root@pam:")).toEqual({
      node: "pve1",
      pid: 0x13d52,
      startTime: 0x67da9c10,
      type: "qmigrate",
      id: "100",
      user: "root@pam",
    });
    expect(parseUpid("not-a-upid")).toBeUndefined();
  });

  it("asks pvesh for the active source of one node", () => {
    expect(activeTasksArgv("pve2")).toEqual([
      "pvesh",
      "get",
      "/nodes/pve2/tasks",
      "--source",
      "active",
      "--output-format",
      "json",
    ]);
  });
});

describe("HA", () => {
  it("reads manager_status: master, node states, services, LRM modes, string quorate", () => {
    const m = parseHaManagerStatus(fixture("ha-manager-status.json.out"));
    expect(m).toMatchObject({ configured: true, masterNode: "pve1", quorate: true, timestamp: 1742378402 });
    expect(m.nodeStatus).toEqual({ pve1: "online", pve2: "maintenance", pve3: "online" });
    expect(m.services["vm:101"]).toEqual({ node: "pve2", state: "migrate" });
    expect(m.lrm.pve2).toEqual({ mode: "maintenance", state: "active", timestamp: 1742378401 });
    expect(nodeInMaintenance(m, "pve2")).toBe(true);
    expect(nodeInMaintenance(m, "pve1")).toBe(false);
  });

  it("sees HA that was never configured", () => {
    const m = parseHaManagerStatus(fixture("ha-manager-status.unconfigured.json.out"));
    expect(m).toMatchObject({
      configured: false,
      masterNode: undefined,
      nodeStatus: {},
      services: {},
      quorate: true,
    });
  });

  it("reads status/current rows, LRM states and keeps unknown row types (§4)", () => {
    const rows = parseHaCurrent(fixture("ha-current.json.out"));
    expect(rows.map((r) => r.type)).toEqual([
      "quorum",
      "master",
      "lrm",
      "lrm",
      "lrm",
      "lrm",
      "service",
      "service",
      "other",
    ]);
    expect(lrmStates(rows)).toEqual({
      pve1: "active",
      pve2: "maintenance mode",
      pve3: "old timestamp - dead?",
      pve4: "unable to read lrm status",
    });
    expect(rows.find((r) => r.type === "service")).toMatchObject({
      sid: "vm:100",
      node: "pve1",
      state: "started",
      crmState: "started",
    });
    expect(rows[8]).toMatchObject({ type: "other", rowType: "fencing", status: "armed" });
    expect(haMasterAlive(rows)).toBe(true);
  });

  it("sees a dead master and lost quorum", () => {
    const rows = parseHaCurrent(fixture("ha-current.master-dead.json.out"));
    expect(haMasterAlive(rows)).toBe(false);
    expect(rows[0]).toMatchObject({ type: "quorum", quorate: false, status: "No quorum on node 'pve2'!" });
    expect(haMasterAlive([])).toBe(false);
  });

  it("extracts the state word from status strings", () => {
    expect(haStatusState("pve1 (active, Tue Mar 18 10:00:00 2025) - static load CRS")).toBe("active");
    expect(haStatusState("pve1 (old timestamp - dead?)")).toBe("old timestamp - dead?");
    expect(haStatusState("garbage")).toBeUndefined();
  });

  it("builds maintenance and migration commands", () => {
    expect(nodeMaintenanceArgv("pve2", true)).toEqual([
      "ha-manager",
      "crm-command",
      "node-maintenance",
      "enable",
      "pve2",
    ]);
    expect(nodeMaintenanceArgv("pve2", false)).toEqual([
      "ha-manager",
      "crm-command",
      "node-maintenance",
      "disable",
      "pve2",
    ]);
    expect(haMigrateArgv("qemu", 100, "pve3")).toEqual(["ha-manager", "migrate", "vm:100", "pve3"]);
    expect(haMigrateArgv("lxc", 104, "pve1")).toEqual(["ha-manager", "migrate", "ct:104", "pve1"]);
    expect(() => haMigrateArgv("lxc", 104, "--force")).toThrow(/node name/);
  });
});
