import { describe, expect, it } from "vitest";
import { PveActions } from "../../src/pve/actions.js";
import { CommandFailedError, CommandMissingError, UnparseableOutputError } from "../../src/pve/errors.js";
import { PveReader } from "../../src/pve/reader.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { LocalShExec, ScriptedExec, StubBin, fixture, type Reply } from "./helpers.js";

const ok = (stdout: string): Reply => ({ stdout });

// Every read PveReader can send, answered with fixtures.
const READS: Record<string, Reply> = {
  "pvesh get /cluster/status --output-format json": ok(fixture("cluster-status.exporter.json.out")),
  "pvecm status": ok(fixture("pvecm-status.cli.txt")),
  "pvesh get /cluster/resources --output-format json": ok(fixture("cluster-resources.exporter.json.out")),
  "pvesh get /nodes/pve1/status --output-format json": ok(fixture("node-status.proxcenter.json.out")),
  "cat /proc/sys/kernel/random/boot_id": ok(fixture("boot-id.txt")),
  "uname -r": ok(fixture("uname-r.txt")),
  "proxmox-boot-tool kernel list": ok(fixture("boot-tool.auto.txt")),
  "test -e /var/run/reboot-required": { exitCode: 0 },
  "cat /var/run/reboot-required.pkgs": ok("libc6\n"),
  "LC_ALL=C apt-get -o DPkg::Lock::Timeout=10 -s dist-upgrade": ok(
    fixture("apt-s-dist-upgrade.bookworm.txt"),
  ),
  "zpool status -x": { stderr: "no pools available\n" },
  "df -P -B1 /": ok(fixture("df-root.zfs.txt")),
  "pvesh get /nodes/pve1/tasks --source active --output-format json": ok(fixture("tasks-active.json.out")),
  pveversion: ok(fixture("pveversion.txt")),
  "pvesh get /cluster/ha/status/manager_status --output-format json": ok(
    fixture("ha-manager-status.json.out"),
  ),
  "pvesh get /cluster/ha/status/current --output-format json": ok(fixture("ha-current.json.out")),
  "pvesh get /nodes/pve1/qemu/100/config --output-format json": ok(fixture("qemu-config.local.json.out")),
  "pvesh get /nodes/pve1/lxc/101/config --output-format json": ok(fixture("lxc-config.local.json.out")),
  "pvesh get /nodes/pve1/qemu/102/status/current --output-format json": ok(
    fixture("guest-status.qemu.json.out"),
  ),
  "pvesh get /nodes/pve1/lxc/101/status/current --output-format json": ok(
    fixture("guest-status.lxc-stopped.json.out"),
  ),
  "pct listsnapshot 101": ok(fixture("listsnapshot.rendered.txt")),
  "qm listsnapshot 100": ok("`-> current                                           You are here!\n"),
  "proxmox-backup-manager versions --output-format json": ok(fixture("pbs-versions.json.out")),
  "proxmox-backup-manager task list --output-format json": ok(fixture("pbs-task-list.rendered.json.out")),
  "systemctl is-active pve-cluster pvedaemon corosync": {
    stdout: fixture("systemctl-is-active.txt"),
    exitCode: 3,
  },
  "systemctl is-enabled proxmox-backup cron nosuch.service proxmox-backup-proxy": {
    stdout: fixture("systemctl-is-enabled.partial.stdout.txt"),
    stderr: fixture("systemctl-is-enabled.partial.stderr.txt"),
    exitCode: 1,
  },
};

async function readEverything(r: PveReader): Promise<void> {
  await r.clusterStatus();
  await r.quorum();
  await r.resources();
  await r.nodeStatus("pve1");
  await r.bootId();
  await r.runningKernel();
  await r.bootKernels();
  await r.rebootFlag();
  await r.pendingUpdates();
  await r.zfsHealth();
  await r.rootDisk();
  await r.activeTasks("pve1");
  await r.pveVersion();
  await r.haManagerStatus();
  await r.haCurrent();
  const storages = new Map([["local-lvm", false]]);
  await r.guestConfig("pve1", "qemu", 100, storages);
  await r.guestConfig("pve1", "lxc", 101, storages);
  await r.guestStatus("pve1", "qemu", 102);
  await r.guestStatus("pve1", "lxc", 101);
  await r.snapshots("lxc", 101);
  await r.snapshots("qemu", 100);
  await r.pbsVersions();
  await r.pbsPresent();
  await r.pbsRunningTasks();
  await r.servicesActive(["pve-cluster", "pvedaemon", "corosync"]);
  await r.servicesEnabled(["proxmox-backup", "cron", "nosuch.service", "proxmox-backup-proxy"]);
}

describe("PveReader", () => {
  it("sends only the read-only commands of COMMANDS.md, each with a timeout", async () => {
    const exec = new ScriptedExec("pve1", READS);
    await readEverything(new PveReader(exec));
    const sent = new Set(exec.calls.map((c) => c.line));
    expect([...sent].sort()).toEqual(Object.keys(READS).sort());
    for (const c of exec.calls) expect(c.opts?.timeoutMs, c.line).toBeGreaterThan(0);
  });

  it("returns typed values", async () => {
    const r = new PveReader(new ScriptedExec("pve1", READS));
    expect(await r.quorum()).toMatchObject({ kind: "cluster", name: "pvec", votes: { totalVotes: 3 } });
    expect(await r.rebootFlag()).toEqual({ required: true, packages: ["libc6"] });
    expect(await r.zfsHealth()).toEqual({ state: "no-pools" });
    expect(await r.guestStatus("pve1", "qemu", 102)).toMatchObject({
      status: "running",
      haManaged: true,
      haState: "started",
    });
    expect(await r.guestStatus("pve1", "lxc", 101)).toMatchObject({
      status: "stopped",
      lock: "snapshot",
      haManaged: false,
    });
    expect((await r.pbsRunningTasks()).map((t) => t.workerType)).toEqual(["backup"]);
    expect(await r.servicesActive(["pve-cluster", "pvedaemon", "corosync"])).toMatchObject({
      pvedaemon: "inactive",
    });
    const cfg = await r.guestConfig("pve1", "qemu", 100, new Map([["local-lvm", false]]));
    expect(cfg.lock).toBe("backup");
  });

  it("models a standalone node: no cluster row, pvecm fails", async () => {
    const r = new PveReader(
      new ScriptedExec("pve", {
        "pvesh get /cluster/status --output-format json": ok(fixture("cluster-status.standalone.json.out")),
        "pvecm status": { stderr: fixture("pvecm-status.standalone.txt"), exitCode: 2 },
      }),
    );
    expect(await r.quorum()).toMatchObject({ kind: "standalone", nodes: [{ name: "pve" }] });
  });

  it("does not take a host without pvecm for a standalone node", async () => {
    const r = new PveReader(
      new ScriptedExec("deb1", {
        "pvesh get /cluster/status --output-format json": ok(fixture("cluster-status.standalone.json.out")),
      }),
    );
    await expect(r.quorum()).rejects.toThrow(CommandMissingError);
  });

  it("names the program, not an environment assignment, when it is missing", async () => {
    await expect(new PveReader(new ScriptedExec("deb1")).pendingUpdates()).rejects.toThrow(
      /`apt-get` is not installed on deb1/,
    );
  });

  it("reports PBS absence as false, and other failures as errors", async () => {
    expect(await new PveReader(new ScriptedExec("pve1")).pbsPresent()).toBe(false);
    const broken = new ScriptedExec("pbs1", {
      "proxmox-backup-manager versions --output-format json": {
        stderr: "Error: permission denied\n",
        exitCode: 255,
      },
    });
    await expect(new PveReader(broken).pbsPresent()).rejects.toThrow(CommandFailedError);
  });

  it("treats output cut by the capture bound as unreadable", async () => {
    const r = new PveReader(
      new ScriptedExec("pve1", {
        "pvesh get /cluster/resources --output-format json": {
          stdout: '{"id":"qemu/1"}]',
          stdoutTruncated: true,
        },
      }),
    );
    await expect(r.resources()).rejects.toThrow(UnparseableOutputError);
  });

  it("reads real local facts through a shell", async () => {
    const r = new PveReader(new LocalShExec());
    expect(await r.bootId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(await r.runningKernel()).toBe((await import("node:os")).release());
    await expect(r.zfsHealth()).rejects.toThrow(CommandMissingError);
  });
});

const MUTATIONS: Record<string, Reply> = {};
function action(line: string, reply: Reply = {}): string {
  MUTATIONS[line] = reply;
  return line;
}

describe("PveActions", () => {
  it("sends the exact argv of every mutating operation, each with a timeout", async () => {
    const expected = [
      action("apt-get update"),
      action("ha-manager crm-command node-maintenance enable pve2"),
      action("ha-manager crm-command node-maintenance disable pve2"),
      action("qm migrate 100 pve3 --online 1 --with-local-disks 1"),
      action("qm migrate 102 pve3 --online 1"),
      action("pct migrate 101 pve3 --restart 1 --timeout 120"),
      action("ha-manager migrate vm:103 pve1"),
      action("ha-manager migrate ct:104 pve1"),
      action("pct snapshot 101 refit-web-20250102031500 --description 'Refit: before update'"),
      action("qm delsnapshot 100 refit-web-20250102031500"),
      action("pct rollback 101 refit-web-20250102031500 --start 1"),
      action("vzdump 101 --mode snapshot --storage local --compress zstd", {
        stderr: fixture("vzdump-lxc.txt"),
      }),
      action(
        "pct restore 101 local:backup/vzdump-lxc-101-2025_03_19-10_00_00.tar.zst --storage local-zfs --force 1",
      ),
      action("qmrestore pbs1:backup/vm/100/2025-03-19T10:10:00Z 100 --storage local-lvm --force 1"),
      action("pct exec 101 -- sh -c 'apt-get update && apt-get -y dist-upgrade'"),
      action("qm reboot 102 --timeout 300"),
      action("pct shutdown 101 --timeout 60"),
      action("qm start 102"),
      action("pct stop 101"),
    ];
    const exec = new ScriptedExec("pve2", MUTATIONS);
    const a = new PveActions(exec);
    await a.refreshPackageIndex();
    await a.setNodeMaintenance("pve2", true);
    await a.setNodeMaintenance("pve2", false);
    await a.migrateVm(100, "pve3", { withLocalDisks: true });
    await a.migrateVm(102, "pve3");
    await a.migrateCt(101, "pve3", { timeoutSec: 120 });
    await a.haMigrate("qemu", 103, "pve1");
    await a.haMigrate("lxc", 104, "pve1");
    await a.createSnapshot("lxc", 101, "refit-web-20250102031500", { description: "Refit: before update" });
    await a.deleteSnapshot("qemu", 100, "refit-web-20250102031500");
    await a.rollbackSnapshot("lxc", 101, "refit-web-20250102031500", { start: true });
    const archive = await a.vzdump(101, { storage: "local" });
    expect(archive.volid).toBe("local:backup/vzdump-lxc-101-2025_03_19-10_00_00.tar.zst");
    await a.restore("lxc", 101, archive.volid, { storage: "local-zfs" });
    await a.restore("qemu", 100, "pbs1:backup/vm/100/2025-03-19T10:10:00Z", { storage: "local-lvm" });
    await a.pctExec(101, ["sh", "-c", "apt-get update && apt-get -y dist-upgrade"]);
    await a.guestPower("qemu", "reboot", 102, { timeoutSec: 300 });
    await a.guestPower("lxc", "shutdown", 101, { timeoutSec: 60 });
    await a.guestPower("qemu", "start", 102);
    await a.guestPower("lxc", "stop", 101);
    expect(exec.calls.map((c) => c.line)).toEqual(expected);
    for (const c of exec.calls) expect(c.opts?.timeoutMs, c.line).toBeGreaterThan(0);
    // The CLI waits up to --timeout; the exec waits longer than that.
    expect(exec.calls.find((c) => c.line === "qm reboot 102 --timeout 300")?.opts?.timeoutMs).toBeGreaterThan(
      300_000,
    );
  });

  it("classifies failures: lock held and guest locked retry, a missing command does not", async () => {
    const exec = new ScriptedExec("pve1", {
      "apt-get update": { stderr: fixture("apt-lock-held.stderr.txt"), exitCode: 100 },
      "qm migrate 100 pve3 --online 1": { stderr: "VM 100 is locked (backup)\n", exitCode: 255 },
      "pct snapshot 101 pre": {
        stderr:
          "trying to acquire lock...\ncan't lock file '/var/lock/lxc/pve-config-101.lock' - got timeout\n",
        exitCode: 255,
      },
      "qm start 102": { stderr: "", exitCode: null },
      "pct stop 101": { stderr: "CT 101 not running\n", exitCode: 2 },
    });
    const a = new PveActions(exec);
    await expect(a.refreshPackageIndex()).rejects.toMatchObject({
      reason: "LockHeld",
      retryable: true,
      exitCode: 100,
    });
    await expect(a.migrateVm(100, "pve3")).rejects.toMatchObject({ reason: "GuestLocked", retryable: true });
    await expect(a.createSnapshot("lxc", 101, "pre")).rejects.toMatchObject({ reason: "LockHeld" });
    await expect(a.guestPower("qemu", "start", 102)).rejects.toMatchObject({
      reason: "CommandKilled",
      retryable: true,
    });
    await expect(a.guestPower("lxc", "stop", 101)).rejects.toMatchObject({
      reason: "CommandFailed",
      exitCode: 2,
      outputTail: "CT 101 not running",
    });
    await expect(a.haMigrate("lxc", 101, "pve2")).rejects.toMatchObject({
      reason: "CommandMissing",
      retryable: false,
    });
  });

  it("refuses option-like or malformed arguments before sending anything", async () => {
    const exec = new ScriptedExec("pve1");
    const a = new PveActions(exec);
    await expect(a.migrateVm(100, "--force")).rejects.toMatchObject({
      reason: "InvalidArgument",
      retryable: false,
    });
    await expect(a.createSnapshot("lxc", 101, "x; rm -rf /")).rejects.toMatchObject({
      reason: "InvalidArgument",
    });
    await expect(a.vzdump(99, { storage: "local" })).rejects.toMatchObject({ reason: "InvalidArgument" });
    expect(exec.calls).toEqual([]);
  });

  it("hands pct exec's argv to the container untouched through a real shell, whatever the exit code", async () => {
    // `pct` stand-in: drop "exec <vmid> --" and run the rest, as pct does inside the container.
    const stubs = new StubBin().add("pct", `[ "$1" = exec ] && [ "$3" = -- ] || exit 2; shift 3; exec "$@"`);
    try {
      const a = new PveActions(new LocalShExec("pve1", stubs.env()));
      const r = await a.pctExec(101, ["printf", "%s|", "a b", "it's", "$HOME", "*", "`id`", ""]);
      expect(r.stdout).toBe("a b|it's|$HOME|*|`id`||");
      const failed = await a.pctExec(101, ["sh", "-c", "exit 7"]);
      expect(failed.exitCode).toBe(7);
      expect(quoteArgv(["pct", "exec", "101", "--", "a b"])).toBe("pct exec 101 -- 'a b'");
    } finally {
      stubs.remove();
    }
  });
});
