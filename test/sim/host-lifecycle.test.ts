import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;
const UPGRADE =
  "DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(scale = 100): Promise<SimHandle> {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(scale) });
  return sim;
}

function instLines(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("Inst "));
}

describe("apt on a node", () => {
  it("shows pending packages in simulation and none after a dist-upgrade, which installs but does not boot the new kernel", async () => {
    const s = await start();
    const pve1 = await SimSsh.connect(s, "pve1");
    try {
      const before = await pve1.exec("LC_ALL=C apt-get -s dist-upgrade");
      expect(before.code).toBe(0);
      expect(before.stdout).toContain(
        "The following NEW packages will be installed:\n  proxmox-kernel-6.8.12-10-pve-signed\n",
      );
      expect(before.stdout).toContain("2 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n");
      expect(instLines(before.stdout)).toEqual([
        "Inst proxmox-kernel-6.8.12-10-pve-signed (6.8.12-10 Proxmox:bookworm/pve-no-subscription [amd64])",
        "Inst proxmox-kernel-6.8 [6.8.12-9] (6.8.12-10 Proxmox:bookworm/pve-no-subscription [all])",
        "Inst pve-manager [8.4.1] (8.4.2 Proxmox:bookworm/pve-no-subscription [amd64])",
      ]);
      expect((await run(s, "pve3", "apt-get -s dist-upgrade")).stdout).toContain(
        "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n",
      );

      const up = await pve1.exec(UPGRADE);
      expect(up.code).toBe(0);
      expect(up.stdout).toContain("Unpacking pve-manager (8.4.2) over (8.4.1) ...\n");
      expect(up.stdout).toContain("Setting up proxmox-kernel-6.8.12-10-pve-signed (6.8.12-10) ...\n");

      const after = await pve1.exec("apt-get -s dist-upgrade");
      expect(instLines(after.stdout)).toEqual([]);
      expect((await pve1.exec("dpkg-query -W pve-manager")).stdout).toBe("pve-manager\t8.4.2\n");
      expect((await pve1.exec("pveversion")).stdout).toMatch(
        /^pve-manager\/8\.4\.2\/[0-9a-f]{16} \(running kernel: 6\.8\.12-9-pve\)\n$/,
      );
      expect((await pve1.exec("uname -r")).stdout).toBe("6.8.12-9-pve\n");
      expect((await pve1.exec("proxmox-boot-tool kernel list")).stdout).toContain(
        "6.8.12-9-pve\n6.8.12-10-pve\n",
      );
      // Plain PVE (no reboot-notifier) does not flag the reboot.
      expect((await pve1.exec("test -e /var/run/reboot-required")).code).toBe(1);
    } finally {
      pve1.close();
    }
  });

  it("sees a published version only after apt-get update, and refuses to run without -y", async () => {
    const s = await start();
    s.publish({ node: "pve3", package: "pve-manager", version: "8.4.3" });
    expect(instLines((await run(s, "pve3", "apt-get -s dist-upgrade")).stdout)).toEqual([]);
    const upd = await run(s, "pve3", "apt-get update");
    expect(upd.code).toBe(0);
    expect(upd.stdout).toMatch(/^Hit:1 http:\/\/deb\.debian\.org\/debian bookworm InRelease$/m);
    expect(upd.stdout).toMatch(/^Get:4 http:\/\/download\.proxmox\.com\/debian\/pve bookworm InRelease/m);
    expect(instLines((await run(s, "pve3", "apt-get -s dist-upgrade")).stdout)).toEqual([
      "Inst pve-manager [8.4.2] (8.4.3 Proxmox:bookworm/pve-no-subscription [amd64])",
    ]);
    const noYes = await run(s, "pve3", "apt-get dist-upgrade");
    expect(noYes.code).toBe(1);
    expect(noYes.stdout).toMatch(/Do you want to continue\? \[Y\/n\] Abort\.\n$/);
    expect((await run(s, "pve3", "dpkg-query -W -f='${Version}' pve-manager")).stdout).toBe("8.4.2");
  });

  it("writes /var/run/reboot-required when the host has reboot-notifier, and the reboot clears it", async () => {
    sim = await startSimulator({
      clock: new ScaledClock(200),
      fleet: {
        clusters: [
          {
            name: "solo",
            standalone: true,
            nodes: [
              {
                name: "pve9",
                writesRebootRequired: true,
                kernel: { running: "6.8.12-9-pve", candidate: "6.8.12-10-pve" },
              },
            ],
          },
        ],
      },
    });
    expect((await run(sim, "pve9", UPGRADE)).code).toBe(0);
    expect((await run(sim, "pve9", "cat /var/run/reboot-required.pkgs")).stdout).toBe(
      "proxmox-kernel-6.8.12-10-pve-signed\n",
    );
    expect((await run(sim, "pve9", "[ -s /var/run/reboot-required ] && echo yes")).stdout).toBe("yes\n");
    await run(sim, "pve9", "reboot");
    const s = sim;
    await eventually(() => s.snapshot().history.reboots.length === 1, "pve9 to reboot");
    await eventually(
      async () =>
        (await run(s, "pve9", "uname -r").catch(() => ({ stdout: "" }))).stdout === "6.8.12-10-pve\n",
      "pve9 back",
    );
    expect((await run(s, "pve9", "test -e /var/run/reboot-required")).code).toBe(1);
  });
});

describe("reboot", () => {
  it("drops SSH for the reboot, changes boot_id, boots the newest kernel and restarts onboot guests", async () => {
    const s = await start(100);
    const pve1 = await SimSsh.connect(s, "pve1");
    expect((await pve1.exec(UPGRADE)).code).toBe(0);
    const bootBefore = (await pve1.exec("cat /proc/sys/kernel/random/boot_id")).stdout.trim();
    const dropped = new Promise<void>((resolve) => pve1.client.on("close", () => resolve()));
    const r = await pve1.exec("reboot");
    expect(r.code).toBe(0);
    await dropped;

    // While it is down the listener refuses connections and the cluster shows it offline.
    await expect(SimSsh.connect(s, "pve1")).rejects.toThrow(/ECONNREFUSED/);
    const status = JSON.parse(
      (await run(s, "pve2", "pvesh get /cluster/status --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(status.find((x) => x.name === "pve1")).toMatchObject({ online: 0 });
    expect(status[0]).toMatchObject({ type: "cluster", quorate: 1 });
    const res = JSON.parse(
      (await run(s, "pve2", "pvesh get /cluster/resources --type vm --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(res.find((x) => x.id === "qemu/100")).toEqual({
      id: "qemu/100",
      type: "qemu",
      vmid: 100,
      node: "pve1",
      status: "unknown",
      pool: "prod",
      tags: "web;prod",
    });

    let back: SimSsh | undefined;
    await eventually(async () => {
      back = await SimSsh.connect(s, "pve1").catch(() => undefined);
      return back !== undefined;
    }, "pve1 to accept SSH again");
    const after = await back!.exec("cat /proc/sys/kernel/random/boot_id; uname -r");
    const [bootAfter, kernel] = after.stdout.trim().split("\n");
    expect(bootAfter).not.toBe(bootBefore);
    expect(kernel).toBe("6.8.12-10-pve");
    expect(s.history().bootIds.pve1).toEqual([bootBefore, bootAfter]);
    const stops = s.history().guestEvents.filter((e) => e.event === "stop" && e.node === "pve1");
    expect(stops.map((e) => e.vmid).sort()).toEqual([100, 101, 200]);
    await eventually(
      () => [100, 101, 200].every((v) => s.snapshot().guests[String(v)]!.status === "running"),
      "onboot guests to start again",
    );
    back!.close();
  });

  it("loses quorum when two of three nodes are down", async () => {
    const s = await start(100);
    s.faults.add({ kind: "neverReturns", host: "pve2" });
    s.faults.add({ kind: "neverReturns", host: "pve3" });
    await run(s, "pve2", "reboot");
    const one = JSON.parse(
      (await run(s, "pve1", "sleep 10; pvesh get /cluster/status --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(one[0]).toMatchObject({ quorate: 1 });
    await run(s, "pve3", "systemctl reboot");
    await eventually(async () => {
      const rows = JSON.parse(
        (await run(s, "pve1", "pvesh get /cluster/status --output-format json")).stdout,
      ) as Record<string, unknown>[];
      return rows[0]!.quorate === 0;
    }, "quorum loss");
    const pvecm = (await run(s, "pve1", "pvecm status")).stdout;
    expect(pvecm).toMatch(/^Quorate: +No$/m);
    expect(pvecm).toMatch(/^Total votes: +1$/m);
    expect(pvecm).toMatch(/^Quorum: +2 Activity blocked$/m);
    const ha = JSON.parse(
      (await run(s, "pve1", "pvesh get /cluster/ha/status/current --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(ha[0]).toMatchObject({ id: "quorum", quorate: 0, status: "No quorum on node 'pve1'!" });
  });
});

describe("transient units (contract 4)", () => {
  it("keep running after the SSH connection that started them closes; the result is read from the journal", async () => {
    const s = await start(50);
    const inner = quoteArgv(["sh", "-c", "echo working; sleep 60; echo done; exit 3"]);
    const job = [
      "systemd-run",
      "--unit",
      "refit-job1",
      "--property",
      "RuntimeMaxSec=600",
      "--collect",
      "--quiet",
      "--",
      "sh",
      "-c",
      `${inner}; echo "@@refit-exit:$?"`,
    ];
    const c1 = await SimSsh.connect(s, "pve1");
    const started = await c1.exec(quoteArgv(job));
    expect(started).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const show =
      "systemctl show refit-job1 --property=LoadState,ActiveState,SubState,Result,ExecMainStatus,ExecMainStartTimestamp,ExecMainExitTimestamp";
    const running = (await c1.exec(show)).stdout;
    expect(running).toMatch(
      /^Result=success\nExecMainStartTimestamp=\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\nExecMainExitTimestamp=\nExecMainStatus=0\nLoadState=loaded\nActiveState=active\nSubState=running\n$/,
    );
    const again = await c1.exec(quoteArgv(job));
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      "Failed to start transient service unit: Unit refit-job1.service was already loaded or has a fragment file.\n",
    );
    c1.close();

    await eventually(
      async () => (await run(s, "pve1", show)).stdout.includes("LoadState=not-found"),
      "the unit to finish and be collected",
    );
    expect((await run(s, "pve1", show)).stdout).toContain("ActiveState=inactive\nSubState=dead\n");
    const log = await run(s, "pve1", "journalctl -u refit-job1 -o cat --no-pager -n 50");
    const lines = log.stdout.trim().split("\n");
    expect(lines).toContain("working");
    expect(lines).toContain("done");
    expect(lines).toContain("@@refit-exit:3");
    expect(lines.indexOf("@@refit-exit:3")).toBeGreaterThan(lines.indexOf("done"));
  });

  it("stops a unit that exceeds RuntimeMaxSec with Result=timeout", async () => {
    const s = await start(100);
    const r = await run(
      s,
      "pve2",
      quoteArgv([
        "systemd-run",
        "--unit",
        "refit-slow",
        "--property",
        "RuntimeMaxSec=5",
        "--quiet",
        "--",
        "sh",
        "-c",
        'sleep 100; echo "@@refit-exit:$?"',
      ]),
    );
    expect(r.code).toBe(0);
    await eventually(
      async () => (await run(s, "pve2", "systemctl is-active refit-slow")).stdout === "failed\n",
      "the unit to time out",
    );
    expect((await run(s, "pve2", "systemctl show refit-slow -p Result,ActiveState")).stdout).toBe(
      "Result=timeout\nActiveState=failed\n",
    );
    const log = (await run(s, "pve2", "journalctl -u refit-slow -o cat --no-pager -n 5")).stdout;
    expect(log).toContain("refit-slow.service: Failed with result 'timeout'.");
    // systemd killed the whole unit, so the wrapper never printed its exit line.
    expect(log.split("\n").filter((l) => l.startsWith("@@refit-exit"))).toEqual([]);
  });

  it("runs the dist-upgrade job argv as a unit; a reboot in the middle kills it and leaves dpkg interrupted", async () => {
    const s = await start(20);
    const upgrade = [
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "-y",
      "-o",
      "Dpkg::Options::=--force-confdef",
      "-o",
      "Dpkg::Options::=--force-confold",
      "dist-upgrade",
    ];
    const job = (id: string): string =>
      quoteArgv([
        "systemd-run",
        "--unit",
        `refit-${id}`,
        "--property",
        "RuntimeMaxSec=3600",
        "--collect",
        "--quiet",
        "--",
        "sh",
        "-c",
        `${quoteArgv(upgrade)}; echo "@@refit-exit:$?"`,
      ]);
    expect((await run(s, "pve2", job("up1"))).code).toBe(0);
    await eventually(
      async () =>
        (await run(s, "pve2", "journalctl -u refit-up1 -o cat --no-pager -n 1")).stdout ===
        "refit-up1.service: Deactivated successfully.\n",
      "the job to finish",
    );
    const log = (await run(s, "pve2", "journalctl -u refit-up1 -o cat --no-pager -n 200")).stdout;
    expect(log).toContain("Setting up pve-manager (8.4.2) ...\n");
    expect(log).toContain("@@refit-exit:0\n");
    expect((await run(s, "pve2", "dpkg-query -W pve-manager")).stdout).toBe("pve-manager\t8.4.2\n");

    const pve1 = await SimSsh.connect(s, "pve1");
    expect((await pve1.exec(job("up2"))).code).toBe(0);
    await eventually(
      async () => (await pve1.exec("journalctl -u refit-up2 -o cat --no-pager")).stdout.includes("Unpacking"),
      "dpkg to start",
    );
    await pve1.exec("reboot");
    pve1.close();
    await eventually(() => s.history().reboots.some((r) => r.host === "pve1"), "pve1 to reboot");
    await eventually(
      async () => (await run(s, "pve1", "true").catch(() => undefined))?.code === 0,
      "pve1 SSH",
    );
    const killed = (await run(s, "pve1", "journalctl -u refit-up2 -o cat --no-pager")).stdout;
    expect(killed).toContain("refit-up2.service: Main process exited, code=killed, status=15/TERM\n");
    expect(killed.split("\n").filter((l) => l.startsWith("@@refit-exit"))).toEqual([]);
    expect((await run(s, "pve1", "systemctl show refit-up2 -p LoadState")).stdout).toBe(
      "LoadState=not-found\n",
    );
    expect((await run(s, "pve1", "apt-get -y dist-upgrade")).stderr).toBe(
      "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
    );
  });

  it("shows an unknown unit as not-found/inactive and prints no journal entries", async () => {
    const s = await start(100);
    const show = await run(s, "pve3", "systemctl show refit-nope --property=LoadState,ActiveState");
    expect(show).toMatchObject({ code: 0, stdout: "LoadState=not-found\nActiveState=inactive\n" });
    expect((await run(s, "pve3", "journalctl -u refit-nope -o cat --no-pager -n 10")).stdout).toBe(
      "-- No entries --\n",
    );
    expect(await run(s, "pve3", "systemctl is-active pveproxy corosync refit-nope")).toMatchObject({
      code: 3,
      stdout: "active\nactive\ninactive\n",
    });
  });
});
