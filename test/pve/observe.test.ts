import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { available, unavailable } from "../../src/pve/observed.js";
import { combineReboot, observeCluster, observeNode, observeNodeSteps } from "../../src/pve/observe.js";
import { LocalShExec, StubBin } from "./helpers.js";

// Stand-ins for the Proxmox tools (the simulator is not ready): each prints a fixture for its exact
// argv and fails loudly for any other. Everything else (uname, cat, df, test, sh) is the real thing.
function proxmoxStubs(): StubBin {
  return new StubBin()
    .add(
      "pvesh",
      `case "$*" in
  "get /nodes/pve1/status --output-format json") cat "$FIX/node-status.proxcenter.json.out" ;;
  "get /nodes/pve1/tasks --source active --output-format json") cat "$FIX/tasks-active.json.out" ;;
  "get /cluster/status --output-format json") cat "$FIX/cluster-status.exporter.json.out" ;;
  "get /cluster/resources --output-format json") cat "$FIX/cluster-resources.exporter.json.out" ;;
  "get /cluster/ha/status/manager_status --output-format json") cat "$FIX/ha-manager-status.json.out" ;;
  "get /cluster/ha/status/current --output-format json") cat "$FIX/ha-current.json.out" ;;
  *) echo "stub pvesh: unexpected arguments: $*" >&2; exit 2 ;;
esac`,
    )
    .add("proxmox-boot-tool", `[ "$*" = "kernel list" ] || exit 2; cat "$FIX/boot-tool.auto.txt"`)
    .add("zpool", `[ "$*" = "status -x" ] || exit 2; cat "$FIX/zpool-x.degraded.txt"`)
    .add("pveversion", `[ $# -eq 0 ] || exit 2; cat "$FIX/pveversion.txt"`)
    .add("pvecm", `[ "$*" = "status" ] || exit 2; cat "$FIX/pvecm-status.docs.txt"`)
    .add(
      "apt-get",
      `[ "$LC_ALL" = C ] && [ "$*" = "-o DPkg::Lock::Timeout=10 -s dist-upgrade" ] || { echo "E: stub apt-get: $LC_ALL $*" >&2; exit 100; }
cat "$FIX/apt-s-dist-upgrade.bookworm.txt"`,
    );
}

describe("observeNode through a real shell", () => {
  const stubs = proxmoxStubs();
  afterAll(() => stubs.remove());

  it("observes a whole node in one exec, every part a typed value", async () => {
    const exec = new LocalShExec("pve1", stubs.env());
    const o = await observeNode(exec, "pve1", { pendingUpdates: true });
    expect(exec.calls).toHaveLength(1);
    expect(exec.calls[0]?.argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(exec.calls[0]?.opts?.timeoutMs).toBeGreaterThan(0);

    expect(o.status.ok && o.status.value.pveversion).toBe("pve-manager/8.4.1/2a5fa54a8503f96d");
    expect(o.bootId).toEqual({
      ok: true,
      value: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
    });
    expect(o.runningKernel).toEqual({ ok: true, value: release() });
    expect(o.bootKernels.ok && o.bootKernels.value.automatic).toHaveLength(3);
    expect(o.rebootFlag.ok).toBe(true);
    // This machine does not run 6.8.12-10-pve, so the kernel comparison asks for a reboot.
    expect(o.reboot).toMatchObject({ ok: true, value: { needed: true, bootKernel: "6.8.12-10-pve" } });
    expect(o.rootDisk.ok && o.rootDisk.value.mountpoint).toBe("/");
    expect(o.zfs).toMatchObject({
      ok: true,
      value: { state: "unhealthy", pools: [{ pool: "rpool", state: "DEGRADED" }] },
    });
    expect(o.activeTasks.ok && o.activeTasks.value.filter((t) => t.running)).toHaveLength(2);
    expect(o.pveVersion).toMatchObject({ ok: true, value: { version: "8.4.1" } });
    expect(o.pendingUpdates).toMatchObject({
      ok: true,
      value: { summary: { upgraded: 5, newlyInstalled: 1 } },
    });
  });

  it("leaves pending updates out unless asked", async () => {
    const o = await observeNode(new LocalShExec("pve1", stubs.env()), "pve1");
    expect(o.pendingUpdates).toBeUndefined();
    expect(observeNodeSteps("pve1")).toHaveLength(10);
    expect(observeNodeSteps("pve1", { pendingUpdates: true }).slice(10)).toEqual([
      ["LC_ALL=C", "apt-get", "-o", "DPkg::Lock::Timeout=10", "-s", "dist-upgrade"],
      ["apt-mark", "showhold"],
      ["LC_ALL=C", "dpkg", "--audit"],
    ]);
  });

  it("on a host without Proxmox tools, says per part why it is unavailable (fail closed)", async () => {
    const o = await observeNode(new LocalShExec("debian1"), "pve1");
    expect(o.status).toMatchObject({ ok: false, reason: "CommandMissing", retryable: false });
    expect(!o.status.ok && o.status.message).toMatch(/pvesh.*not installed on debian1/);
    expect(o.bootKernels).toMatchObject({ ok: false, reason: "CommandMissing" });
    expect(o.pveVersion).toMatchObject({ ok: false, reason: "CommandMissing" });
    expect(o.zfs).toMatchObject({ ok: false, reason: "CommandMissing" });
    if (existsSync("/var/run/reboot-required")) {
      expect(o.reboot).toMatchObject({ ok: true, value: { needed: true } });
    } else {
      // No kernel list and no flag: "no reboot needed" cannot be proven.
      expect(o.reboot).toMatchObject({ ok: false, reason: "CommandMissing" });
    }
    // The parts real Debian provides are still there.
    expect(o.bootId.ok && o.runningKernel.ok && o.rootDisk.ok && o.rebootFlag.ok).toBe(true);
  });

  it("names the command and shows an excerpt when a tool prints something unreadable", async () => {
    const odd = new StubBin()
      .add("pvesh", `echo "ipcc_send_rec[1] failed: Connection refused"`)
      .add("proxmox-boot-tool", `echo "E: /etc/kernel/proxmox-boot-uuids does not exist." >&2; exit 2`)
      .add(
        "apt-get",
        `echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2412 (apt-get)" >&2; exit 100`,
      );
    try {
      const o = await observeNode(new LocalShExec("pve1", odd.env()), "pve1", { pendingUpdates: true });
      expect(o.status).toMatchObject({ ok: false, reason: "UnparseableOutput", retryable: true });
      expect(!o.status.ok && o.status.message).toMatch(
        /pvesh get \/nodes\/pve1\/status --output-format json` on pve1: expected JSON.*ipcc_send_rec/,
      );
      expect(o.bootKernels).toMatchObject({ ok: false, reason: "CommandFailed" });
      expect(!o.bootKernels.ok && o.bootKernels.message).toMatch(/exit 2.*proxmox-boot-uuids/);
      expect(o.pendingUpdates).toMatchObject({ ok: false, reason: "LockHeld", retryable: true });
      expect(!o.pendingUpdates?.ok && o.pendingUpdates?.message).toMatch(
        /^package manager busy \(pid 2412, apt-get\): /,
      );
    } finally {
      odd.remove();
    }
  });
});

describe("observeCluster through a real shell", () => {
  const stubs = proxmoxStubs();
  afterAll(() => stubs.remove());

  it("reads status, votes, resources and HA in one exec", async () => {
    const exec = new LocalShExec("pve1", stubs.env());
    const c = await observeCluster(exec);
    expect(exec.calls).toHaveLength(1);
    expect(c.quorum).toMatchObject({ ok: true, value: { kind: "cluster", name: "pvec", quorate: true } });
    expect(c.votes).toMatchObject({ ok: true, value: { expectedVotes: 4, quorum: 3 } });
    expect(c.resources.ok && c.resources.value.guests).toHaveLength(2);
    expect(c.haManager).toMatchObject({ ok: true, value: { masterNode: "pve1" } });
    expect(c.haCurrent.ok && c.haCurrent.value).toHaveLength(9);
  });

  it("sees a standalone node: no cluster row and a failing pvecm", async () => {
    const standalone = new StubBin()
      .add(
        "pvesh",
        `case "$2" in /cluster/status) cat "$FIX/cluster-status.standalone.json.out" ;; /cluster/resources) echo "[]" ;;
  /cluster/ha/status/manager_status) cat "$FIX/ha-manager-status.unconfigured.json.out" ;; *) echo "[]" ;; esac`,
      )
      .add("pvecm", `cat "$FIX/pvecm-status.standalone.txt" >&2; exit 2`);
    try {
      const c = await observeCluster(new LocalShExec("pve", standalone.env()));
      expect(c.quorum).toMatchObject({ ok: true, value: { kind: "standalone" } });
      expect(c.votes).toMatchObject({ ok: false, reason: "CommandFailed" });
      expect(c.haManager).toMatchObject({ ok: true, value: { configured: false } });
    } finally {
      standalone.remove();
    }
  });
});

describe("combineReboot", () => {
  const kernels = available({
    manual: [],
    automatic: ["6.8.12-10-pve"],
    pinned: undefined,
    nextBoot: undefined,
  });
  const missing = unavailable("CommandMissing", "proxmox-boot-tool is not installed", false);

  it("a set flag proves a reboot even without a kernel list", () => {
    const r = combineReboot(
      available("6.8.12-10-pve"),
      missing,
      available({ required: true, packages: ["libc6"] }),
    );
    expect(r).toMatchObject({ ok: true, value: { needed: true } });
  });

  it("a kernel mismatch proves a reboot even without the flag", () => {
    const r = combineReboot(available("6.8.12-9-pve"), kernels, unavailable("CommandFailed", "test failed"));
    expect(r).toMatchObject({ ok: true, value: { needed: true } });
  });

  it("'no reboot' needs every signal", () => {
    expect(
      combineReboot(available("6.8.12-10-pve"), kernels, unavailable("CommandFailed", "x")),
    ).toMatchObject({
      ok: false,
      reason: "CommandFailed",
    });
    expect(
      combineReboot(available("6.8.12-10-pve"), missing, available({ required: false, packages: [] })),
    ).toMatchObject({
      ok: false,
      reason: "CommandMissing",
    });
    expect(
      combineReboot(available("6.8.12-10-pve"), kernels, available({ required: false, packages: [] })),
    ).toMatchObject({
      ok: true,
      value: { needed: false },
    });
  });
});
