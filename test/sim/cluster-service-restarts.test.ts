/**
 * An upgrade of pve-cluster, corosync or pve-ha-manager restarts those services on the node, as
 * their maintainer scripts do, and PVE's CLIs answer with the real transient errors meanwhile.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const UPGRADE =
  "DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade";
const IPCC =
  "ipcc_send_rec[1] failed: Connection refused\nipcc_send_rec[2] failed: Connection refused\nipcc_send_rec[3] failed: Connection refused\nUnable to load access control list: Connection refused\n";

function fleet(packages: Record<string, { installed: string; candidate: string }>): FleetInput {
  const kernel = { running: "6.8.12-9-pve", installed: ["6.8.12-9-pve"] };
  return {
    timing: { aptPackageSeconds: 2, pmxcfsRestartSeconds: 20, corosyncRejoinSeconds: 30 },
    clusters: [
      {
        name: "pve-lab",
        nodes: [
          { name: "pve1", kernel, packages },
          { name: "pve2", kernel },
          { name: "pve3", kernel },
        ],
      },
    ],
  };
}

describe("cluster services restarted by an upgrade", () => {
  it("pve-cluster: while pmxcfs restarts inside the dpkg run, pvesh, qm and ha-manager print ipcc_send_rec errors (exit 255)", async () => {
    sim = await startSimulator({
      fleet: fleet({ "pve-cluster": { installed: "8.1.0", candidate: "8.1.2" } }),
      clock: new ScaledClock(20),
    });
    const pve1 = await SimSsh.connect(sim, "pve1");
    try {
      const upgrade = pve1.exec(UPGRADE);
      await eventually(
        () => sim!.snapshot().hosts.pve1!.services["pve-cluster"]?.active === "activating",
        "restart",
      );
      for (const cmd of ["pvesh get /cluster/status --output-format json", "qm list", "ha-manager status"])
        expect(await run(sim, "pve1", cmd)).toMatchObject({ code: 255, stderr: IPCC });
      // Other nodes are not affected.
      expect((await run(sim, "pve2", "pvesh get /cluster/status --output-format json")).code).toBe(0);
      expect((await upgrade).code).toBe(0);
      expect((await run(sim, "pve1", "qm list")).code).toBe(0);
      expect(sim.history().serviceRestarts).toEqual([
        expect.objectContaining({ host: "pve1", unit: "pve-cluster" }),
      ]);
    } finally {
      pve1.close();
    }
  });

  it("corosync: after the upgrade the node rejoins the membership late; meanwhile it is offline to the others and its writes fail with no quorum", async () => {
    sim = await startSimulator({
      fleet: fleet({ corosync: { installed: "3.1.7-pve3", candidate: "3.1.9-pve1" } }),
      clock: new ScaledClock(20),
    });
    expect((await run(sim, "pve1", UPGRADE)).code).toBe(0);
    const rows = JSON.parse(
      (await run(sim, "pve2", "pvesh get /cluster/status --output-format json")).stdout,
    ) as { type: string; name?: string; online?: number; quorate?: number }[];
    expect(rows.find((r) => r.type === "cluster")).toMatchObject({ quorate: 1 });
    expect(rows.find((r) => r.name === "pve1")).toMatchObject({ online: 0 });
    expect(await run(sim, "pve1", "ha-manager crm-command node-maintenance enable pve1")).toMatchObject({
      code: 255,
      stderr: "cluster not ready - no quorum?\n",
    });
    // On pve1 itself: a partition of one, not quorate.
    const own = JSON.parse(
      (await run(sim, "pve1", "pvesh get /cluster/status --output-format json")).stdout,
    ) as { type: string; name?: string; online?: number; quorate?: number; local?: number }[];
    expect(own.find((r) => r.type === "cluster")).toMatchObject({ quorate: 0 });
    expect(own.find((r) => r.name === "pve1")).toMatchObject({ local: 1, online: 0 });
    const pvecm = (await run(sim, "pve1", "pvecm status")).stdout;
    expect(pvecm).toMatch(/^Nodes: +1$/m);
    expect(pvecm).toMatch(/^Quorate: +No$/m);
    await eventually(
      () => sim!.snapshot().hosts.pve1!.services.corosync?.active === "active",
      "corosync to rejoin",
    );
    expect((await run(sim, "pve1", "ha-manager crm-command node-maintenance enable pve1")).code).toBe(0);
  });

  it("pve-ha-manager restarts pve-ha-lrm, then pve-ha-crm", async () => {
    sim = await startSimulator({
      fleet: fleet({ "pve-ha-manager": { installed: "4.0.6", candidate: "4.0.7" } }),
      clock: new ScaledClock(50),
    });
    expect((await run(sim, "pve1", UPGRADE)).code).toBe(0);
    expect(sim.history().serviceRestarts.map((r) => r.unit)).toEqual(["pve-ha-lrm", "pve-ha-crm"]);
  });
});
