/**
 * Each simulator fault, met through src/pve and src/ssh, must surface as the typed error the client
 * documents (src/pve/reasons.ts, src/ssh/reasons.ts): that is what reconcilers put on conditions and
 * what decides between retrying and stopping.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { RefitError } from "../../src/errors.js";
import {
  PveReason,
  aptDistUpgradeArgv,
  dpkgConfigureArgv,
  observeCluster,
  observeNode,
} from "../../src/pve/index.js";
import { SshReason, startJob } from "../../src/ssh/index.js";
import { CountingExec } from "../support/sim-ssh.js";
import { THREE_NODE, jobFinished, startLab, until } from "./support.js";

const JOB_TIMEOUT_MS = 3_600_000;

async function failure(p: Promise<unknown>): Promise<RefitError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RefitError)) throw new Error(`expected a RefitError, got ${String(err)}`);
  return err;
}

describe("simulator faults surface as the client's typed errors", () => {
  it("a connection dropped during a matching command: ConnectionLost, and the next call reconnects", async () => {
    const lab = await startLab();
    lab.sim.faults.add({
      kind: "dropConnection",
      host: "pve1",
      match: "pvesh get /cluster/status",
      times: 1,
    });
    const err = await failure(lab.reader("pve1").clusterStatus());
    expect(err).toMatchObject({ reason: SshReason.ConnectionLost, retryable: true });
    expect((await lab.reader("pve1").clusterStatus()).cluster?.quorate).toBe(true);
    expect(lab.pool.stats()).toMatchObject({ connectionsLost: 1, connectionsOpened: 2 });
  });

  it("a connection dropped inside a batch fails the whole observation with ConnectionLost", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "dropConnection", host: "pve2", match: "pvecm status", times: 1 });
    const err = await failure(observeCluster(lab.exec("pve2")));
    expect(err.reason).toBe(SshReason.ConnectionLost);
  });

  it("a hung command ends in CommandTimeout when the injected clock passes its timeout", async () => {
    const clock = new ManualClock();
    const lab = await startLab(THREE_NODE, { clock });
    lab.sim.faults.add({ kind: "hang", host: "pve1", match: "pveversion" });
    const pending = failure(lab.reader("pve1").pveVersion({ timeoutMs: 10_000 }));
    await until(lab.sim, "the hang fault to fire", () =>
      lab.sim.faults.list()[0]?.fired === 1 ? true : undefined,
    );
    clock.advance(10_000);
    expect(await pending).toMatchObject({ reason: SshReason.CommandTimeout, retryable: true });
    expect(lab.pool.stats().commandsTimedOut).toBe(1);
  });

  it("a forced exit code is CommandFailed; forced garbage output is UnparseableOutput for that part only", async () => {
    const lab = await startLab();
    lab.sim.faults.add({
      kind: "exit",
      host: "pve1",
      match: "/^zpool status/",
      exitCode: 1,
      stderr: "internal error: failed to initialize ZFS library\n",
    });
    const err = await failure(lab.reader("pve1").zfsHealth());
    expect(err).toMatchObject({ reason: PveReason.CommandFailed, exitCode: 1 });
    expect(err.message).toContain("failed to initialize ZFS library");

    lab.sim.faults.add({
      kind: "exit",
      host: "pve1",
      match: "/^pveversion$/",
      exitCode: 0,
      stdout: "garbage\n",
    });
    expect(await failure(lab.reader("pve1").pveVersion())).toMatchObject({
      reason: PveReason.UnparseableOutput,
    });
    const exec = new CountingExec(lab.exec("pve1"));
    const obs = await observeNode(exec, "pve1");
    expect(exec.count).toBe(1);
    expect(obs.zfs).toMatchObject({ ok: false, reason: PveReason.CommandFailed });
    expect(obs.pveVersion).toMatchObject({ ok: false, reason: PveReason.UnparseableOutput });
    expect(obs.rootDisk.ok && obs.bootId.ok && obs.status.ok).toBe(true);
  });

  it("a held dpkg/apt lock makes apt-get update LockHeld", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "aptLock", host: "pve2" });
    const err = await failure(lab.actions("pve2").refreshPackageIndex());
    expect(err).toMatchObject({ reason: PveReason.LockHeld, retryable: true });
  });

  it("an interrupted dpkg fails the upgrade job (exit 100) until the dpkg --configure -a job repairs it", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "dpkgInterrupted", host: "pve1" });
    const exec = lab.exec("pve1");
    await startJob(exec, "upgrade-1", aptDistUpgradeArgv(), { timeoutMs: JOB_TIMEOUT_MS });
    const failed = await jobFinished(lab, exec, "upgrade-1");
    expect(failed).toMatchObject({ state: "failed", exitCode: 100 });
    expect(failed.log.join("\n")).toContain(
      "dpkg was interrupted, you must manually run 'dpkg --configure -a'",
    );
    await startJob(exec, "repair-1", dpkgConfigureArgv(), { timeoutMs: JOB_TIMEOUT_MS });
    expect(await jobFinished(lab, exec, "repair-1")).toMatchObject({ state: "exited", exitCode: 0 });
    await startJob(exec, "upgrade-2", aptDistUpgradeArgv(), { timeoutMs: JOB_TIMEOUT_MS });
    expect(await jobFinished(lab, exec, "upgrade-2")).toMatchObject({ state: "exited", exitCode: 0 });
  });

  it("a full root disk shows as 100% used and fails the upgrade job", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "diskFull", host: "pve1" });
    expect((await lab.reader("pve1").rootDisk()).usedPercent).toBe(100);
    const obs = await observeNode(lab.exec("pve1"), "pve1");
    expect(obs.rootDisk).toMatchObject({ ok: true, value: { usedPercent: 100, freeGiB: 0 } });
    const exec = lab.exec("pve1");
    await startJob(exec, "upgrade-3", aptDistUpgradeArgv(), { timeoutMs: JOB_TIMEOUT_MS });
    const failed = await jobFinished(lab, exec, "upgrade-3");
    expect(failed).toMatchObject({ state: "failed", exitCode: 100 });
    expect(failed.log.join("\n")).toContain("You don't have enough free space");
  });

  it("an unreachable repository makes apt-get update RepositoryUnreachable although apt exits 0", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "repoFailure", host: "pve3", mode: "unreachable" });
    const err = await failure(lab.actions("pve3").refreshPackageIndex());
    expect(err).toMatchObject({ reason: PveReason.RepositoryUnreachable, retryable: true });
    expect(err.message).toMatch(/Failed to fetch|Some index files failed to download/);
  });

  it("an unauthorized repository makes apt-get update CommandFailed, naming the 401", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "repoFailure", host: "pve3", mode: "unauthorized" });
    const err = await failure(lab.actions("pve3").refreshPackageIndex());
    expect(err).toMatchObject({ reason: PveReason.CommandFailed, exitCode: 100 });
    expect(err.message).toContain("401");
  });

  it("a failed migration is CommandFailed (exit 255) and the VM stays on its node", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "migrationFailure", vmid: 100, times: 1 });
    const err = await failure(lab.actions("pve1").migrateVm(100, "pve2"));
    expect(err).toMatchObject({ reason: PveReason.CommandFailed, exitCode: 255 });
    expect(err.message).toMatch(/migration (problems|aborted)/);
    const res = await lab.reader("pve2").resources();
    expect(res.guests.find((g) => g.vmid === 100)).toMatchObject({ node: "pve1", status: "running" });
    expect(
      lab.sim
        .history()
        .migrations.filter((m) => m.vmid === 100)
        .map((m) => m.ok),
    ).toEqual([false]);
  });

  it("storage that cannot snapshot makes createSnapshot CommandFailed with Proxmox's message", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "snapshotUnsupported", vmid: 100 });
    const err = await failure(lab.actions("pve1").createSnapshot("qemu", 100, "refit-x-1"));
    expect(err).toMatchObject({ reason: PveReason.CommandFailed, exitCode: 255 });
    expect(err.message).toContain("snapshot feature is not available");
    expect((await lab.reader("pve1").snapshots("qemu", 100)).snapshots).toEqual([]);
  });

  it("quorum loss shows in every quorum read and makes cluster writes fail", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "quorumLoss", cluster: "pve-lab" });
    const quorum = await lab.reader("pve1").quorum();
    expect(quorum).toMatchObject({ kind: "cluster", quorate: false });
    const obs = await observeCluster(lab.exec("pve2"));
    expect(obs.quorum).toMatchObject({ ok: true, value: { quorate: false } });
    const err = await failure(lab.actions("pve1").createSnapshot("qemu", 100, "refit-x-2"));
    expect(err).toMatchObject({ reason: PveReason.ClusterNotReady });
    expect(err.message).toContain("no quorum");
  });

  it("a node that never returns from a reboot refuses connections (ConnectFailed) and shows offline", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "neverReturns", host: "pve3" });
    const before = lab.sim.history().bootIds.pve3?.length ?? 0;
    // The reboot may take the connection down before its exit status arrives, as on a real node.
    await lab
      .exec("pve3")
      .exec(["systemctl", "reboot"], { timeoutMs: 30_000 })
      .catch(() => undefined);
    await until(lab.sim, "pve3 offline in /cluster/status", async () => {
      const s = await lab.reader("pve1").clusterStatus();
      return s.nodes.find((n) => n.name === "pve3")?.online === false ? s : undefined;
    });
    // Well past the fleet's 90 s reboot (plus shutdown) time, it is still gone.
    await lab.sim.clock.sleep(200_000);
    const err = await failure(lab.reader("pve3").bootId({ timeoutMs: 30_000 }));
    expect(err).toMatchObject({ reason: SshReason.ConnectFailed, retryable: true });
    const res = await lab.reader("pve1").resources();
    expect(res.nodes.find((n) => n.node === "pve3")?.status).not.toBe("online");
    expect(lab.sim.history().bootIds.pve3?.length ?? 0).toBe(before);
  });

  it("a failed service shows as failed in systemctl is-active", async () => {
    const lab = await startLab();
    lab.sim.faults.add({ kind: "serviceFailed", host: "pve2", service: "pveproxy" });
    expect(await lab.reader("pve2").servicesActive(["pvedaemon", "pveproxy"])).toEqual({
      pvedaemon: "active",
      pveproxy: "failed",
    });
  });
});
