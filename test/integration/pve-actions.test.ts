/**
 * Every PveActions operation against the simulator over real SSH, each checked by reading the world
 * back through PveReader (what the controller would see) and through the simulator's history (what
 * really happened: migrations, guest stops and starts).
 */
import { describe, expect, it } from "vitest";
import { PveReason, isUpToDate, pctExecArgv } from "../../src/pve/index.js";
import { startLab, until } from "./support.js";

describe("PveActions against the simulator", () => {
  it("apt-get update brings a newly published version into apt's simulation", async () => {
    const lab = await startLab();
    expect(isUpToDate(await lab.reader("pve3").pendingUpdates())).toBe(true);
    lab.sim.publish({ package: "pve-manager", version: "8.4.3", node: "pve3" });
    // Published upstream only: invisible until the index is refreshed, as on a real host.
    expect(isUpToDate(await lab.reader("pve3").pendingUpdates())).toBe(true);
    await lab.actions("pve3").refreshPackageIndex();
    const pending = await lab.reader("pve3").pendingUpdates();
    expect(pending.changes.map((c) => [c.package, c.oldVersion, c.newVersion])).toEqual([
      ["pve-manager", "8.4.2", "8.4.3"],
    ]);
  });

  it("node maintenance moves the HA guest away and back, and HA status shows it", async () => {
    const lab = await startLab();
    const reader = lab.reader("pve2");
    await lab.actions("pve1").setNodeMaintenance("pve1", true);
    const during = await until(lab.sim, "pve1 in maintenance with vm:101 moved away", async () => {
      const s = await reader.haManagerStatus();
      const svc = s.services["vm:101"];
      return s.nodeStatus.pve1 === "maintenance" && svc?.node !== "pve1" && svc?.state === "started"
        ? s
        : undefined;
    });
    expect(during.lrm.pve1?.mode).toBe("maintenance");
    const movedTo = during.services["vm:101"]?.node;
    expect(["pve2", "pve3"]).toContain(movedTo);
    // Non-HA guests are left alone by HA maintenance.
    expect((await reader.resources()).guests.find((g) => g.vmid === 100)?.node).toBe("pve1");

    await lab.actions("pve1").setNodeMaintenance("pve1", false);
    await until(lab.sim, "pve1 online with vm:101 back home", async () => {
      const s = await reader.haManagerStatus();
      const svc = s.services["vm:101"];
      return s.nodeStatus.pve1 === "online" && svc?.node === "pve1" && svc.state === "started"
        ? s
        : undefined;
    });
    const moves = lab.sim.history().migrations.filter((m) => m.vmid === 101);
    expect(moves.map((m) => [m.from, m.to, m.via, m.ok])).toEqual([
      ["pve1", movedTo, "ha", true],
      [movedTo, "pve1", "ha", true],
    ]);
  });

  it("migrateVm moves a running VM online without stopping it", async () => {
    const lab = await startLab();
    const r = await lab.actions("pve1").migrateVm(100, "pve2");
    expect(r.exitCode).toBe(0);
    const res = await lab.reader("pve3").resources();
    expect(res.guests.find((g) => g.vmid === 100)).toMatchObject({ node: "pve2", status: "running" });
    const history = lab.sim.history();
    expect(history.migrations.filter((m) => m.vmid === 100)).toEqual([
      expect.objectContaining({ from: "pve1", to: "pve2", online: true, ok: true, via: "cli" }),
    ]);
    expect(history.guestEvents.filter((e) => e.vmid === 100)).toEqual([]);
  });

  it("migrateVm refuses a VM with a passed-through device, and the VM stays put", async () => {
    const lab = await startLab();
    const err = await lab
      .actions("pve2")
      .migrateVm(102, "pve3", { withLocalDisks: true })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: PveReason.CommandFailed, retryable: true });
    expect(String((err as Error).message)).toMatch(/hostpci0/);
    const res = await lab.reader("pve2").resources();
    expect(res.guests.find((g) => g.vmid === 102)).toMatchObject({ node: "pve2", status: "running" });
  });

  it("migrateCt with restart stops the container, moves it and starts it on the target", async () => {
    const lab = await startLab();
    await lab.actions("pve1").migrateCt(200, "pve2", { restart: true });
    const res = await lab.reader("pve2").resources();
    expect(res.guests.find((g) => g.vmid === 200)).toMatchObject({ node: "pve2", status: "running" });
    const history = lab.sim.history();
    expect(history.migrations.filter((m) => m.vmid === 200)).toEqual([
      expect.objectContaining({ from: "pve1", to: "pve2", online: false, ok: true }),
    ]);
    expect(history.guestEvents.filter((e) => e.vmid === 200).map((e) => [e.event, e.node])).toEqual([
      ["stop", "pve1"],
      ["start", "pve2"],
    ]);
  });

  it("haMigrate queues an HA migration that the CRM carries out", async () => {
    const lab = await startLab();
    await lab.actions("pve3").haMigrate("qemu", 101, "pve3");
    await until(lab.sim, "vm:101 on pve3", async () => {
      const s = await lab.reader("pve3").haManagerStatus();
      return s.services["vm:101"]?.node === "pve3" && s.services["vm:101"]?.state === "started"
        ? s
        : undefined;
    });
    expect(lab.sim.history().migrations.filter((m) => m.vmid === 101)).toEqual([
      expect.objectContaining({ from: "pve1", to: "pve3", ok: true, via: "ha" }),
    ]);
    expect((await lab.reader("pve1").guestStatus("pve3", "qemu", 101)).status).toBe("running");
  });

  it("creates, lists, rolls back to and deletes a snapshot", async () => {
    const lab = await startLab();
    const actions = lab.actions("pve1");
    const reader = lab.reader("pve1");
    await actions.createSnapshot("qemu", 100, "refit-test-1", { description: "before update" });
    const listed = await reader.snapshots("qemu", 100);
    expect(listed.snapshots.map((s) => [s.name, s.description])).toEqual([["refit-test-1", "before update"]]);
    expect(listed.currentParent).toBe("refit-test-1");

    await actions.rollbackSnapshot("qemu", 100, "refit-test-1");
    expect((await reader.snapshots("qemu", 100)).snapshots.map((s) => s.name)).toEqual(["refit-test-1"]);

    await actions.deleteSnapshot("qemu", 100, "refit-test-1");
    const after = await reader.snapshots("qemu", 100);
    expect(after.snapshots).toEqual([]);
    expect(after.hasCurrent).toBe(true);
  });

  it("a container snapshot rollback restores the container's packages", async () => {
    const lab = await startLab();
    const actions = lab.actions("pve1");
    await actions.createSnapshot("lxc", 200, "refit-test-2");
    const version = async (): Promise<string> =>
      (await actions.pctExec(200, ["dpkg-query", "-W", "-f", "${Version}", "nginx"])).stdout;
    expect(await version()).toBe("1.22.1-9");
    const upgrade = await actions.pctExec(200, ["apt-get", "-y", "dist-upgrade"]);
    expect(upgrade.exitCode).toBe(0);
    expect(await version()).toBe("1.22.1-9+deb12u1");
    await actions.rollbackSnapshot("lxc", 200, "refit-test-2", { start: true });
    expect(await version()).toBe("1.22.1-9");
    expect((await lab.reader("pve1").guestStatus("pve1", "lxc", 200)).status).toBe("running");
  });

  it("vzdump writes an archive that restore brings back", async () => {
    const lab = await startLab();
    const actions = lab.actions("pve2");
    const archive = await actions.vzdump(201, { storage: "local" });
    expect(archive.volid).toMatch(
      /^local:backup\/vzdump-lxc-201-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.tar\.zst$/,
    );
    await actions.guestPower("lxc", "stop", 201);
    await actions.restore("lxc", 201, archive.volid, { storage: "local-zfs" });
    await actions.guestPower("lxc", "start", 201);
    expect((await lab.reader("pve2").guestStatus("pve2", "lxc", 201)).status).toBe("running");
  });

  it("pctExec runs argv inside the container and returns its own exit code", async () => {
    const lab = await startLab();
    const r = await lab.actions("pve1").pctExec(200, ["sh", "-c", 'echo "it\'s inside"; exit 3']);
    expect(r).toMatchObject({ exitCode: 3, stdout: "it's inside\n" });
    expect(lab.sim.history().commands.some((c) => c.via === "pct-exec" && c.command.includes("exit 3"))).toBe(
      true,
    );
  });

  it("pct exec with an environment (pctExecArgv's env) runs the command with it", async () => {
    const lab = await startLab();
    const argv = pctExecArgv(200, ["sh", "-c", 'echo "$REFIT_PROBE"'], { env: { REFIT_PROBE: "a b'c" } });
    const r = await lab.exec("pve1").exec(argv, { timeoutMs: 60_000 });
    expect(r).toMatchObject({ exitCode: 0, stdout: "a b'c\n" });
  });

  it("guest power: shutdown and start a VM, stop and start a container", async () => {
    const lab = await startLab();
    const actions = lab.actions("pve1");
    const reader = lab.reader("pve1");
    await actions.guestPower("qemu", "shutdown", 100, { timeoutSec: 60 });
    expect((await reader.guestStatus("pve1", "qemu", 100)).status).toBe("stopped");
    await actions.guestPower("qemu", "start", 100);
    expect((await reader.guestStatus("pve1", "qemu", 100)).status).toBe("running");
    await lab.actions("pve2").guestPower("lxc", "stop", 203);
    expect((await lab.reader("pve2").guestStatus("pve2", "lxc", 203)).status).toBe("stopped");
    await lab.actions("pve2").guestPower("lxc", "start", 203);
    expect((await lab.reader("pve2").guestStatus("pve2", "lxc", 203)).status).toBe("running");
    const events = lab.sim.history().guestEvents.filter((e) => e.vmid === 100 || e.vmid === 203);
    expect(events.map((e) => [e.vmid, e.event])).toEqual([
      [100, "stop"],
      [100, "start"],
      [203, "stop"],
      [203, "start"],
    ]);
  });
});
