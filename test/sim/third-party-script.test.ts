import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, run } from "./ssh-client.js";

/**
 * A third-party rolling-upgrade script, written the way admins write them (Bash over SSH, no jq:
 * JSON picked apart with grep -o and parameter expansion), runs unchanged against the simulator
 * (test/sim/scripts/rolling-upgrade-check.sh):
 * `command -v` / `hash` checks, `$( )` into variables, functions, `set -euo pipefail`, `exec 2>&1`, loops over
 * the cluster's nodes and services, `apt-get -qq -s dist-upgrade`, the HA node status, `dmesg |
 * tail`, a here-document report. It is run on each node in turn as `ssh root@<node> bash -s`.
 */

/** The script, byte for byte as its author wrote it. */
const SCRIPT = readFileSync(new URL("./scripts/rolling-upgrade-check.sh", import.meta.url), "utf8");

let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: "test/sim/fleets/three-node.yaml", clock: new ScaledClock(100) });
});
afterAll(async () => {
  await sim?.stop();
});

async function runScript(node: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = await SimSsh.connect(sim, node);
  try {
    return await c.exec("bash -s", SCRIPT);
  } finally {
    c.close();
  }
}

describe("a third-party rolling-upgrade script", () => {
  it("runs unchanged on a node with pending updates", async () => {
    const r = await runScript("pve1");
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").slice(0, 5)).toEqual([
      "[pve1] running pve-manager/8.4.1/2a5fa54a8503f96d (JSON via grep)",
      "[pve1] node pve1: services running",
      "[pve1] node pve2: services running",
      "[pve1] node pve3: services running",
      "[pve1] 3 packages to upgrade:",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(5, 8)).toEqual([
      "  - proxmox-kernel-6.8.12-10-pve-signed",
      "  - proxmox-kernel-6.8",
      "  - pve-manager",
    ]);
    expect(r.stdout).toMatch(/\[pve1\] last kernel messages:\n\[ *\d+\.\d{6}\] .+\n\[ *\d+\.\d{6}\] .+\n/);
    expect(r.stdout).toMatch(
      /== report for pve1 ==\nkernel: {2}6\.8\.12-9-pve\npending: 3\nreboot: {2}yes\nha: {6}online\n$/,
    );
  });

  it("runs unchanged on an up-to-date node", async () => {
    const r = await runScript("pve3");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[pve3] up to date\n");
    expect(r.stdout).toMatch(/pending: 0\nreboot: {2}no\nha: {6}online\n$/);
  });

  it("stops with its own error when a node's service is not running", async () => {
    sim.faults.add({ kind: "serviceFailed", host: "pve2", service: "pveproxy" });
    try {
      const r = await runScript("pve3");
      expect(r.stdout).toMatch(
        /\[pve3\] node pve1: services running\n\[pve3\] ERROR: pveproxy on pve2 is failed\n$/,
      );
      expect(r.code).toBe(1);
    } finally {
      sim.faults.clear();
    }
  });

  it("the pieces it relies on print what real PVE prints", async () => {
    const qq = await run(sim, "pve3", "apt-get -qq -s dist-upgrade");
    expect(qq).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const inst = (await run(sim, "pve1", "apt-get -qq -s dist-upgrade")).stdout.split("\n").filter(Boolean);
    expect(inst.every((l) => /^(Inst|Conf) /.test(l))).toBe(true);
    expect(inst.filter((l) => l.startsWith("Inst "))).toHaveLength(3);
    const state = await run(
      sim,
      "pve1",
      "pvesh get /nodes/pve2/services/pveproxy/state --output-format json",
    );
    expect(JSON.parse(state.stdout)).toEqual({
      service: "pveproxy",
      name: "pveproxy",
      desc: "PVE API Proxy Server",
      state: "running",
      "unit-state": "enabled",
      "active-state": "active",
    });
  });

  it("over SSH the command runs in root's bash (pipefail), `sh -c` in dash", async () => {
    expect(await run(sim, "pve1", "set -o pipefail; false | true; echo $?")).toMatchObject({ stdout: "1\n" });
    const dash = await run(sim, "pve1", "sh -c 'set -o pipefail'");
    expect(dash).toMatchObject({ code: 2, stderr: "sh: 1: set: Illegal option -o pipefail\n" });
    expect(await run(sim, "pve1", "bash -c 'set -o pipefail && echo ok'")).toMatchObject({ stdout: "ok\n" });
  });

  it("apt-get -q changes nothing without a terminal; -qq keeps only Inst/Conf lines and errors", async () => {
    const plain = await run(sim, "pve1", "apt-get -s dist-upgrade");
    expect((await run(sim, "pve1", "apt-get -q -s dist-upgrade")).stdout).toBe(plain.stdout);
    const qq = (await run(sim, "pve1", "apt-get -qq -s dist-upgrade")).stdout;
    expect(qq).toBe(
      plain.stdout
        .split("\n")
        .filter((l) => /^(Inst|Conf) /.test(l))
        .map((l) => `${l}\n`)
        .join(""),
    );
    expect(await run(sim, "pve3", "apt-get -qq update")).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await run(sim, "pve3", "apt-get -qq install no-such-package")).toMatchObject({
      code: 100,
      stdout: "",
      stderr: "E: Unable to locate package no-such-package\n",
    });
  });

  it("pvesh lists the node's services and refuses ids outside Services.pm's enumeration", async () => {
    const list = JSON.parse(
      (await run(sim, "pve1", "pvesh get /nodes/pve3/services --output-format json")).stdout,
    ) as { service: string; state: string; "unit-state": string }[];
    expect(list.map((s) => s.service)).toContain("pve-ha-crm");
    expect(list.find((s) => s.service === "sshd")).toMatchObject({
      state: "running",
      desc: "OpenBSD Secure Shell server",
    });
    expect(list.find((s) => s.service === "postfix")).toMatchObject({
      state: "dead",
      "unit-state": "not-found",
    });
    const bad = await run(sim, "pve1", "pvesh get /nodes/pve1/services/nginx/state");
    expect(bad.code).toBe(255);
    expect(bad.stderr).toMatch(
      /^400 Parameter verification failed\.\nservice: value 'nginx' does not have a value in the enumeration 'chrony, corosync, /,
    );
  });

  it("dmesg prints the kernel ring buffer since boot; a container may not read it", async () => {
    const r = await run(sim, "pve1", "dmesg");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^\[ {4}0\.000000\] Linux version 6\.8\.12-9-pve \(build@proxmox\) .* #1 SMP PREEMPT_DYNAMIC PMX 6\.8\.12-9 /,
    );
    expect(r.stdout).toContain("] systemd[1]: Hostname set to <pve1>.\n");
    expect(r.stdout).toMatch(/\] tap100i0: entered promiscuous mode\n/);
    expect((await run(sim, "pve1", "dmesg -T | head -n 1")).stdout).toMatch(
      /^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] Linux version /,
    );
    expect((await run(sim, "pve1", "dmesg --level=warn")).stdout).toContain(
      "NFSD: Unable to initialize client recovery tracking! (-110)\n",
    );
    expect(await run(sim, "pve1", "pct exec 200 -- dmesg")).toMatchObject({
      code: 1,
      stderr: "dmesg: read kernel buffer failed: Operation not permitted\n",
    });
  });
});
