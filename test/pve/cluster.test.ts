import { describe, expect, it } from "vitest";
import {
  parseClusterStatus,
  parsePvecmStatus,
  quorumView,
  quorumWithout,
  votesOf,
} from "../../src/pve/cluster.js";
import { UnparseableOutputError } from "../../src/pve/errors.js";
import { parseClusterOptions } from "../../src/pve/cluster-options.js";
import { fixture } from "./helpers.js";

describe("parseClusterStatus", () => {
  it("reads the cluster row and node rows of the exporter fixture (§3)", () => {
    const s = parseClusterStatus(fixture("cluster-status.exporter.json.out"));
    expect(s.cluster).toEqual({ name: "pvec", nodes: 2, quorate: true, version: 2 });
    expect(s.nodes).toEqual([
      { name: "pve1", nodeid: 1, ip: "10.0.0.1", local: true, online: true, level: "c" },
      { name: "pve2", nodeid: 2, ip: "10.0.0.2", local: false, online: true, level: "" },
    ]);
  });

  it("keeps a quorate cluster with one node offline visibly degraded", () => {
    const s = parseClusterStatus(fixture("cluster-status.one-down.json.out"));
    expect(s.cluster?.quorate).toBe(true);
    expect(s.nodes.filter((n) => !n.online).map((n) => n.name)).toEqual(["pve3"]);
    expect(s.nodes.find((n) => n.name === "pve3")?.ip).toBeUndefined();
  });

  it("has no cluster row on a standalone node", () => {
    const s = parseClusterStatus(fixture("cluster-status.standalone.json.out"));
    expect(s.cluster).toBeUndefined();
    expect(s.nodes.map((n) => n.name)).toEqual(["pve"]);
  });

  it("takes the name from the id when a node row lacks it, and ignores unknown row types", () => {
    const s = parseClusterStatus(
      JSON.stringify([
        { type: "node", id: "node/pve7", online: 1 },
        { type: "qdevice", id: "qdevice", online: 1 },
      ]),
    );
    expect(s.nodes.map((n) => n.name)).toEqual(["pve7"]);
  });

  it("refuses output that is not the status array, naming the command", () => {
    expect(() => parseClusterStatus("ipcc_send_rec[1] failed: Connection refused")).toThrow(
      UnparseableOutputError,
    );
    expect(() => parseClusterStatus('{"type":"cluster"}')).toThrow(/pvesh get \/cluster\/status/);
    expect(() => parseClusterStatus('[{"type":"cluster","name":"x","quorate":"maybe"}]')).toThrow(/quorate/);
  });
});

describe("parsePvecmStatus", () => {
  it("reads the docs sample with ~~~ underlines (§5b)", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.docs.txt"));
    expect(p).toMatchObject({
      quorate: true,
      nodes: 4,
      expectedVotes: 4,
      highestExpected: 4,
      totalVotes: 4,
      quorum: 3,
    });
    expect(p.flags).toEqual(["Quorate"]);
    expect(p.members).toHaveLength(4);
    expect(p.members[1]).toEqual({ nodeid: 2, votes: 1, name: "192.168.15.92", local: true });
  });

  it("reads the real CLI layout with --- underlines and the cluster block", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.cli.txt"));
    expect(p).toMatchObject({
      clusterName: "pvec",
      configVersion: 5,
      transport: "knet",
      quorate: true,
      expectedVotes: 3,
      totalVotes: 3,
      quorum: 2,
    });
    expect(p.members.map((m) => m.nodeid)).toEqual([1, 2, 3]);
  });

  it("reads a cluster that lost quorum", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.not-quorate.txt"));
    expect(p).toMatchObject({ quorate: false, totalVotes: 1, quorum: 2, expectedVotes: 3, flags: [] });
  });

  it("refuses the standalone error text", () => {
    expect(() => parsePvecmStatus(fixture("pvecm-status.standalone.txt"))).toThrow(/Expected votes/);
  });
});

describe("quorum view", () => {
  const three = parseClusterStatus(
    JSON.stringify([
      { type: "cluster", name: "pvec", nodes: 3, quorate: 1, version: 5 },
      { type: "node", name: "pve1", nodeid: 1, local: 1, online: 1 },
      { type: "node", name: "pve2", nodeid: 2, local: 0, online: 1 },
      { type: "node", name: "pve3", nodeid: 3, local: 0, online: 1 },
    ]),
  );
  const votes = parsePvecmStatus(fixture("pvecm-status.cli.txt"));

  it("is standalone when there is no cluster row and pvecm failed", () => {
    const v = quorumView(parseClusterStatus(fixture("cluster-status.standalone.json.out")), undefined);
    expect(v.kind).toBe("standalone");
    expect(quorumWithout(v, "pve")?.keepsQuorum).toBe(true);
  });

  it("keeps quorum with one of three nodes down, loses it with one of two already gone", () => {
    const v = quorumView(three, votes);
    expect(v).toMatchObject({ kind: "cluster", name: "pvec", quorate: true });
    expect(votesOf(v, "pve2")).toBe(1);
    expect(quorumWithout(v, "pve2")).toEqual({
      keepsQuorum: true,
      totalVotes: 3,
      votesLost: 1,
      quorum: 2,
      qdeviceVotes: 0,
      twoNode: false,
    });

    const oneDown = parseClusterStatus(fixture("cluster-status.one-down.json.out"));
    const degradedVotes = { ...votes, totalVotes: 2 };
    const d = quorumView(oneDown, degradedVotes);
    expect(quorumWithout(d, "pve2")?.keepsQuorum).toBe(false);
    // Taking down the node that is already offline loses nothing more.
    expect(quorumWithout(d, "pve3")?.keepsQuorum).toBe(true);
  });

  it("leaves votes unknown when pvecm failed on a clustered node", () => {
    const v = quorumView(three, undefined);
    expect(v).toMatchObject({ kind: "cluster", quorate: true, votes: undefined });
    expect(quorumWithout(v, "pve2")).toBeUndefined();
  });

  it("trusts corosync's 'not quorate' over a stale cluster row", () => {
    const v = quorumView(three, parsePvecmStatus(fixture("pvecm-status.not-quorate.txt")));
    expect(v.kind === "cluster" && v.quorate).toBe(false);
  });
});

describe("pvecm status with a QDevice, multi-vote nodes and two_node", () => {
  const nodesRows = (n: number, down: readonly number[] = []): string =>
    JSON.stringify([
      { type: "cluster", name: "pvec", nodes: n, quorate: 1, version: 4 },
      ...Array.from({ length: n }, (_, i) => ({
        type: "node",
        name: `pve${i + 1}`,
        nodeid: i + 1,
        local: i === 0 ? 1 : 0,
        online: down.includes(i + 1) ? 0 : 1,
      })),
    ]);
  const view = (file: string, n: number, down: readonly number[] = []) =>
    quorumView(parseClusterStatus(nodesRows(n, down)), parsePvecmStatus(fixture(file)));

  it("reads the pve-docs QDevice sample: the Qdevice column and line, Qdevice in Flags", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.qdevice.docs.txt"));
    expect(p.flags).toEqual(["Quorate", "Qdevice"]);
    expect(p.members).toEqual([
      {
        nodeid: 1,
        votes: 1,
        name: "192.168.22.180",
        local: true,
        qdevice: { registered: true, alive: true, castsVote: true, masterWins: false },
      },
      {
        nodeid: 2,
        votes: 1,
        name: "192.168.22.181",
        local: false,
        qdevice: { registered: true, alive: true, castsVote: true, masterWins: false },
      },
    ]);
    expect(p.qdevice).toEqual({ name: "Qdevice", votes: 1, configuredVotes: 1 });
  });

  it("two nodes and a voting QDevice keep quorum with either node down", () => {
    const v = view("pvecm-status.qdevice.txt", 2);
    expect(quorumWithout(v, "pve1")).toMatchObject({
      keepsQuorum: true,
      totalVotes: 3,
      votesLost: 1,
      quorum: 2,
      qdeviceVotes: 1,
    });
  });

  it("a QDevice that casts no vote (NA,NV) leaves two nodes that cannot lose one", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.qdevice-dead.txt"));
    expect(p.qdevice).toEqual({ name: "Qdevice", votes: 0, configuredVotes: 1 });
    expect(p.members[0]?.qdevice).toEqual({
      registered: true,
      alive: false,
      castsVote: false,
      masterWins: false,
    });
    expect(quorumWithout(view("pvecm-status.qdevice-dead.txt", 2), "pve2")).toMatchObject({
      keepsQuorum: false,
      totalVotes: 2,
      quorum: 2,
      qdeviceVotes: 0,
    });
  });

  it("an odd cluster's QDevice gives N-1 votes: 3 nodes + 2 votes keep quorum with a node down", () => {
    const v = view("pvecm-status.qdevice-odd.txt", 3);
    expect(v.kind === "cluster" && v.votes?.qdevice?.votes).toBe(2);
    expect(quorumWithout(v, "pve3")).toMatchObject({ keepsQuorum: true, totalVotes: 5, quorum: 3 });
  });

  it("a node with two votes cannot go down in a 2+1+1 cluster, a one-vote node can", () => {
    const v = view("pvecm-status.multi-vote.txt", 3);
    expect(votesOf(v, "pve1")).toBe(2);
    expect(quorumWithout(v, "pve1")).toMatchObject({ keepsQuorum: false, votesLost: 2, quorum: 3 });
    expect(quorumWithout(v, "pve2")).toMatchObject({ keepsQuorum: true, votesLost: 1, quorum: 3 });
  });

  it("two_node (2Node, WaitForAll): quorum 1, so one node may go down", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.two-node.txt"));
    expect(p).toMatchObject({ twoNode: true, waitForAll: true, quorum: 1, expectedVotes: 2 });
    expect(quorumWithout(view("pvecm-status.two-node.txt", 2), "pve2")).toMatchObject({
      keepsQuorum: true,
      quorum: 1,
      twoNode: true,
    });
  });

  it("without two_node two one-vote nodes cannot lose one (quorum 2)", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.cli.txt"));
    const two = { ...p, expectedVotes: 2, highestExpected: 2, totalVotes: 2, members: p.members.slice(0, 2) };
    const v = quorumView(parseClusterStatus(nodesRows(2)), two);
    expect(quorumWithout(v, "pve1")).toMatchObject({ keepsQuorum: false, quorum: 2 });
  });

  it("fails closed when the membership does not list an online node", () => {
    const p = parsePvecmStatus(fixture("pvecm-status.cli.txt"));
    const v = quorumView(parseClusterStatus(nodesRows(3)), { ...p, members: p.members.slice(0, 2) });
    expect(quorumWithout(v, "pve3")).toBeUndefined();
  });

  it("refuses Qdevice in Flags without the Qdevice line", () => {
    const text = fixture("pvecm-status.qdevice.txt").replace(/^0x00000000.*$/m, "");
    expect(() => parsePvecmStatus(text)).toThrow(/Qdevice line/);
  });
});

describe("parseClusterOptions (pvesh get /cluster/options)", () => {
  it("reads max_workers, and HA's default of 4 when datacenter.cfg sets none", () => {
    expect(parseClusterOptions('{"keyboard":"en-us","max_workers":2}').haMaxWorkers).toBe(2);
    expect(parseClusterOptions("{}").haMaxWorkers).toBe(4);
  });

  it("refuses output that is not datacenter.cfg's JSON", () => {
    expect(() => parseClusterOptions("ipcc_send_rec[1] failed: Connection refused")).toThrow(
      /cluster\/options/,
    );
    expect(() => parseClusterOptions('{"max_workers":0}')).toThrow();
  });
});
