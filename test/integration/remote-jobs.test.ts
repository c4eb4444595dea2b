/**
 * Remote jobs (contract 4) through src/ssh's startJob/jobStatus against the simulator's systemd:
 * a job outlives the SSH connection that started it, an id runs at most once, and RuntimeMaxSec
 * ends a job as `timed-out`.
 */
import { describe, expect, it } from "vitest";
import { aptDistUpgradeArgv, isUpToDate } from "../../src/pve/index.js";
import { jobStatus, startJob } from "../../src/ssh/index.js";
import { simExec } from "../support/sim-ssh.js";
import { jobFinished, startLab, type Lab } from "./support.js";

const JOB_TIMEOUT_MS = 3_600_000;

function unitStarts(lab: Lab, id: string): number {
  return lab.sim.history().commands.filter((c) => c.command.startsWith(`systemd-run --unit refit-${id} `))
    .length;
}

describe("remote jobs on the simulator", () => {
  it("a job survives the connection that started it: close the pool, read the result from a new one", async () => {
    const lab = await startLab();
    const first = lab.exec("pve1");
    const started = await startJob(first, "survivor-1", ["sh", "-c", "sleep 30; echo finished work"], {
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(started).toEqual({ started: true });
    expect((await jobStatus(first, "survivor-1")).state).toBe("running");
    lab.pool.close();

    const second = simExec(lab.newPool(), lab.sim, "pve1");
    const status = await jobFinished(lab, second, "survivor-1");
    expect(status).toMatchObject({ state: "exited", exitCode: 0 });
    expect(status.log).toContain("finished work");
  });

  it("starting the same id again does not run it twice, while running or after it finished", async () => {
    const lab = await startLab();
    const exec = lab.exec("pve2");
    const argv = ["sh", "-c", "sleep 10; echo once"];
    expect(await startJob(exec, "idem-1", argv, { timeoutMs: JOB_TIMEOUT_MS })).toEqual({ started: true });
    expect(await startJob(exec, "idem-1", argv, { timeoutMs: JOB_TIMEOUT_MS })).toEqual({ started: false });
    const status = await jobFinished(lab, exec, "idem-1");
    expect(status.log.filter((l) => l === "once")).toHaveLength(1);
    // Collected by now (--collect), yet its journal still says it ran.
    expect(await startJob(exec, "idem-1", argv, { timeoutMs: JOB_TIMEOUT_MS })).toEqual({ started: false });
    expect(unitStarts(lab, "idem-1")).toBe(1);
  });

  it("a job's own exit code is reported after the unit is collected", async () => {
    const lab = await startLab();
    const exec = lab.exec("pve3");
    await startJob(exec, "fails-1", ["sh", "-c", "echo about to fail; exit 7"], {
      timeoutMs: JOB_TIMEOUT_MS,
    });
    const status = await jobFinished(lab, exec, "fails-1");
    expect(status).toMatchObject({ state: "failed", exitCode: 7 });
    expect(status.log).toContain("about to fail");
  });

  it("a job that outlives its RuntimeMaxSec ends timed-out", async () => {
    const lab = await startLab();
    const exec = lab.exec("pve1");
    await startJob(exec, "slow-1", ["sleep", "3600"], { timeoutMs: 20_000 });
    const status = await jobFinished(lab, exec, "slow-1");
    expect(status.state).toBe("timed-out");
  });

  it("the apt dist-upgrade job argv upgrades the node", async () => {
    const lab = await startLab();
    const exec = lab.exec("pve1");
    await startJob(exec, "upgrade-1", aptDistUpgradeArgv(), { timeoutMs: JOB_TIMEOUT_MS });
    const status = await jobFinished(lab, exec, "upgrade-1");
    expect(status).toMatchObject({ state: "exited", exitCode: 0 });
    expect(isUpToDate(await lab.reader("pve1").pendingUpdates())).toBe(true);
    expect(await lab.reader("pve1").pveVersion()).toMatchObject({ version: "8.4.2" });
  });
});
