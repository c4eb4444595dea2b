/**
 * Snapshot, vzdump, restore and pruning as real Proxmox does them (pve-guest-common AbstractConfig,
 * pve-container, PVE::VZDump, pve-storage; see src/sim/REFERENCE-snapshots-backup.md), checked
 * with the parsers and outcome readers the controller uses on that output.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { parseBackupContent } from "../../src/pve/backup.js";
import { parseSnapshotList } from "../../src/pve/snapshots.js";
import { guestTasksArgv, parseTaskList } from "../../src/pve/tasks.js";
import { resumeRollback } from "../../controller/guest-update/backup/resume.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import {
  deleteSnapshotOutcome,
  restoreOutcome,
  snapshotOutcome,
  vzdumpOutcome,
} from "../../controller/guest-update/backup/results.js";
import { backupsToPrune, ownArchives, ownSnapshots } from "../../controller/guest-update/backup/retention.js";
import { retentionSpec } from "../../src/api/backup.js";
import { eventually, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/backups.yaml", import.meta.url).pathname;
let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(20) });
});
afterAll(async () => {
  await sim?.stop();
});

const pve1 = (argv: string[]) => run(sim, "pve1", quoteArgv(argv));
const result = (r: { code: number | null; stdout: string; stderr: string }) => ({
  exitCode: r.code ?? 255,
  stdout: r.stdout,
  stderr: r.stderr,
});
const lockOf = (vmid: number) => sim.world.state.guests[String(vmid)]?.lock;

describe("pct snapshot", () => {
  it("refuses a container with a mount point on storage without snapshots, and leaves no lock", async () => {
    const r = await pve1([
      "pct",
      "snapshot",
      "121",
      "refit-apps-20260101000000",
      "--description",
      "Taken by Refit",
    ]);
    expect(r).toMatchObject({ code: 255, stderr: "snapshot feature is not available\n" });
    expect(snapshotOutcome(result(r), 121, "refit-apps-20260101000000")).toMatchObject({
      ok: false,
      reason: "SnapshotUnsupported",
      retryable: false,
    });
    expect(lockOf(121)).toBeUndefined();
    expect(parseSnapshotList((await pve1(["pct", "listsnapshot", "121"])).stdout).snapshots).toEqual([]);
  });

  it("holds the snapshot lock while it runs: a second snapshot, a delete (even --force) and a vzdump are refused meanwhile", async () => {
    const first = pve1([
      "pct",
      "snapshot",
      "120",
      "refit-apps-20260101000000",
      "--description",
      "Taken by Refit\nsecond line",
    ]);
    await eventually(() => Promise.resolve(lockOf(120) === "snapshot"), "the snapshot lock");
    const tasks = parseTaskList(
      (await pve1(["pvesh", "get", "/nodes/pve1/tasks", "--source", "active", "--output-format", "json"]))
        .stdout,
    );
    expect(tasks.filter((t) => t.running && t.type === "vzsnapshot").map((t) => t.id)).toEqual(["120"]);
    const second = await pve1(["pct", "snapshot", "120", "refit-apps-20260101000001"]);
    expect(second).toMatchObject({ code: 255, stderr: "CT is locked (snapshot)\n" });
    expect(snapshotOutcome(result(second), 120, "refit-apps-20260101000001")).toMatchObject({
      reason: "Locked",
      retryable: true,
      lock: "snapshot",
    });
    const del = await pve1(["pct", "delsnapshot", "120", "before-upgrade", "--force", "1"]);
    expect(del).toMatchObject({ code: 255, stderr: "CT is locked (snapshot)\n" });
    const dump = await pve1(["vzdump", "120", "--storage", "local"]);
    expect(dump.code).toBe(255);
    expect(vzdumpOutcome(result(dump), 120, "local")).toMatchObject({ reason: "Locked", lock: "snapshot" });
    expect((await first).code).toBe(0);
    expect(lockOf(120)).toBeUndefined();
  });

  it("reserves current and vzdump, and refuses a name already used", async () => {
    expect(await pve1(["pct", "snapshot", "120", "vzdump"])).toMatchObject({
      code: 255,
      stderr: "unable to use snapshot name 'vzdump' (reserved name)\n",
    });
    expect(await pve1(["pct", "snapshot", "120", "current"])).toMatchObject({
      code: 255,
      stderr: "unable to use snapshot name 'current' (reserved name)\n",
    });
    const again = await pve1(["pct", "snapshot", "120", "refit-apps-20260101000000"]);
    expect(again).toMatchObject({
      code: 255,
      stderr: "snapshot name 'refit-apps-20260101000000' already used\n",
    });
    expect(snapshotOutcome(result(again), 120, "refit-apps-20260101000000")).toMatchObject({
      reason: "SnapshotExists",
    });
  });

  it("lists the tree with the description's first line, as the controller's parser reads it", async () => {
    const list = parseSnapshotList((await pve1(["pct", "listsnapshot", "120"])).stdout);
    expect(list.snapshots.map((s) => [s.name, s.parent, s.description])).toEqual([
      ["before-upgrade", undefined, "manual, keep"],
      ["refit-apps-20260101000000", "before-upgrade", "Taken by Refit"],
    ]);
    expect(list.currentParent).toBe("refit-apps-20260101000000");
  });
});

describe("pct rollback", () => {
  it("stops the running container, restores it, and starts it only with --start", async () => {
    await pve1(["pct", "exec", "120", "--", "systemctl", "stop", "nginx"]);
    const r = await pve1(["pct", "rollback", "120", "refit-apps-20260101000000"]);
    expect(r.code).toBe(0);
    expect(sim.world.state.guests["120"]?.status).toBe("stopped");
    expect((await pve1(["pct", "start", "120"])).code).toBe(0);
    expect((await pve1(["pct", "exec", "120", "--", "systemctl", "is-active", "nginx"])).stdout).toBe(
      "active\n",
    );
    await pve1(["pct", "exec", "120", "--", "systemctl", "stop", "nginx"]);
    const beforeSecond = sim.clock.now();
    expect((await pve1(["pct", "rollback", "120", "refit-apps-20260101000000", "--start", "1"])).code).toBe(
      0,
    );
    expect(sim.world.state.guests["120"]?.status).toBe("running");
    expect((await pve1(["pct", "exec", "120", "--", "systemctl", "is-active", "nginx"])).stdout).toBe(
      "active\n",
    );
    // The rollback's worker task is what proves it after a crash.
    const tasks = parseTaskList((await pve1(guestTasksArgv("pve1", 120))).stdout);
    expect(tasks.filter((t) => t.type === "vzrollback").map((t) => t.status)).toEqual(["OK", "OK"]);
    expect(
      resumeRollback({
        vmid: 120,
        intent: { kind: "snapshot", name: "refit-apps-20260101000000" },
        since: beforeSecond,
        lock: undefined,
        tasks,
        running: true,
      }),
    ).toEqual({ kind: "done", steps: [] });
  });

  it("on ZFS refuses any but the most recent snapshot", async () => {
    const r = await pve1(["pct", "rollback", "120", "before-upgrade"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(
      /^can't rollback, 'before-upgrade' is not most recent snapshot on 'local-zfs:subvol-120-disk-0'\n$/,
    );
  });
});

describe("pct delsnapshot", () => {
  it("--force does not bypass someone else's lock; a deleted snapshot is reported as such", async () => {
    sim.world.state.guests["120"]!.lock = "backup";
    const locked = await pve1(["pct", "delsnapshot", "120", "refit-apps-20260101000000", "--force", "1"]);
    expect(locked).toMatchObject({ code: 255, stderr: "CT is locked (backup)\n" });
    expect(deleteSnapshotOutcome(result(locked), 120, "refit-apps-20260101000000")).toMatchObject({
      reason: "Locked",
      lock: "backup",
    });
    sim.world.state.guests["120"]!.lock = undefined;
    expect((await pve1(["pct", "delsnapshot", "120", "refit-apps-20260101000000"])).code).toBe(0);
    const gone = await pve1(["pct", "delsnapshot", "120", "refit-apps-20260101000000"]);
    expect(gone).toMatchObject({
      code: 255,
      stderr: "snapshot 'refit-apps-20260101000000' does not exist\n",
    });
    expect(deleteSnapshotOutcome(result(gone), 120, "refit-apps-20260101000000").ok).toBe(true);
    expect(
      parseSnapshotList((await pve1(["pct", "listsnapshot", "120"])).stdout).snapshots.map((s) => s.name),
    ).toEqual(["before-upgrade"]);
  });
});

describe("vzdump and pct restore", () => {
  const notes = (name: string) => `${name} taken by Refit before updating CT {{vmid}} on {{node}}`;

  it("backs up in snapshot mode when only rootfs is backed up; writes the notes; the listing shows them", async () => {
    const r = await pve1([
      "vzdump",
      "121",
      "--mode",
      "snapshot",
      "--storage",
      "nas",
      "--compress",
      "zstd",
      "--notes-template",
      notes("refit-apps-20260102000000"),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("INFO: backup mode: snapshot\n");
    expect(r.stderr).toContain("INFO: adding notes to backup\n");
    const o = vzdumpOutcome(result(r), 121, "nas");
    expect(o.ok && o.volid).toMatch(/^nas:backup\/vzdump-lxc-121-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.tar\.zst$/);
    const listed = parseBackupContent(
      (
        await pve1([
          "pvesh",
          "get",
          "/nodes/pve1/storage/nas/content",
          "--content",
          "backup",
          "--vmid",
          "121",
          "--output-format",
          "json",
        ])
      ).stdout,
    );
    expect(listed).toMatchObject([
      { vmid: 121, notes: "refit-apps-20260102000000 taken by Refit before updating CT 121 on pve1" },
    ]);
    expect(ownArchives(listed, "apps", 121).map((b) => b.name)).toEqual(["refit-apps-20260102000000"]);
  });

  it("falls back to suspend mode when a backed-up mount point cannot be snapshotted", async () => {
    const r = await pve1(["vzdump", "122", "--mode", "snapshot", "--storage", "nas"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "INFO: mode failure - some volumes do not support snapshots\nINFO: trying 'suspend' mode instead\nINFO: backup mode: suspend\n",
    );
  });

  it("refuses a notes template PVE::VZDump would refuse, before backing anything up", async () => {
    const r = await pve1(["vzdump", "121", "--storage", "nas", "--notes-template", "by {{user}}"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(
      /^400 Parameter verification failed\.\nnotes-template: found unknown: variable 'user' at char 7\n/,
    );
  });

  it("restores over the existing container only when stopped and with --force", async () => {
    const listed = parseBackupContent(
      (
        await pve1([
          "pvesh",
          "get",
          "/nodes/pve1/storage/nas/content",
          "--content",
          "backup",
          "--vmid",
          "121",
          "--output-format",
          "json",
        ])
      ).stdout,
    );
    const volid = listed[0]!.volid;
    const running = await pve1(["pct", "restore", "121", volid, "--storage", "local-zfs", "--force", "1"]);
    expect(running).toMatchObject({ code: 255, stderr: "can't overwrite running container\n" });
    expect(restoreOutcome(result(running), 121, volid)).toMatchObject({ reason: "GuestRunning" });
    expect((await pve1(["pct", "stop", "121"])).code).toBe(0);
    expect(await pve1(["pct", "restore", "121", volid, "--storage", "local-zfs"])).toMatchObject({
      code: 255,
      stderr: "CT 121 already exists on node 'pve1'\n",
    });
    sim.world.state.guests["121"]!.lock = "mounted";
    expect(
      await pve1(["pct", "restore", "121", volid, "--storage", "local-zfs", "--force", "1"]),
    ).toMatchObject({ code: 255, stderr: "unable to restore CT 121 - CT is locked (mounted)\n" });
    sim.world.state.guests["121"]!.lock = undefined;
    const before = sim.clock.now();
    const ok = await pve1(["pct", "restore", "121", volid, "--storage", "local-zfs", "--force", "1"]);
    expect(ok.code).toBe(0);
    const tasks = parseTaskList((await pve1(guestTasksArgv("pve1", 121))).stdout);
    expect(
      resumeRollback({
        vmid: 121,
        intent: { kind: "vzdump", volid },
        since: before,
        lock: undefined,
        tasks,
        running: false,
      }),
    ).toMatchObject({ kind: "done" });
    expect(lockOf(121)).toBeUndefined();
    expect((await pve1(["pct", "start", "121"])).code).toBe(0);
  });
});

describe("retention against the simulator", () => {
  it("prunes Refit's own snapshots and archives to keepLast, never the operator's", async () => {
    for (const stamp of ["20260103000000", "20260104000000", "20260105000000"])
      expect(
        (await pve1(["pct", "snapshot", "120", `refit-apps-${stamp}`, "--description", "Taken by Refit"]))
          .code,
      ).toBe(0);
    const list = parseSnapshotList((await pve1(["pct", "listsnapshot", "120"])).stdout);
    const decision = backupsToPrune(
      ownSnapshots(list, "apps"),
      retentionSpec.parse({ keepLast: 1 }),
      Date.parse("2026-01-06T00:00:00Z"),
    );
    expect(decision.prune.map((b) => b.ref)).toEqual([
      "refit-apps-20260103000000",
      "refit-apps-20260104000000",
    ]);
    for (const b of decision.prune) expect((await pve1(["pct", "delsnapshot", "120", b.ref])).code).toBe(0);
    const after = parseSnapshotList((await pve1(["pct", "listsnapshot", "120"])).stdout);
    expect(after.snapshots.map((s) => s.name)).toEqual(["before-upgrade", "refit-apps-20260105000000"]);

    const volid = parseBackupContent(
      (
        await pve1([
          "pvesh",
          "get",
          "/nodes/pve1/storage/nas/content",
          "--content",
          "backup",
          "--vmid",
          "121",
          "--output-format",
          "json",
        ])
      ).stdout,
    )[0]!.volid;
    const removed = await pve1(["pvesm", "free", volid]);
    expect(removed).toMatchObject({ code: 0, stdout: `Removed volume '${volid}'\n` });
    const again = await pve1(["pvesm", "free", volid]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(
      /^disk image '\/mnt\/pve\/nas\/dump\/vzdump-lxc-121-.*\.tar\.zst' does not exist\n$/,
    );
  });
});
