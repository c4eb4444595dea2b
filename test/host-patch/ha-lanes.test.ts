/**
 * Migration lanes and HA's own worker limit (src/pve/REFERENCE-migration.md): HA's LRM on a node runs
 * at most datacenter.cfg max_workers of the moves asked of it at once, so HA moves from one source
 * take min(asked, max_workers) lanes of evacuation.maxParallelMigrations, and a node's moves can be
 * asked of HA at once instead of one wave (and one CRM round) per free lane.
 */
import { describe, expect, it } from "vitest";
import { Lanes } from "../../controller/host-patch/in-flight.js";
import { driveMigrations } from "../../controller/host-patch/phases/migrations.js";
import type { Migration } from "../../controller/host-patch/transition.js";
import { cluster, context, guest, obs, planSpec, status } from "./support.js";

type Move = { from: string; ha: boolean };
const ha = (from: string): Move => ({ from, ha: true });
const direct = (from: string): Move => ({ from, ha: false });

/** [name, lanes, running, waiting, max_workers, asked in order, taken] */
const CASES: [string, number, Move[], number, number | undefined, Move[], boolean[]][] = [
  [
    "max_workers 2 = lanes 2: a node's three HA moves asked at once",
    2,
    [],
    0,
    2,
    [ha("pve1"), ha("pve1"), ha("pve1")],
    [true, true, true],
  ],
  [
    "at most 2 × max_workers asked per source",
    2,
    [],
    0,
    2,
    Array.from({ length: 5 }, () => ha("pve1")),
    [true, true, true, true, false],
  ],
  [
    "HA's default 4 above 2 lanes: one lane each",
    2,
    [],
    0,
    4,
    [ha("pve1"), ha("pve1"), ha("pve1")],
    [true, true, false],
  ],
  [
    "max_workers unknown: one lane each",
    2,
    [],
    0,
    undefined,
    [ha("pve1"), ha("pve1"), ha("pve1")],
    [true, true, false],
  ],
  [
    "two sources: each LRM runs its own workers",
    2,
    [],
    0,
    2,
    [ha("pve2"), ha("pve2"), ha("pve3")],
    [true, true, false],
  ],
  [
    "a direct migration always takes a lane",
    2,
    [],
    0,
    1,
    [direct("pve1"), direct("pve1"), direct("pve1")],
    [true, true, false],
  ],
  [
    "moves already running count the same way",
    2,
    [ha("pve1"), ha("pve1")],
    0,
    2,
    [ha("pve1"), ha("pve2")],
    [true, false],
  ],
  [
    "an evacuation waiting for lanes holds them",
    2,
    [],
    1,
    2,
    [ha("pve1"), ha("pve1"), ha("pve3")],
    [true, false, false],
  ],
];

describe("Lanes", () => {
  for (const [name, lanes, running, waiting, workers, asked, taken] of CASES)
    it(name, () => {
      const l = new Lanes(lanes, running, waiting, workers);
      expect(asked.map((m) => l.take(m))).toEqual(taken);
    });
});

const planned = (vmid: number): Migration => ({
  vmid,
  type: vmid >= 200 ? "lxc" : "qemu",
  from: "pve1",
  to: vmid % 2 ? "pve2" : "pve3",
  mode: "ha",
  state: "Planned",
});

describe("driveMigrations with HA max_workers", () => {
  const spec = planSpec({ evacuation: { maxParallelMigrations: 2 } });
  const list = [planned(201), planned(101), planned(102)];
  const world = (haMaxWorkers: number) =>
    obs({
      cluster: cluster({
        haMaxWorkers,
        guests: [
          guest(201, "pve1", { hastate: "started" }),
          guest(101, "pve1", { hastate: "started" }),
          guest(102, "pve1", { hastate: "started" }),
        ],
      }),
    });

  it("max_workers 2 and 2 lanes: all three are asked of HA in one go", () => {
    const ctx = context({ spec, status: status({ phase: "Evacuating" }) });
    const out = driveMigrations(ctx, list, world(2), false);
    expect(out.list.map((m) => m.state)).toEqual(["Running", "Running", "Running"]);
    expect(out.actions.filter((a) => a.type === "run").length).toBe(3);
  });

  it("HA's default of 4: two now, the third when a lane frees", () => {
    const ctx = context({ spec, status: status({ phase: "Evacuating" }) });
    const out = driveMigrations(ctx, list, world(4), false);
    expect(out.list.map((m) => m.state)).toEqual(["Running", "Running", "Planned"]);
  });
});
