/**
 * The backup decisions end to end against the simulator over SSH: read the container's config and
 * the storages' types, choose, take the backup with the chosen argv, read the result with the
 * outcome parser, then prune with retention. What the flow does, without the flow.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupSpec } from "../../../src/api/backup.js";
import { ScaledClock } from "../../../src/clock.js";
import { parseBackupContent } from "../../../src/pve/backup.js";
import { guestConfigArgv, parseGuestConfig } from "../../../src/pve/guest-config.js";
import { CLUSTER_RESOURCES_ARGV, parseClusterResources, storageIndex } from "../../../src/pve/resources.js";
import { parseSnapshotList } from "../../../src/pve/snapshots.js";
import { quoteArgv } from "../../../src/ssh/quote.js";
import { startSimulator, type SimHandle } from "../../../src/sim/index.js";
import { chooseBackup } from "../../../controller/guest-update/backup/choose.js";
import {
  deleteArchiveStep,
  deleteSnapshotStep,
  listArchivesStep,
  listSnapshotsStep,
  takeBackupSteps,
} from "../../../controller/guest-update/backup/commands.js";
import {
  freeOutcome,
  snapshotOutcome,
  vzdumpOutcome,
} from "../../../controller/guest-update/backup/results.js";
import {
  backupsToPrune,
  ownArchives,
  ownSnapshots,
} from "../../../controller/guest-update/backup/retention.js";
import { containerVolumes, storageTypes } from "../../../controller/guest-update/backup/volumes.js";
import { run } from "../../sim/ssh-client.js";

const FLEET = new URL("../../sim/fleets/backups.yaml", import.meta.url).pathname;
let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(50) });
});
afterAll(async () => {
  await sim?.stop();
});

async function pve1(argv: readonly string[]) {
  const r = await run(sim, "pve1", quoteArgv(argv));
  return { exitCode: r.code ?? 255, stdout: r.stdout, stderr: r.stderr };
}

async function volumesOf(vmid: number) {
  const resources = parseClusterResources((await pve1(CLUSTER_RESOURCES_ARGV)).stdout);
  const config = parseGuestConfig(
    "lxc",
    vmid,
    (await pve1(guestConfigArgv("pve1", "lxc", vmid))).stdout,
    storageIndex(resources),
  );
  return containerVolumes(config, storageTypes(resources));
}

describe("backup decisions against the simulator", () => {
  it("snapshots a container on ZFS and prunes only Refit's snapshots of this plan", async () => {
    const policy = backupSpec.parse({ retention: { keepLast: 2 } });
    const days = ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"].map(Date.parse);
    for (const now of days) {
      const choice = chooseBackup(policy, {
        plan: "apps",
        cycle: "c1",
        vmid: 120,
        volumes: await volumesOf(120),
        now,
      });
      expect(choice.kind).toBe("snapshot");
      const [step] = takeBackupSteps(120, choice);
      expect(
        snapshotOutcome(await pve1(step!.argv), 120, choice.kind === "snapshot" ? choice.name : ""),
      ).toMatchObject({ ok: true });
    }
    const list = parseSnapshotList((await pve1(listSnapshotsStep(120).argv)).stdout);
    const d = backupsToPrune(ownSnapshots(list, "apps"), policy.retention, days[2]!);
    for (const b of d.prune) expect((await pve1(deleteSnapshotStep(120, b.ref).argv)).exitCode).toBe(0);
    const after = parseSnapshotList((await pve1(listSnapshotsStep(120).argv)).stdout).snapshots.map(
      (s) => s.name,
    );
    expect(after).toEqual(["before-upgrade", "refit-apps-20260102000000", "refit-apps-20260103000000"]);
  });

  it("falls back to vzdump for a container with a mount point on NFS, and prunes its archives", async () => {
    const volumes = await volumesOf(121);
    expect(volumes.map((v) => [v.key, v.storage, v.snapshots])).toEqual([
      ["rootfs", "local-zfs", true],
      ["mp0", "nas", false],
    ]);
    const policy = backupSpec.parse({ fallbackStorage: "nas", retention: { keepLast: 1 } });
    expect(
      chooseBackup(backupSpec.parse({}), { plan: "apps", cycle: "c1", vmid: 121, volumes, now: 0 }).kind,
    ).toBe("blocked");
    const volids: string[] = [];
    for (const now of [Date.parse("2026-02-01T00:00:00Z"), Date.parse("2026-02-02T00:00:00Z")]) {
      const choice = chooseBackup(policy, { plan: "apps", cycle: "c2", vmid: 121, volumes, now });
      expect(choice).toMatchObject({ kind: "vzdump", storage: "nas", notCovered: ["mp0 on storage 'nas'"] });
      const [step] = takeBackupSteps(121, choice);
      expect(step?.job).toBe(true);
      const outcome = vzdumpOutcome(await pve1(step!.argv), 121, "nas");
      if (!outcome.ok) throw new Error(outcome.message);
      volids.push(outcome.volid!);
    }
    const archives = parseBackupContent((await pve1(listArchivesStep("pve1", "nas", 121).argv)).stdout);
    const d = backupsToPrune(
      ownArchives(archives, "apps", 121),
      policy.retention,
      Date.parse("2026-02-02T00:00:00Z"),
    );
    expect(d.prune.map((b) => b.ref)).toEqual([volids[0]]);
    expect(freeOutcome(await pve1(deleteArchiveStep(volids[0]!).argv), volids[0]!)).toMatchObject({
      ok: true,
    });
    const left = parseBackupContent((await pve1(listArchivesStep("pve1", "nas", 121).argv)).stdout).map(
      (a) => a.volid,
    );
    expect(left).toEqual([volids[1]]);
  });
});
