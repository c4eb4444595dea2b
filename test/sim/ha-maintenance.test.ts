import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle, type SimHistory } from "../../src/sim/index.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

/**
 * HA node maintenance and the HA stack after a boot, as pve-ha-manager does them (see
 * src/sim/REFERENCE-ha-shutdown.md): the LRM reports mode maintenance as soon as it picks up the
 * request, while its services are still there; the CRM moves them (all set to migrate in one
 * round, at most 4 run at once on the LRM) and back to their maintenance_node when maintenance is
 * disabled; the CRM acts only on what the LRMs wrote, so clearing maintenance while the node's LRM
 * does not run changes nothing until it runs again.
 */

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const node = (name: string): NonNullable<FleetInput["clusters"][number]["nodes"][number]> => ({
  name,
  kernel: { running: "6.8.12-9-pve" },
  memoryGiB: 128,
});

const HA_VMS = [101, 102, 103, 104, 105];
const FLEET: FleetInput = {
  // 4 GiB at 200 MiB/s: each live migration takes about 20 s.
  timing: { migrationMiBps: 200, haRoundSeconds: 10, rebootSeconds: 60 },
  clusters: [
    {
      name: "lab",
      storages: [{ name: "ceph", type: "rbd", content: ["images", "rootdir"] }],
      nodes: [node("pve1"), node("pve2"), node("pve3")],
      guests: [
        { vmid: 100, type: "qemu", name: "plain", node: "pve2", disks: [{ storage: "ceph", sizeGiB: 8 }] },
        ...HA_VMS.map((vmid) => ({
          vmid,
          type: "qemu" as const,
          name: `ha${vmid}`,
          node: "pve1",
          memoryMiB: 4096,
          ha: true,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
        })),
        {
          vmid: 200,
          type: "lxc",
          name: "hact",
          node: "pve1",
          ha: true,
          disks: [{ storage: "ceph", sizeGiB: 4 }],
        },
      ],
    },
  ],
};

async function start(fleet: FleetInput = FLEET, scale = 100): Promise<SimHandle> {
  sim = await startSimulator({ fleet, clock: new ScaledClock(scale) });
  return sim;
}

interface ManagerStatus {
  manager_status: {
    node_status: Record<string, string>;
    node_request?: Record<string, { maintenance?: number }>;
    service_status: Record<
      string,
      { node: string; state: string; maintenance_node?: string; target?: string }
    >;
  };
  lrm_status: Record<string, { mode: string; state: string; timestamp: number }>;
}

async function managerStatus(s: SimHandle, on = "pve2"): Promise<ManagerStatus> {
  const r = await run(s, on, "pvesh get /cluster/ha/status/manager_status --output-format json");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ManagerStatus;
}

function servicesOn(ms: ManagerStatus, n: string): string[] {
  return Object.entries(ms.manager_status.service_status)
    .filter(([, v]) => v.node === n)
    .map(([k]) => k)
    .sort();
}

function haLog(s: SimHandle): SimHistory["ha"] {
  return s.history().ha;
}

function first(
  log: SimHistory["ha"],
  pred: (e: SimHistory["ha"][number]) => boolean,
): SimHistory["ha"][number] {
  const e = log.find(pred);
  if (!e) throw new Error(`no such HA event in ${JSON.stringify(log, null, 1)}`);
  return e;
}

describe("HA node maintenance", () => {
  it("the LRM reports maintenance while its services are still on the node; they leave over rounds, at most 4 at once", async () => {
    const s = await start();
    expect((await run(s, "pve2", "ha-manager crm-command node-maintenance enable pve1")).code).toBe(0);

    let during: ManagerStatus | undefined;
    await eventually(async () => {
      const ms = await managerStatus(s);
      if (ms.lrm_status.pve1?.mode !== "maintenance") return false;
      during = ms;
      return true;
    }, "the LRM of pve1 to report mode maintenance");
    // Mode maintenance while every HA service is still on pve1 (none has finished moving).
    expect(during!.lrm_status.pve1).toMatchObject({ mode: "maintenance", state: "maintenance" });
    expect(during!.manager_status.node_request?.pve1).toEqual({ maintenance: 1 });
    expect(servicesOn(during!, "pve1")).toEqual(["ct:200", ...HA_VMS.map((v) => `vm:${v}`)]);

    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 0,
      "pve1 to be empty",
      30_000,
    );
    const after = await managerStatus(s);
    expect(after.manager_status.node_status.pve1).toBe("maintenance");
    for (const sid of [...HA_VMS.map((v) => `vm:${v}`), "ct:200"])
      expect(after.manager_status.service_status[sid]).toMatchObject({
        state: "started",
        maintenance_node: "pve1",
      });
    expect((await run(s, "pve3", "ha-manager status")).stdout).toMatch(/^lrm pve1 \(maintenance mode, /m);
    // The non-HA guest is not HA's business.
    expect(s.snapshot().guests["100"]!.node).toBe("pve2");

    // All were set to migrate in one CRM round, but the LRM runs at most 4 migrations at a time.
    const migrations = s.history().migrations.filter((m) => m.via === "ha");
    expect(migrations).toHaveLength(6);
    // HA relocates the CT: its worker begins with HA's shutdown, the migration record after it.
    const stops = s.history().guestEvents.filter((e) => e.event === "stop");
    const began = (m: (typeof migrations)[number]): number =>
      m.type === "lxc"
        ? (stops.find((e) => e.vmid === m.vmid && e.at <= m.startedAt)?.at ?? m.startedAt)
        : m.startedAt;
    const starts = migrations.map(began).sort((a, b) => a - b);
    expect(starts[3]! - starts[0]!).toBeLessThan(2_000);
    const firstEnd = Math.min(...migrations.map((m) => m.endedAt));
    expect(starts[4]!).toBeGreaterThanOrEqual(firstEnd);

    // The HA log, in order: queued → CRM accepted → LRM mode → CRM node state → services leave.
    const log = haLog(s).filter((e) => e.node === "pve1" || e.event === "service");
    const enable = first(log, (e) => e.event === "maintenance-enable");
    const request = first(log, (e) => e.event === "node-request" && e.to === "maintenance");
    const mode = first(log, (e) => e.event === "lrm-mode" && e.to === "maintenance");
    const status = first(log, (e) => e.event === "node-status" && e.to === "maintenance");
    const leave = first(log, (e) => e.event === "service" && e.to === "migrate");
    const arrived = first(log, (e) => e.event === "service" && e.from === "migrate" && e.to === "started");
    expect(enable).toMatchObject({ by: "pve2", lrm: "active", lrmService: "active" });
    expect(enable.at).toBeLessThanOrEqual(request.at);
    expect(request.at).toBeLessThanOrEqual(mode.at);
    expect(mode.at).toBeLessThanOrEqual(status.at);
    expect(status.at).toBeLessThanOrEqual(leave.at);
    expect(mode.at).toBeLessThan(arrived.at);
    expect(first(log, (e) => e.event === "lrm-state" && e.to === "maintenance").at).toBeLessThan(arrived.at);
  }, 60_000);

  it("disable brings every service back to its maintenance_node; the LRM goes back to active", async () => {
    const s = await start();
    await run(s, "pve2", "ha-manager crm-command node-maintenance enable pve1");
    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 0,
      "pve1 to be empty",
      30_000,
    );
    // A service moved by hand meanwhile would lose its fallback; these were not.
    expect((await run(s, "pve3", "ha-manager crm-command node-maintenance disable pve1")).code).toBe(0);
    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 6,
      "the services to come back",
      30_000,
    );
    const ms = await managerStatus(s);
    expect(ms.manager_status.node_status.pve1).toBe("online");
    expect(ms.manager_status.node_request?.pve1).toEqual({});
    for (const v of Object.values(ms.manager_status.service_status))
      expect(v.maintenance_node).toBeUndefined();
    await eventually(
      async () => (await managerStatus(s)).lrm_status.pve1?.state === "active",
      "the LRM to be active",
    );
    const log = haLog(s).filter((e) => e.node === "pve1");
    const disable = first(log, (e) => e.event === "maintenance-disable");
    expect(disable).toMatchObject({ by: "pve3", lrm: "maintenance", lrmService: "active" });
    const modeBack = first(
      log,
      (e) => e.event === "lrm-mode" && e.from === "maintenance" && e.to === "active",
    );
    const online = first(
      log,
      (e) => e.event === "node-status" && e.from === "maintenance" && e.to === "online",
    );
    expect(disable.at).toBeLessThanOrEqual(modeBack.at);
    expect(modeBack.at).toBeLessThanOrEqual(online.at);
  }, 60_000);

  it("enabling maintenance for a node that is not online is dropped by the CRM", async () => {
    const s = await start();
    s.faults.add({ kind: "neverReturns", host: "pve3" });
    await run(s, "pve3", "poweroff");
    await eventually(
      async () => (await managerStatus(s, "pve1")).manager_status.node_status.pve3 === "unknown",
      "pve3 unknown",
    );
    expect((await run(s, "pve1", "ha-manager crm-command node-maintenance enable pve3")).code).toBe(0);
    await eventually(
      () => haLog(s).some((e) => e.event === "node-request" && e.node === "pve3"),
      "the CRM round",
    );
    expect(haLog(s).find((e) => e.event === "node-request" && e.node === "pve3")).toMatchObject({
      to: "dropped",
      detail: "crm command error - node not online: enable-node-maintenance pve3",
      lrm: "not-running",
      lrmService: "down",
    });
    expect((await managerStatus(s, "pve1")).manager_status.node_request?.pve3).toBeUndefined();
  }, 30_000);

  it("refuses an unknown node with PVE::Cluster's text", async () => {
    const s = await start();
    expect(await run(s, "pve1", "ha-manager crm-command node-maintenance enable pve9")).toMatchObject({
      code: 255,
      stderr: "no such cluster node 'pve9'\n",
    });
  });
});

describe("maintenance across a reboot", () => {
  const SLOW_BOOT: FleetInput = { ...FLEET, timing: { ...FLEET.timing, servicesStartSeconds: 600 } };

  it("disabled while the node's LRM is not running: node_status stays maintenance and nothing returns until the LRM runs", async () => {
    const s = await start(SLOW_BOOT);
    await run(s, "pve2", "ha-manager crm-command node-maintenance enable pve1");
    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 0,
      "pve1 to be empty",
      30_000,
    );
    const enabled = first(haLog(s), (e) => e.event === "maintenance-enable");
    expect((await run(s, "pve1", "reboot")).code).toBe(0);
    await eventually(() => s.history().reboots.length === 1, "pve1 to boot again", 30_000);
    // Up (SSH accepts) but pve-ha-lrm still activating: the LRM does not run.
    expect(await run(s, "pve1", "systemctl is-active pve-ha-lrm")).toMatchObject({
      code: 3,
      stdout: "activating\n",
    });
    expect((await run(s, "pve2", "ha-manager crm-command node-maintenance disable pve1")).code).toBe(0);
    const disable = first(haLog(s), (e) => e.event === "maintenance-disable");
    expect(disable).toMatchObject({ lrm: "not-running", lrmService: "activating" });
    await eventually(
      () => haLog(s).some((e) => e.event === "node-request" && e.node === "pve1" && e.to === "none"),
      "the CRM to clear the request",
    );
    // The CRM cleared the request, but it acts on what the LRM wrote before the reboot.
    const cleared = await managerStatus(s);
    expect(cleared.manager_status.node_request?.pve1).toEqual({});
    expect(cleared.manager_status.node_status.pve1).toBe("maintenance");
    expect(cleared.lrm_status.pve1?.mode).toBe("maintenance");
    expect(servicesOn(cleared, "pve1")).toEqual([]);
    expect((await run(s, "pve3", "ha-manager status")).stdout).toMatch(/^lrm pve1 \(maintenance mode, /m);

    // Once pve-ha-lrm runs it writes mode active; the CRM then brings the services home.
    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 6,
      "the services to come back",
      30_000,
    );
    const log = haLog(s).filter((e) => e.node === "pve1");
    const reboot = s.history().reboots[0]!;
    const modeBack = first(
      log,
      (e) => e.event === "lrm-mode" && e.from === "maintenance" && e.to === "active",
    );
    const online = first(
      log,
      (e) => e.event === "node-status" && e.from === "maintenance" && e.to === "online",
    );
    expect(enabled.at).toBeLessThan(reboot.at);
    expect(modeBack.at).toBeGreaterThan(reboot.at);
    expect(modeBack.lrmService).toBe("active");
    expect(online.at).toBeGreaterThanOrEqual(modeBack.at);
    expect(online.lrm).not.toBe("not-running");
  }, 60_000);

  it("the HA log proves maintenance was enabled before the reboot and disabled only once the node's LRM ran", async () => {
    const s = await start();
    await run(s, "pve2", "ha-manager crm-command node-maintenance enable pve1");
    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 0,
      "pve1 to be empty",
      30_000,
    );
    await run(s, "pve1", "reboot");
    await eventually(() => s.history().reboots.length === 1, "pve1 to boot again", 30_000);
    await eventually(
      async () =>
        (await run(s, "pve1", "systemctl is-active pve-ha-lrm").catch(() => ({ code: 1 }))).code === 0,
      "pve-ha-lrm to be active",
    );
    await eventually(async () => {
      const ms = await managerStatus(s);
      return ms.lrm_status.pve1!.timestamp * 1000 > s.history().reboots[0]!.at;
    }, "the LRM to write its status");
    const ms = await managerStatus(s);
    // After a reboot into maintenance the LRM waits for its agent lock (no service to run).
    expect(ms.lrm_status.pve1).toMatchObject({ mode: "maintenance", state: "wait_for_agent_lock" });
    await run(s, "pve2", "ha-manager crm-command node-maintenance disable pve1");
    const log = haLog(s).filter((e) => e.node === "pve1");
    const enable = first(log, (e) => e.event === "maintenance-enable");
    const disable = first(log, (e) => e.event === "maintenance-disable");
    const reboot = s.history().reboots[0]!;
    expect(enable.at).toBeLessThan(reboot.at);
    expect(disable.at).toBeGreaterThan(reboot.at);
    expect(disable).toMatchObject({ lrmService: "active", lrm: "wait_for_agent_lock" });
    await eventually(
      async () => servicesOn(await managerStatus(s), "pve1").length === 6,
      "the services back",
      30_000,
    );
  }, 60_000);
});

describe("services after boot", () => {
  it("pve-ha-lrm is activating for servicesStartSeconds after boot; frozen HA guests start only once the LRM runs", async () => {
    const s = await start({ ...FLEET, timing: { ...FLEET.timing, servicesStartSeconds: 600 } });
    const before = s.clock.now();
    await run(s, "pve1", "reboot");
    // A reboot freezes the HA services (the LRM switches to mode restart).
    await eventually(async () => {
      const ms = await managerStatus(s, "pve2");
      return ms.manager_status.service_status["vm:101"]?.state === "freeze";
    }, "vm:101 frozen");
    await eventually(() => s.history().reboots.length === 1, "pve1 to boot", 30_000);
    let conn: SimSsh | undefined;
    await eventually(
      async () => (conn = await SimSsh.connect(s, "pve1").catch(() => undefined)) !== undefined,
      "pve1 to accept SSH again",
    );
    try {
      const early = await conn!.exec("systemctl is-active ssh pve-ha-lrm");
      expect(early).toMatchObject({ code: 3, stdout: "active\nactivating\n" });
      expect(s.snapshot().guests["101"]!.status).toBe("stopped");
    } finally {
      conn!.close();
    }
    await eventually(
      () => s.snapshot().guests["101"]!.status === "running",
      "vm:101 to start after the LRM runs",
      30_000,
    );
    const boot = s.history().reboots[0]!.at;
    const lrmUp = first(
      haLog(s),
      (e) => e.node === "pve1" && e.at > boot && e.event === "lrm-mode" && e.to === "active",
    );
    const started = s
      .history()
      .guestEvents.find((e) => e.vmid === 101 && e.event === "start" && e.at > before)!;
    expect(started.reason).toBe("ha-start");
    // pve-ha-lrm becomes active 150 s after boot; the guest starts after that, not at boot.
    expect(lrmUp.at - boot).toBeGreaterThanOrEqual(150_000);
    expect(started.at).toBeGreaterThan(lrmUp.at);
    expect(s.history().guestEvents.find((e) => e.vmid === 101 && e.event === "stop")?.reason).toBe(
      "node-reboot",
    );
  }, 60_000);

  it("corosync joins a little after SSH: the node is offline in /cluster/status until then", async () => {
    // corosync comes up at 30% of the window: 600 sim s, 6 s real at 100x, so a loaded machine's
    // slow SSH round trips still look inside it.
    const s = await start({ ...FLEET, timing: { ...FLEET.timing, servicesStartSeconds: 2000 } });
    await run(s, "pve3", "reboot");
    await eventually(() => s.history().reboots.length === 1, "pve3 to boot", 30_000);
    const rows = JSON.parse(
      (await run(s, "pve1", "pvesh get /cluster/status --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(rows.find((r) => r.name === "pve3")).toMatchObject({ online: 0 });
    expect(await run(s, "pve3", "systemctl is-active corosync")).toMatchObject({
      code: 3,
      stdout: "activating\n",
    });
    await eventually(async () => {
      const now = JSON.parse(
        (await run(s, "pve1", "pvesh get /cluster/status --output-format json")).stdout,
      ) as Record<string, unknown>[];
      return now.find((r) => r.name === "pve3")?.online === 1;
    }, "pve3 to rejoin");
  }, 60_000);

  it("an HA shutdown of a VM that ignores ACPI is forced after its timeout", async () => {
    const s = await start();
    s.faults.add({ kind: "ignoresShutdown", vmid: 102 });
    const r = await run(s, "pve1", "qm shutdown 102 --timeout 20");
    expect(r).toMatchObject({ code: 0, stdout: "Requesting HA stop for VM 102\n" });
    await eventually(() => s.snapshot().guests["102"]!.status === "stopped", "vm:102 to stop", 30_000);
    expect(s.history().guestEvents.find((e) => e.vmid === 102 && e.event === "stop")?.reason).toBe(
      "ha-stop-forced",
    );
    // The CRM takes the LRM's result in its next round: request_stop → stopped.
    await eventually(
      async () => (await managerStatus(s)).manager_status.service_status["vm:102"]?.state === "stopped",
      "the CRM to record vm:102 stopped",
    );
    expect(s.snapshot().guests["102"]!.ha?.state).toBe("stopped");
  }, 30_000);
});
