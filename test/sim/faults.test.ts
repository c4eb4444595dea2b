import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;
const UPGRADE =
  "apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(scale = 100): Promise<SimHandle> {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(scale) });
  return sim;
}

describe("faults", () => {
  it("dropConnection tears the connection down while the command runs; a cut dist-upgrade leaves dpkg interrupted", async () => {
    const s = await start(5);
    s.faults.add({ kind: "dropConnection", host: "pve1", match: "dist-upgrade", afterSeconds: 3, times: 1 });
    const r = await run(s, "pve1", UPGRADE);
    expect(r.cut).toBe(true);
    expect(r.code).toBeNull();
    const again = await run(s, "pve1", UPGRADE);
    expect(again).toMatchObject({
      code: 100,
      stderr:
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
    });
    const fix = await run(s, "pve1", "dpkg --configure -a");
    expect(fix.code).toBe(0);
    expect(fix.stdout).toMatch(/^Setting up /m);
    expect((await run(s, "pve1", UPGRADE)).code).toBe(0);
    expect(s.faults.list()).toEqual([]);
  });

  it("hang keeps the command running until the client gives up", async () => {
    const s = await start();
    s.faults.add({ kind: "hang", match: "pvesh get /cluster/status" });
    const c = await SimSsh.connect(s, "pve2");
    const pending = c.exec("pvesh get /cluster/status --output-format json");
    const outcome = await Promise.race([
      pending.then(() => "finished"),
      new Promise((r) => setTimeout(() => r("still running"), 300)),
    ]);
    expect(outcome).toBe("still running");
    c.close();
    expect((await pending).cut).toBe(true);
  });

  it("exit forces the exit code and output of a matching command", async () => {
    const s = await start();
    s.faults.add({
      kind: "exit",
      match: "/^zpool status/",
      exitCode: 1,
      stderr: "internal error: failed to initialize ZFS library\n",
      times: 1,
    });
    expect(await run(s, "pve3", "zpool status -x")).toMatchObject({
      code: 1,
      stderr: "internal error: failed to initialize ZFS library\n",
      stdout: "",
    });
    expect((await run(s, "pve3", "zpool status -x")).stdout).toBe("all pools are healthy\n");
  });

  it("aptLock makes apt-get fail with the lock holder named", async () => {
    const s = await start();
    s.faults.add({ kind: "aptLock", host: "pve2" });
    const up = await run(s, "pve2", UPGRADE);
    expect(up.code).toBe(100);
    expect(up.stderr).toBe(
      "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)\nN: Be aware that removing the lock file is not a solution and may break your system.\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n",
    );
    const upd = await run(s, "pve2", "apt-get update");
    expect(upd.code).toBe(100);
    expect(upd.stderr).toContain("E: Unable to lock directory /var/lib/apt/lists/\n");
    // Root's simulation takes the lock too (apt-private/private-main.cc CheckSimulateMode).
    expect((await run(s, "pve2", "apt-get -s dist-upgrade")).code).toBe(100);
  });

  it("dpkgInterrupted blocks installs until dpkg --configure -a", async () => {
    const s = await start();
    s.faults.add({ kind: "dpkgInterrupted", host: "pve1" });
    expect((await run(s, "pve1", "apt-get --fix-broken install -y")).code).toBe(100);
    expect((await run(s, "pve1", "dpkg --configure -a")).code).toBe(0);
    expect((await run(s, "pve1", "apt-get --fix-broken install -y")).code).toBe(0);
  });

  it("diskFull fills / and apt refuses to download", async () => {
    const s = await start();
    s.faults.add({ kind: "diskFull", host: "pve1" });
    expect((await run(s, "pve1", "df -P -B1 /")).stdout).toMatch(
      / 107374182400 +107374182400 +0 +100% \/\n$/,
    );
    const up = await run(s, "pve1", UPGRADE);
    expect(up).toMatchObject({
      code: 100,
      stderr: "E: You don't have enough free space in /var/cache/apt/archives/.\n",
    });
  });

  it("repoFailure: unreachable warns and exits 0 like apt; unauthorized exits 100", async () => {
    const s = await start();
    const id = s.faults.add({ kind: "repoFailure", host: "pve3" });
    const r = await run(s, "pve3", "apt-get update");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "Err:4 http://download.proxmox.com/debian/pve bookworm InRelease\n  Temporary failure resolving 'download.proxmox.com'\n",
    );
    expect(r.stderr).toContain(
      "W: Some index files failed to download. They have been ignored, or old ones used instead.\n",
    );
    s.faults.remove(id);
    s.faults.add({ kind: "repoFailure", host: "pve3", mode: "unauthorized" });
    const u = await run(s, "pve3", "apt-get update");
    expect(u.code).toBe(100);
    expect(u.stderr).toContain("401  Unauthorized");
  });

  it("slowReturn lengthens the reboot; neverReturns keeps the node down", async () => {
    const s = await start(200);
    s.faults.add({ kind: "slowReturn", host: "pve3", extraSeconds: 300 });
    const clock = s.clock;
    const before = clock.now();
    await run(s, "pve3", "reboot");
    await eventually(() => s.history().reboots.some((r) => r.host === "pve3"), "pve3 to come back");
    const back = s.history().reboots.find((r) => r.host === "pve3")!.at;
    expect(back - before).toBeGreaterThanOrEqual((90 + 300) * 1000);

    s.faults.add({ kind: "neverReturns", host: "pve2" });
    await run(s, "pve2", "reboot");
    await eventually(() => s.snapshot().hosts.pve2!.power === "down", "pve2 down");
    await run(s, "pve1", "sleep 200");
    await expect(SimSsh.connect(s, "pve2")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("crashWhileRebooting takes another node down while one reboots: quorum is lost until the rebooting node is back", async () => {
    const s = await start(100);
    s.faults.add({ kind: "crashWhileRebooting", host: "pve2", rebooting: "pve1", downSeconds: 600 });
    await run(s, "pve1", "systemctl reboot");
    await eventually(() => s.snapshot().hosts.pve2!.power === "down", "pve2 to crash");
    expect(s.snapshot().hosts.pve1!.power).toMatch(/down|booting/);
    const pvecm = (await run(s, "pve3", "pvecm status")).stdout;
    expect(pvecm).toMatch(/^Quorate: +No$/m);
    expect(pvecm).toContain("Total votes:      1\nQuorum:           2 Activity blocked\n");
    const rows = JSON.parse(
      (await run(s, "pve3", "pvesh get /cluster/status --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ quorate: 0 });
    // pve2 lost power: no orderly shutdown, so its guests died with it.
    expect(s.history().reboots.filter((r) => r.host === "pve2")).toEqual([]);
    await eventually(() => s.history().reboots.some((r) => r.host === "pve1"), "pve1 to come back");
    await eventually(
      async () => /^Quorate: +Yes$/m.test((await run(s, "pve3", "pvecm status")).stdout),
      "quorum",
    );
    await eventually(() => s.snapshot().hosts.pve2!.power === "up", "pve2 to power on again");
  });

  it("quorumLoss makes the cluster non-quorate and writes fail", async () => {
    const s = await start();
    s.faults.add({ kind: "quorumLoss", cluster: "pve-lab" });
    const rows = JSON.parse(
      (await run(s, "pve1", "pvesh get /cluster/status --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ quorate: 0 });
    expect(rows.filter((r) => r.type === "node").every((r) => r.online === 1)).toBe(true);
    expect(await run(s, "pve3", "pct start 202")).toMatchObject({
      code: 255,
      stderr: "cluster not ready - no quorum?\n",
    });
    expect(await run(s, "pve1", "ha-manager crm-command node-maintenance enable pve1")).toMatchObject({
      code: 255,
      stderr: "cluster not ready - no quorum?\n",
    });
  });

  it("migrationFailure aborts the migration and the VM stays", async () => {
    const s = await start();
    s.faults.add({
      kind: "migrationFailure",
      vmid: 100,
      message: "VM 100 qmp command 'migrate' failed - got timeout",
    });
    const r = await run(s, "pve1", "qm migrate 100 pve2 --online 1");
    expect(r.code).toBe(255);
    expect(r.stdout).toContain(
      "ERROR: online migrate failure - VM 100 qmp command 'migrate' failed - got timeout",
    );
    expect(r.stderr).toBe("migration problems\n");
    expect(s.snapshot().guests["100"]).toMatchObject({ node: "pve1", status: "running" });
    expect(s.history().migrations).toMatchObject([{ vmid: 100, ok: false }]);
  });

  it("snapshotUnsupported refuses snapshots as storage without snapshots does", async () => {
    const s = await start();
    s.faults.add({ kind: "snapshotUnsupported", vmid: 100 });
    expect(await run(s, "pve1", "qm snapshot 100 pre")).toMatchObject({
      code: 255,
      stderr: "snapshot feature is not available\n",
    });
  });

  it("serviceFailed shows the service failed until the fault is removed", async () => {
    const s = await start();
    const id = s.faults.add({ kind: "serviceFailed", host: "pve2", service: "pveproxy" });
    expect(await run(s, "pve2", "systemctl is-active pve-cluster pveproxy")).toMatchObject({
      code: 3,
      stdout: "active\nfailed\n",
    });
    s.faults.remove(id);
    expect((await run(s, "pve2", "systemctl is-active pveproxy")).code).toBe(0);
  });

  it("rejects an invalid fault with a message naming the field", () => {
    return start().then((s) => {
      expect(() => s.faults.add({ kind: "slowReturn", host: "pve1", extraSeconds: -1 })).toThrow(
        /extraSeconds/,
      );
    });
  });
});
