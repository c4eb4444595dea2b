/**
 * Votequorum in the simulator: a QDevice, multi-vote nodes and two_node, printed by `pvecm status`
 * in corosync-quorumtool's layout (test/pve/fixtures/pvecm-status.qdevice*.txt, two-node, multi-vote)
 * and parsed back by Refit's own parser.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { parsePvecmStatus } from "../../src/pve/cluster.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "./ssh-client.js";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

type ClusterInput = FleetInput["clusters"][number];

function fleet(cluster: Partial<ClusterInput>, nodes: { votes?: number }[]): FleetInput {
  return {
    timing: { rebootSeconds: 30 },
    clusters: [
      {
        name: "pve-q",
        ...cluster,
        nodes: nodes.map((n, i) => ({
          name: `pve${i + 1}`,
          ip: `10.0.0.${i + 1}`,
          kernel: { running: "6.8.12-9-pve", installed: ["6.8.12-9-pve"] },
          ...n,
        })),
      },
    ],
  };
}

async function pvecm(node: string): Promise<string> {
  const r = await run(sim!, node, "pvecm status");
  expect(r.code).toBe(0);
  return r.stdout;
}

describe("pvecm status in the simulator", () => {
  it("prints a QDevice as corosync-quorumtool does: the Qdevice column, the nodeid-0 line, Qdevice in Flags", async () => {
    sim = await startSimulator({ fleet: fleet({ qdevice: {} }, [{}, {}]), clock: new ScaledClock(100) });
    const text = await pvecm("pve1");
    expect(text).toContain(
      "Expected votes:   3\nHighest expected: 3\nTotal votes:      3\nQuorum:           2  \n",
    );
    expect(text).toContain("Flags:            Quorate Qdevice \n");
    expect(text).toContain(
      [
        "    Nodeid      Votes    Qdevice Name",
        "0x00000001          1    A,V,NMW 10.0.0.1 (local)",
        "0x00000002          1    A,V,NMW 10.0.0.2",
        "0x00000000          1            Qdevice",
      ].join("\n"),
    );
    expect(parsePvecmStatus(text).qdevice).toEqual({ name: "Qdevice", votes: 1, configuredVotes: 1 });
  });

  it("a QDevice whose qnetd is unreachable casts no vote: NA,NV and `(votes 1)`", async () => {
    sim = await startSimulator({
      fleet: fleet({ qdevice: { alive: false } }, [{}, {}]),
      clock: new ScaledClock(100),
    });
    const text = await pvecm("pve2");
    expect(text).toContain("Total votes:      2\n");
    expect(text).toContain("0x00000002          1  NA,NV,NMW 10.0.0.2 (local)\n");
    expect(text).toContain("0x00000000          0            Qdevice (votes 1)\n");
  });

  it("gives an odd cluster's QDevice N-1 votes, and keeps quorum with one node and the QDevice", async () => {
    sim = await startSimulator({ fleet: fleet({ qdevice: {} }, [{}, {}, {}]), clock: new ScaledClock(100) });
    expect(parsePvecmStatus(await pvecm("pve1"))).toMatchObject({
      expectedVotes: 5,
      totalVotes: 5,
      quorum: 3,
    });
    sim.faults.add({ kind: "neverReturns", host: "pve2" });
    sim.faults.add({ kind: "neverReturns", host: "pve3" });
    await run(sim, "pve2", "systemctl reboot");
    await run(sim, "pve3", "systemctl reboot");
    await eventually(async () => /^Nodes: +1$/m.test(await pvecm("pve1")), "two nodes down");
    expect(parsePvecmStatus(await pvecm("pve1"))).toMatchObject({ quorate: true, totalVotes: 3, quorum: 3 });
  });

  it("counts a node's quorum_votes: a two-vote node down leaves 2 of 4, not quorate", async () => {
    sim = await startSimulator({ fleet: fleet({}, [{ votes: 2 }, {}, {}]), clock: new ScaledClock(100) });
    const text = await pvecm("pve2");
    expect(text).toContain("0x00000001          2 10.0.0.1\n");
    expect(parsePvecmStatus(text)).toMatchObject({ expectedVotes: 4, totalVotes: 4, quorum: 3 });
    sim.faults.add({ kind: "neverReturns", host: "pve1" });
    await run(sim, "pve1", "systemctl reboot");
    await eventually(async () => /^Quorate: +No$/m.test(await pvecm("pve2")), "quorum loss");
    expect(await pvecm("pve2")).toContain("Quorum:           3 Activity blocked\n");
  });

  it("two_node: 2Node and WaitForAll in Flags, quorum 1, and the survivor stays quorate", async () => {
    sim = await startSimulator({ fleet: fleet({ twoNode: true }, [{}, {}]), clock: new ScaledClock(100) });
    const text = await pvecm("pve1");
    expect(text).toContain("Quorum:           1  \nFlags:            2Node Quorate WaitForAll \n");
    sim.faults.add({ kind: "neverReturns", host: "pve2" });
    await run(sim, "pve2", "systemctl reboot");
    await eventually(async () => /^Total votes: +1$/m.test(await pvecm("pve1")), "pve2 down");
    expect(parsePvecmStatus(await pvecm("pve1"))).toMatchObject({ quorate: true, quorum: 1, twoNode: true });
  });

  it("two_node's wait_for_all: a node that boots while the other is down stays inquorate until it has seen it", async () => {
    sim = await startSimulator({
      fleet: fleet({ twoNode: true, qdevice: undefined }, [{}, {}]),
      clock: new ScaledClock(100),
    });
    sim.faults.add({ kind: "crashWhileRebooting", host: "pve2", rebooting: "pve1", downSeconds: 600 });
    await run(sim, "pve1", "systemctl reboot");
    await eventually(() => sim!.history().reboots.some((r) => r.host === "pve1"), "pve1 back");
    // pmxcfs and corosync come up over the boot (pvecm fails until pmxcfs runs).
    await eventually(
      async () => /^Nodes: +1$/m.test((await run(sim!, "pve1", "pvecm status")).stdout),
      "pve1 a member",
    );
    const alone = await pvecm("pve1");
    expect(alone).toMatch(/^Quorate: +No$/m);
    const rows = JSON.parse(
      (await run(sim, "pve1", "pvesh get /cluster/status --output-format json")).stdout,
    ) as { type: string; quorate?: number }[];
    expect(rows[0]).toMatchObject({ type: "cluster", quorate: 0 });
    // pve2 powers on again: both seen at once, wait_for_all is satisfied.
    await eventually(async () => /^Quorate: +Yes$/m.test(await pvecm("pve1")), "quorum with both nodes");
  });

  it("refuses two_node together with a QDevice, as corosync does", async () => {
    await expect(
      startSimulator({ fleet: fleet({ twoNode: true, qdevice: {} }, [{}, {}]), clock: new ScaledClock(100) }),
    ).rejects.toThrow(/two_node and quorum device cannot be configured at the same time/);
  });
});
