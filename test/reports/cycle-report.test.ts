import { describe, expect, it } from "vitest";
import { buildCycleReport } from "../../controller/reports/cycle-report.js";
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";

const CYCLE = "c20260307010000";
type Migration = NonNullable<NonNullable<HostPatch["status"]>["migrations"]>[number];

function plan(cycleHosts: string[]): HostPatchPlan {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "HostPatchPlan",
    metadata: { name: "nodes" },
    spec: {} as HostPatchPlan["spec"],
    status: { cycle: CYCLE, cycleHosts },
  };
}

const cluster = { metadata: { name: "lab" } } as ProxmoxCluster;

function child(host: string, status?: HostPatch["status"], generation = 1): HostPatch {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "HostPatch",
    metadata: { name: `nodes-${host}`, generation },
    spec: { planRef: { name: "nodes" }, clusterRef: { name: "lab" }, host, profile: "pve", cycle: CYCLE },
    ...(status ? { status } : {}),
  };
}

function moves(from: string, to: string, states: Migration["state"][]): Migration[] {
  return states.map((state, i) => ({ vmid: 100 + i, type: "qemu", from, to, mode: "online", state }));
}

const report = (hosts: string[], children: HostPatch[]) =>
  buildCycleReport(plan(hosts), cluster, children, "2026-03-07T01:00:00.000Z", "2026-03-07T02:00:00.000Z");

describe("cycle report", () => {
  it("counts migrations both ways, and their total", () => {
    const r = report(
      ["pve1", "pve2"],
      [
        child("pve1", {
          phase: "Succeeded",
          observedGeneration: 1,
          migrations: moves("pve1", "pve2", ["Done", "Done"]),
          migrationsToUndo: moves("pve2", "pve1", ["Done", "Done"]),
        }),
        child("pve2", {
          phase: "Succeeded",
          observedGeneration: 1,
          migrations: moves("pve2", "pve1", ["Done", "Failed"]),
          migrationsToUndo: moves("pve1", "pve2", ["Done", "Planned"]),
        }),
      ],
    );
    expect(r.summary).toMatchObject({ migrationsOut: 3, migrationsBack: 3, migrations: 6, patched: 2 });
    expect(r.hosts.map((h) => h.migratedBack.length)).toEqual([2, 1]);
  });

  it("reports a host that never started as NotStarted, not as Preflight or Pending", () => {
    const r = report(
      ["pve1", "pve2", "pve3", "pve4", "pve5"],
      [
        child("pve1", { phase: "Failed", observedGeneration: 1, message: "did not return" }),
        child("pve2", { phase: "Pending", observedGeneration: 1 }),
        child("pve3"),
        // Moved to this cycle (generation 2) but its status is still the last cycle's.
        child(
          "pve5",
          { phase: "Succeeded", observedGeneration: 1, upgradedPackages: [{ name: "x", to: "2" }] },
          2,
        ),
      ],
    );
    expect(r.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ["pve1", "Failed"],
      ["pve2", "NotStarted"],
      ["pve3", "NotStarted"],
      ["pve4", "NotStarted"],
      ["pve5", "NotStarted"],
    ]);
    expect(r.hosts.find((h) => h.host === "pve5")?.upgraded).toEqual([]);
    expect(r.summary).toMatchObject({ failed: 1, notStarted: 4, patched: 0 });
    expect(r.outcome).toBe("Stalled");
  });

  it("leaves out children of other cycles", () => {
    const other = {
      ...child("pve9", { phase: "Succeeded" }),
      spec: { ...child("pve9").spec, cycle: "c-old" },
    };
    const r = report(["pve1"], [child("pve1", { phase: "Skipped", observedGeneration: 1 }), other]);
    expect(r.hosts.map((h) => h.host)).toEqual(["pve1"]);
    expect(r).toMatchObject({ outcome: "Succeeded", cycle: CYCLE, durationMs: 3_600_000 });
  });
});
