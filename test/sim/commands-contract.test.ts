import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { run } from "./ssh-client.js";

/**
 * The read-only argv src/pve sends (src/pve/COMMANDS.md), sent the way it sends them: as contract-3
 * batches inside `sh -c`, each step's output and exit code recovered from the markers.
 */

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;
let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
});
afterAll(async () => {
  await sim?.stop();
});

interface Step {
  output: string;
  code: number;
}

async function batch(host: string, steps: string[][]): Promise<Step[]> {
  const script = steps
    .map((a, i) => `echo @@refit:${i}:begin; ${quoteArgv(a)} 2>&1; echo @@refit:${i}:end:$?`)
    .join("; ");
  const r = await run(sim, host, quoteArgv(["sh", "-c", script]));
  expect(r.code).toBe(0);
  return steps.map((_, i) => {
    const m = new RegExp(`@@refit:${i}:begin\\n([\\s\\S]*?)@@refit:${i}:end:(\\d+)\\n`).exec(r.stdout);
    if (!m) throw new Error(`step ${i} (${steps[i]!.join(" ")}) has no end marker`);
    return { output: m[1]!, code: Number(m[2]) };
  });
}

describe("the commands src/pve sends", () => {
  it("observeNode: every step answers in its real format", async () => {
    const steps = [
      ["pvesh", "get", "/nodes/pve2/status", "--output-format", "json"],
      ["cat", "/proc/sys/kernel/random/boot_id"],
      ["uname", "-r"],
      ["proxmox-boot-tool", "kernel", "list"],
      ["test", "-e", "/var/run/reboot-required"],
      ["cat", "/var/run/reboot-required.pkgs"],
      ["df", "-P", "-B1", "/"],
      ["zpool", "status", "-x"],
      ["pvesh", "get", "/nodes/pve2/tasks", "--source", "active", "--output-format", "json"],
      ["pveversion"],
      ["LC_ALL=C", "apt-get", "-s", "dist-upgrade"],
    ];
    const r = await batch("pve2", steps);
    expect(r.map((s) => s.code)).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(JSON.parse(r[0]!.output)).toHaveProperty("current-kernel.release", "6.8.12-9-pve");
    expect(r[5]!.output).toBe("cat: /var/run/reboot-required.pkgs: No such file or directory\n");
    expect(r[10]!.output).toMatch(/^2 upgraded, 1 newly installed, 0 to remove and 0 not upgraded\.$/m);
  });

  it("observeCluster: every step answers", async () => {
    const r = await batch("pve1", [
      ["pvesh", "get", "/cluster/status", "--output-format", "json"],
      ["pvecm", "status"],
      ["pvesh", "get", "/cluster/resources", "--output-format", "json"],
      ["pvesh", "get", "/cluster/ha/status/manager_status", "--output-format", "json"],
      ["pvesh", "get", "/cluster/ha/status/current", "--output-format", "json"],
    ]);
    expect(r.map((s) => s.code)).toEqual([0, 0, 0, 0, 0]);
    for (const i of [0, 2, 3, 4]) expect(() => JSON.parse(r[i]!.output) as unknown).not.toThrow();
  });

  it("observePbs: every step answers on the PBS VM", async () => {
    const r = await batch("pbs1", [
      ["proxmox-backup-manager", "versions", "--output-format", "json"],
      ["proxmox-backup-manager", "task", "list", "--output-format", "json"],
      ["systemctl", "is-active", "proxmox-backup", "proxmox-backup-proxy"],
      ["systemctl", "is-enabled", "proxmox-backup", "proxmox-backup-proxy"],
      ["df", "-P", "-B1", "/"],
      ["cat", "/proc/sys/kernel/random/boot_id"],
      ["uname", "-r"],
      ["test", "-e", "/var/run/reboot-required"],
      ["cat", "/var/run/reboot-required.pkgs"],
    ]);
    expect(r.map((s) => s.code)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(r[2]!.output).toBe("active\nactive\n");
    expect(r[3]!.output).toBe("enabled\nenabled\n");
    expect(r[4]!.output).toMatch(
      /^Filesystem +1-blocks +Used +Available Capacity Mounted on\n\S+ +\d+ +\d+ +\d+ +\d+% \/\n$/,
    );
  });

  it("answers the single read-only operations", async () => {
    const cases: [string, string[], number][] = [
      ["pve1", ["pvesh", "get", "/nodes/pve1/qemu/101/status/current", "--output-format", "json"], 0],
      ["pve1", ["pvesh", "get", "/nodes/pve1/lxc/200/status/current", "--output-format", "json"], 0],
      ["pve1", ["qm", "listsnapshot", "101"], 0],
      ["pve1", ["pct", "listsnapshot", "200"], 0],
      ["pve1", ["systemctl", "is-enabled", "pveproxy", "no-such-unit"], 1],
      ["pve3", ["zpool", "status", "-x"], 0],
    ];
    for (const [host, argv, code] of cases) {
      const res = await run(sim, host, quoteArgv(argv));
      expect(res.code, argv.join(" ")).toBe(code);
    }
    const status = JSON.parse(
      (await run(sim, "pve1", "pvesh get /nodes/pve1/qemu/101/status/current --output-format json")).stdout,
    ) as Record<string, unknown>;
    expect(status).toMatchObject({ vmid: 101, status: "running", qmpstatus: "running", ha: { managed: 1 } });
    const enabled = await run(sim, "pve1", "systemctl is-enabled pveproxy no-such-unit");
    expect(enabled).toMatchObject({
      stdout: "enabled\n",
      stderr: "Failed to get unit file state for no-such-unit.service: No such file or directory\n",
    });
  });

  it("runs env-prefixed argv inside a container with pct exec", async () => {
    const r = await run(
      sim,
      "pve1",
      quoteArgv([
        "pct",
        "exec",
        "200",
        "--",
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "LC_ALL=C",
        "apt-get",
        "-s",
        "dist-upgrade",
      ]),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Inst nginx [1.22.1-9] (1.22.1-9+deb12u1 Debian:12.10/stable [amd64])");
    expect(
      await run(sim, "pve1", quoteArgv(["pct", "exec", "200", "--", "env", "X=1", "nosuch"])),
    ).toMatchObject({ code: 127, stderr: "env: 'nosuch': No such file or directory\n" });
  });
});
