/**
 * Rolling patch of a simulated 5-node cluster with 40 guests on a scaled clock: the makespan (sim
 * time from cycle start to cycle end) against a lower bound computed from the simulator's own
 * durations, and the controller's CPU time and peak memory (the controller runs as its own process).
 *
 * Lower bound, per node in turn (one node out at a time): upgrade (packages x aptPackageSeconds) +
 * evacuation (its guests' memory / migration speed, shared by `maxParallelMigrations` lanes) + reboot
 * (rebootSeconds) + migration back (as evacuation). Polling, SSH and HA rounds make the real makespan
 * longer; the goal is a ratio of at most 1.10.
 */
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput } from "../../src/sim/index.js";
import { runCycle } from "./support/controller-cycle.js";
import type { BenchReport } from "./support/report.js";

const NODES = 5;
const GUESTS_PER_NODE = 8;
const SCALE = 100;
const TIMING = { rebootSeconds: 90, aptPackageSeconds: 2, migrationMiBps: 1000, haRoundSeconds: 10 };
const PARALLEL = 2;

function fleet(): FleetInput {
  const nodes = Array.from({ length: NODES }, (_, i) => ({
    name: `pve${i + 1}`,
    ip: `192.168.60.${i + 11}`,
    memoryGiB: 256,
    kernel: { running: "6.8.12-9-pve", installed: ["6.8.12-9-pve"], candidate: "6.8.12-10-pve" },
    packages: { "pve-manager": { installed: "8.4.1", candidate: "8.4.2" } },
  }));
  const guests = nodes.flatMap((n, i) =>
    Array.from({ length: GUESTS_PER_NODE }, (_, j) => ({
      vmid: 100 + i * GUESTS_PER_NODE + j,
      type: j < 6 ? "qemu" : "lxc",
      name: `g${i}-${j}`,
      node: n.name,
      memoryMiB: j < 6 ? 4096 : 1024,
      onboot: true,
      disks: [{ storage: "ceph-vm", sizeGiB: 16 }],
    })),
  );
  return {
    timing: TIMING,
    clusters: [
      {
        name: "pve-lab",
        storages: [
          { name: "local", type: "dir", content: ["iso", "vztmpl", "backup"] },
          { name: "ceph-vm", type: "rbd", content: ["images", "rootdir"] },
        ],
        nodes,
        guests,
      },
    ],
  } as FleetInput;
}

function lowerBoundMs(): number {
  const perNodeMemMiB = 6 * 4096 + 2 * 1024;
  const migrate = perNodeMemMiB / TIMING.migrationMiBps / PARALLEL;
  // Two packages change (kernel meta package and pve-manager) plus the new kernel image.
  const upgrade = 3 * TIMING.aptPackageSeconds;
  return NODES * (upgrade + migrate + TIMING.rebootSeconds + migrate) * 1000;
}

export async function run(): Promise<BenchReport> {
  const clock = new ScaledClock(SCALE);
  const sim = await startSimulator({ fleet: fleet(), clock });
  try {
    const { report, usage: last } = await runCycle(sim, clock, PARALLEL);
    const bound = lowerBoundMs();
    const ratio = report.durationMs / bound;
    return {
      title: `rolling-patch: ${NODES} nodes, ${NODES * GUESTS_PER_NODE} guests, sim time at ${SCALE}x`,
      rows: [
        {
          name: "makespan (sim time)",
          value: `${(report.durationMs / 1000).toFixed(0)} s`,
          bound: `lower bound ${(bound / 1000).toFixed(0)} s`,
          ratio,
          verdict: ratio <= 1.1 ? "GOAL MET" : "BELOW GOAL",
        },
        {
          name: "reboots",
          value: String(report.summary.reboots),
          bound: `= ${NODES}`,
          ratio: report.summary.reboots / NODES,
          verdict: report.summary.reboots === NODES ? "PASS" : "FAIL",
        },
        {
          name: "migrations off the nodes",
          value: String(report.summary.migrationsOut),
          bound: `= ${NODES * GUESTS_PER_NODE}`,
          verdict: report.summary.migrationsOut === NODES * GUESTS_PER_NODE ? "PASS" : "FAIL",
        },
        {
          name: "migrations back home",
          value: String(report.summary.migrationsBack),
          bound: `= ${NODES * GUESTS_PER_NODE}`,
          verdict: report.summary.migrationsBack === NODES * GUESTS_PER_NODE ? "PASS" : "FAIL",
        },
        {
          name: "controller CPU time",
          value: `${(last?.cpuS ?? 0).toFixed(1)} s`,
          bound: "-",
          verdict: "INFO",
        },
        {
          name: "controller peak RSS",
          value: `${((last?.peakKiB ?? 0) / 1024).toFixed(0)} MiB`,
          bound: "-",
          verdict: "INFO",
        },
      ],
      notes: [
        `lower bound per node: upgrade ${3 * TIMING.aptPackageSeconds}s + evacuation + reboot ${TIMING.rebootSeconds}s + migration back, with ${PARALLEL} migrations in parallel`,
        "the gap to the bound is polling (controller pollMs 1 s sim), SSH round trips, HA rounds and the return proof",
      ],
    };
  } finally {
    await sim.stop();
  }
}
