import { describe, expect, it } from "vitest";
import {
  parseClusterStatus,
  parsePvecmStatus,
  quorumView,
  quorumWithout,
  votesOf,
} from "../../src/pve/cluster.js";
import { UnparseableOutputError } from "../../src/pve/errors.js";
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
    expect(quorumWithout(v, "pve2")).toEqual({ keepsQuorum: true, totalVotes: 3, votesLost: 1, quorum: 2 });

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
