import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, ScaledClock } from "../../src/clock.js";
import {
  hasNoout,
  parseCephHealth,
  recoveryChecks,
  withoutOwnNoout,
  type CephHealth,
} from "../../src/pve/ceph.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "./ssh-client.js";

function fleet(ceph: boolean, slowNode?: string): FleetInput {
  const node = (name: string) => ({
    ...(name === slowNode ? { rebootSeconds: 900 } : {}),
    name,
    memoryGiB: 16,
    cpus: 4,
    kernel: { running: "6.8.12-9-pve", installed: ["6.8.12-9-pve"] },
    packages: { "pve-manager": "8.4.1" },
  });
  return {
    timing: { rebootSeconds: 30 },
    clusters: [
      {
        name: "hci",
        nodes: [node("pve1"), node("pve2"), node("pve3")],
        ...(ceph ? { ceph: { osdsPerNode: 2, recoverySeconds: 120 } } : {}),
      },
    ],
  };
}

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const healthOf = async (s: SimHandle, from = "pve1") =>
  parseCephHealth((await run(s, from, "ceph --connect-timeout 10 health detail --format json")).stdout);

describe("simulated Ceph", () => {
  it("is set up as pveceph does it: /etc/pve/ceph.conf and the ceph CLI; healthy", async () => {
    sim = await startSimulator({ fleet: fleet(true), clock: new ScaledClock(100) });
    expect((await run(sim, "pve2", "test -f /etc/pve/ceph.conf")).code).toBe(0);
    expect((await run(sim, "pve2", "cat /etc/pve/ceph.conf")).stdout).toContain("osd_pool_default_size = 3");
    expect((await run(sim, "pve1", "ceph health")).stdout).toBe("HEALTH_OK\n");
    expect(await healthOf(sim)).toEqual({ status: "HEALTH_OK", checks: [] });
    expect((await run(sim, "pve3", "pveceph status")).stdout).toContain("health: HEALTH_OK");
    const s = await run(sim, "pve1", "ceph -s");
    expect(s.stdout).toContain("osd: 6 osds: 6 up, 6 in");
    expect(s.stdout).toContain("mon: 3 daemons, quorum pve1,pve2,pve3");
  });

  it("has no ceph on a cluster without it", async () => {
    sim = await startSimulator({ fleet: fleet(false), clock: new ScaledClock(100) });
    expect((await run(sim, "pve1", "test -f /etc/pve/ceph.conf")).code).toBe(1);
    expect((await run(sim, "pve1", "ceph health")).code).toBe(127);
    const pveceph = await run(sim, "pve1", "pveceph status");
    expect({ code: pveceph.code, stderr: pveceph.stderr }).toEqual({
      code: 255,
      stderr: "binary not installed: /usr/bin/ceph-mon\n",
    });
  });

  it("shows a node's noout flag as Ceph prints it (OSD_FLAGS), and the cluster-wide one (OSDMAP_FLAGS)", async () => {
    sim = await startSimulator({ fleet: fleet(true), clock: new ScaledClock(100) });
    expect((await run(sim, "pve1", "ceph --connect-timeout 10 osd set-group noout pve2")).code).toBe(0);
    const text = (await run(sim, "pve3", "ceph health detail")).stdout;
    expect(text).toBe(
      "HEALTH_WARN 1 OSDs or CRUSH {nodes, device-classes} have {NOUP,NODOWN,NOIN,NOOUT} flags set\n" +
        "[WRN] OSD_FLAGS: 1 OSDs or CRUSH {nodes, device-classes} have {NOUP,NODOWN,NOIN,NOOUT} flags set\n" +
        "    host pve2 has flags noout\n",
    );
    const h = await healthOf(sim, "pve3");
    expect(hasNoout(h, "pve2")).toBe(true);
    expect(withoutOwnNoout(h, "pve2").status).toBe("HEALTH_OK");
    const set = await run(sim, "pve1", "ceph osd set noout");
    expect(set.stderr).toBe("noout is set\n");
    expect((await run(sim, "pve1", "ceph health")).stdout).toContain("noout flag(s) set");
    expect((await run(sim, "pve1", "ceph osd unset-group noout pve2")).code).toBe(0);
    expect((await run(sim, "pve1", "ceph osd unset noout")).code).toBe(0);
    expect((await run(sim, "pve1", "ceph health")).stdout).toBe("HEALTH_OK\n");
    const bad = await run(sim, "pve1", "ceph osd set-group noout pve9");
    expect(bad.code).toBe(22);
    expect(bad.stderr).toContain('unable to parse osd id or crush node or device class: "pve9"');
  });

  it("takes a node's OSDs down with it; after its return the PGs recover in sim time, then HEALTH_OK", async () => {
    const clock = new ManualClock();
    const s = await startSimulator({ fleet: fleet(true), clock });
    sim = s;
    await run(s, "pve1", "ceph osd set-group noout pve2");
    await run(s, "pve2", "reboot");
    await eventually(async () => {
      clock.advance(1000);
      return (await healthOf(s)).checks.some((c) => c.code === "OSD_DOWN");
    }, "pve2's OSDs to go down");
    const down = await healthOf(s);
    expect(down.checks.map((c) => c.code)).toEqual([
      "OSD_FLAGS",
      "MON_DOWN",
      "OSD_DOWN",
      "OSD_HOST_DOWN",
      "PG_DEGRADED",
    ]);
    expect(down.checks.find((c) => c.code === "OSD_DOWN")?.detail).toEqual([
      "osd.2 (root=default,host=pve2) is down",
      "osd.3 (root=default,host=pve2) is down",
    ]);
    await eventually(() => {
      clock.advance(1000);
      return s.history().reboots.some((r) => r.host === "pve2");
    }, "pve2 to come back");
    const back = withoutOwnNoout(await healthOf(s), "pve2");
    expect(recoveryChecks(back).map((c) => c.code)).toEqual(["PG_DEGRADED"]);
    clock.advance(60_000);
    expect(recoveryChecks(withoutOwnNoout(await healthOf(s), "pve2")).map((c) => c.code)).toEqual([
      "PG_DEGRADED",
    ]);
    clock.advance(61_000);
    const recovered = await healthOf(s);
    expect(withoutOwnNoout(recovered, "pve2")).toEqual({ status: "HEALTH_OK", checks: [] });
    expect(hasNoout(recovered, "pve2")).toBe(true);
  });

  it("without noout, a node down past mon_osd_down_out_interval has its OSDs marked out; its return is a backfill", async () => {
    const clock = new ManualClock();
    const s = await startSimulator({ fleet: fleet(true, "pve3"), clock });
    sim = s;
    const osdLine = async () => /osd: .*/.exec((await run(s, "pve1", "ceph -s")).stdout)?.[0];
    await run(s, "pve3", "reboot");
    await eventually(async () => {
      clock.advance(5000);
      return (await osdLine()) === "osd: 6 osds: 4 up, 6 in" && s.snapshot().hosts.pve3?.power === "down";
    }, "pve3 to go down");
    clock.advance(660_000);
    expect(await osdLine()).toBe("osd: 6 osds: 4 up, 4 in");
    // Ceph re-replicates the node's data elsewhere (rebalanceSeconds, 480 by default): degraded shrinks.
    const degraded = (h: CephHealth) =>
      Number(
        /(\d+)\/36000 objects degraded/.exec(
          h.checks.find((c) => c.code === "PG_DEGRADED")?.summary ?? "",
        )?.[1] ?? 0,
      );
    const before = degraded(await healthOf(s));
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(12000);
    await eventually(() => {
      clock.advance(10_000);
      return s.history().reboots.some((r) => r.host === "pve3");
    }, "pve3 to come back");
    const back = await healthOf(s);
    expect(back.checks.map((c) => c.code)).toEqual(["OBJECT_MISPLACED"]);
    clock.advance(480_000);
    expect(await healthOf(s)).toEqual({ status: "HEALTH_OK", checks: [] });
  });

  it("with noout the same long outage keeps the OSDs in, and the return is a short recovery", async () => {
    const clock = new ManualClock();
    const s = await startSimulator({ fleet: fleet(true, "pve3"), clock });
    sim = s;
    await run(s, "pve1", "ceph osd set-group noout pve3");
    await run(s, "pve3", "reboot");
    await eventually(() => {
      clock.advance(10_000);
      return s.history().reboots.some((r) => r.host === "pve3");
    }, "pve3 to come back");
    expect((await run(s, "pve1", "ceph -s")).stdout).toContain("osd: 6 osds: 6 up, 6 in");
    const back = withoutOwnNoout(await healthOf(s), "pve3");
    expect(back.checks.map((c) => c.code)).toEqual(["PG_DEGRADED"]);
  });

  it("times out as the real CLI does when the monitors have no quorum", async () => {
    const clock = new ManualClock();
    const s = await startSimulator({ fleet: fleet(true), clock });
    sim = s;
    await run(s, "pve2", "poweroff");
    await run(s, "pve3", "poweroff");
    await eventually(async () => {
      clock.advance(1000);
      return (await run(s, "pve1", "pvecm status")).stdout.includes("Quorate:          No");
    }, "quorum to go");
    const pending = run(s, "pve1", "ceph --connect-timeout 10 health");
    await eventually(async () => {
      clock.advance(1000);
      return Promise.race([
        pending.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 20)),
      ]);
    }, "ceph to give up");
    const r = await pending;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("[errno 110] RADOS timed out (error connecting to the cluster)\n");
  });
});
