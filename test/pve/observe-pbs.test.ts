import { afterAll, describe, expect, it } from "vitest";
import { observePbs, observePbsSteps } from "../../src/pve/observe-pbs.js";
import { PveReader } from "../../src/pve/reader.js";
import { LocalShExec, StubBin } from "./helpers.js";

// proxmox-backup-manager and systemctl stand-ins; df, cat, uname and test are real.
function pbsStubs(enabledOutput: string): StubBin {
  return new StubBin()
    .add(
      "proxmox-backup-manager",
      `case "$*" in
  "versions --output-format json") cat "$FIX/pbs-versions.json.out" ;;
  "task list --output-format json") cat "$FIX/pbs-task-list.rendered.json.out" ;;
  *) echo "stub: unexpected $*" >&2; exit 2 ;;
esac`,
    )
    .add(
      "systemctl",
      `case "$1" in
  is-active) printf 'active\\nfailed\\n'; exit 3 ;;
  is-enabled) ${enabledOutput} ;;
  *) exit 2 ;;
esac`,
    );
}

describe("observePbs through a real shell", () => {
  const stubs = pbsStubs(
    `printf 'enabled\\n'; echo "Failed to get unit file state for proxmox-backup-proxy.service: No such file or directory" >&2; exit 1`,
  );
  afterAll(() => stubs.remove());

  it("reads versions, running tasks, services and host facts in one exec", async () => {
    const exec = new LocalShExec("pbs1", stubs.env());
    const o = await observePbs(exec);
    expect(exec.calls).toHaveLength(1);
    expect(o.versions).toMatchObject({
      ok: true,
      value: [{ package: "proxmox-backup-server", version: "3.4.1-1" }],
    });
    expect(o.runningTasks.ok && o.runningTasks.value.map((t) => t.workerType)).toEqual(["backup"]);
    // stderr is merged into a batch step; the missing unit is still recognised.
    expect(o.services).toEqual({
      ok: true,
      value: {
        "proxmox-backup": { active: "active", enabled: "enabled" },
        "proxmox-backup-proxy": { active: "failed", enabled: "not-found" },
      },
    });
    expect(o.rootDisk.ok && o.bootId.ok && o.runningKernel.ok && o.rebootFlag.ok).toBe(true);
    expect(observePbsSteps()[2]).toEqual([
      "systemctl",
      "is-active",
      "proxmox-backup",
      "proxmox-backup-proxy",
    ]);
  });

  it("on a host that is not a PBS, versions are CommandMissing", async () => {
    const o = await observePbs(new LocalShExec("deb1"));
    expect(o.versions).toMatchObject({ ok: false, reason: "CommandMissing", retryable: false });
    expect(o.runningTasks).toMatchObject({ ok: false, reason: "CommandMissing" });
  });
});

describe("PveReader.servicesState", () => {
  it("combines is-active and is-enabled per unit, ignoring their exit codes", async () => {
    const stubs = pbsStubs(`printf 'enabled\\ndisabled\\n'; exit 1`);
    try {
      const r = new PveReader(new LocalShExec("pbs1", stubs.env()));
      expect(await r.servicesState(["proxmox-backup", "proxmox-backup-proxy"])).toEqual({
        "proxmox-backup": { active: "active", enabled: "enabled" },
        "proxmox-backup-proxy": { active: "failed", enabled: "disabled" },
      });
    } finally {
      stubs.remove();
    }
  });
});
