/**
 * The comparison scenario of issue 8: a 3-node cluster, 5 VMs and 3 CTs all HA-managed, every node
 * with a new kernel and 2 other packages, a 45 s reboot, a 10 s HA round, 2 s per package. The
 * controller runs as its own process on a scaled clock, at 10x and at 100x. Printed: the makespan
 * (simulated time, migrate-back and every proof included) against the sequential and the overlapped
 * lower bounds (support/rolling-bounds.ts), the controller's real-time overhead per node (its gap
 * to the overlapped bound, in real time), its CPU time and peak RSS.
 */
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput } from "../../src/sim/index.js";
import type { CycleReport } from "../../controller/reports/cycle-report.js";
import { runCycle } from "./support/controller-cycle.js";
import type { BenchReport, BenchRow } from "./support/report.js";
import {
  overlappedBound,
  sequentialBound,
  type BenchTiming,
  type BoundNode,
} from "./support/rolling-bounds.js";

const SCALES = [10, 100];
const PARALLEL = 2;
/** The third-party rolling-upgrade script's time on this scenario (issue 8), simulated seconds. */
const SCRIPT_SECONDS = 270;
const TIMING: BenchTiming = {
  rebootSeconds: 45,
  aptPackageSeconds: 2,
  aptUpdateSeconds: 4,
  migrationMiBps: 1000,
  haRoundSeconds: 10,
  shutdownSeconds: 5,
  servicesStartSeconds: 10,
  guestStartSeconds: 3,
  guestShutdownSeconds: 5,
};
const NODES = ["pve1", "pve2", "pve3"];
/** 5 VMs and 3 CTs: two VMs and one CT on pve1 and pve2, one VM and one CT on pve3. */
const GUESTS: { vmid: number; type: "qemu" | "lxc"; node: string; memoryMiB: number }[] = [
  { vmid: 101, type: "qemu", node: "pve1", memoryMiB: 4096 },
  { vmid: 102, type: "qemu", node: "pve1", memoryMiB: 2048 },
  { vmid: 201, type: "lxc", node: "pve1", memoryMiB: 1024 },
  { vmid: 103, type: "qemu", node: "pve2", memoryMiB: 4096 },
  { vmid: 104, type: "qemu", node: "pve2", memoryMiB: 2048 },
  { vmid: 202, type: "lxc", node: "pve2", memoryMiB: 1024 },
  { vmid: 105, type: "qemu", node: "pve3", memoryMiB: 4096 },
  { vmid: 203, type: "lxc", node: "pve3", memoryMiB: 1024 },
];
/** The new kernel image and its meta package, pve-manager and qemu-server. */
const PACKAGES_PER_NODE = 4;

export function fleet(): FleetInput {
  return {
    timing: TIMING,
    clusters: [
      {
        name: "pve-lab",
        // The cluster's migration parallelism is 2 for HA as for the plan: datacenter.cfg max_workers.
        maxWorkers: PARALLEL,
        storages: [
          { name: "local", type: "dir", content: ["iso", "vztmpl", "backup"] },
          { name: "ceph-vm", type: "rbd", content: ["images", "rootdir"] },
        ],
        nodes: NODES.map((name, i) => ({
          name,
          ip: `192.168.70.${i + 11}`,
          memoryGiB: 64,
          kernel: { running: "6.8.12-9-pve", installed: ["6.8.12-9-pve"], candidate: "6.8.12-10-pve" },
          packages: {
            "pve-manager": { installed: "8.4.1", candidate: "8.4.2" },
            "qemu-server": { installed: "8.3.12", candidate: "8.3.13" },
          },
        })),
        guests: GUESTS.map((g) => ({
          ...g,
          name: `${g.type === "qemu" ? "vm" : "ct"}${g.vmid}`,
          ha: true,
          onboot: true,
          disks: [{ storage: "ceph-vm", sizeGiB: 16 }],
        })),
      },
    ],
  };
}

function boundNodes(): BoundNode[] {
  return NODES.map((n) => ({ packages: PACKAGES_PER_NODE, guests: GUESTS.filter((g) => g.node === n) }));
}

interface Run {
  scale: number;
  report: CycleReport;
  cpuS: number;
  peakKiB: number;
}

async function runAt(scale: number): Promise<Run> {
  const clock = new ScaledClock(scale);
  const sim = await startSimulator({ fleet: fleet(), clock });
  try {
    const { report, usage } = await runCycle(sim, clock, PARALLEL);
    return { scale, report, cpuS: usage?.cpuS ?? 0, peakKiB: usage?.peakKiB ?? 0 };
  } finally {
    await sim.stop();
  }
}

function rowsOf(r: Run, seq: number, ovl: number): BenchRow[] {
  const s = r.report.durationMs / 1000;
  const sum = r.report.summary;
  const tag = `@${r.scale}x`;
  const overheadMs = ((s - ovl) / NODES.length / r.scale) * 1000;
  const ok =
    sum.reboots === NODES.length &&
    sum.migrationsOut === GUESTS.length &&
    sum.migrationsBack === GUESTS.length;
  return [
    {
      name: `makespan ${tag} vs sequential`,
      value: `${s.toFixed(0)} s`,
      bound: `${seq.toFixed(0)} s`,
      ratio: s / seq,
      verdict: s <= seq ? "GOAL MET" : "BELOW GOAL",
    },
    {
      name: `makespan ${tag} vs overlapped`,
      value: `${s.toFixed(0)} s`,
      bound: `${ovl.toFixed(0)} s`,
      ratio: s / ovl,
      verdict: s <= ovl * 1.1 ? "GOAL MET" : "BELOW GOAL",
    },
    {
      name: `makespan ${tag} vs the script`,
      value: `${s.toFixed(0)} s`,
      bound: `${SCRIPT_SECONDS} s`,
      ratio: s / SCRIPT_SECONDS,
      verdict: s <= SCRIPT_SECONDS ? "GOAL MET" : "BELOW GOAL",
    },
    {
      name: `reboots/out/back ${tag}`,
      value: `${sum.reboots}/${sum.migrationsOut}/${sum.migrationsBack}`,
      bound: `${NODES.length}/${GUESTS.length}/${GUESTS.length}`,
      verdict: ok ? "PASS" : "FAIL",
    },
    {
      name: `overhead per node ${tag} (real)`,
      value: `${overheadMs.toFixed(0)} ms`,
      bound: "-",
      verdict: "INFO",
    },
    { name: `controller CPU ${tag}`, value: `${r.cpuS.toFixed(1)} s`, bound: "-", verdict: "INFO" },
    {
      name: `controller peak RSS ${tag}`,
      value: `${(r.peakKiB / 1024).toFixed(0)} MiB`,
      bound: "-",
      verdict: "INFO",
    },
  ];
}

export async function run(): Promise<BenchReport> {
  const seq = sequentialBound(TIMING, boundNodes(), PARALLEL);
  const ovl = overlappedBound(TIMING, boundNodes(), PARALLEL);
  const rows: BenchRow[] = [];
  for (const scale of SCALES) rows.push(...rowsOf(await runAt(scale), seq, ovl));
  return {
    title: `rolling-ha: ${NODES.length} nodes, 5 VMs + 3 CTs all HA-managed, kernel + 2 packages per node`,
    rows,
    notes: [
      `timing: reboot ${TIMING.rebootSeconds}s, HA round ${TIMING.haRoundSeconds}s, ${TIMING.aptPackageSeconds}s per package, ${PARALLEL} migrations in parallel`,
      "sequential bound: per node upgrade + evacuation + reboot + return + move back (support/rolling-bounds.ts)",
      "overlapped bound: the same with prefetched packages and node k+1's upgrade and evacuation under node k's move back",
      "goals: <= 1.00x sequential, <= 1.10x overlapped; overhead per node = (makespan - overlapped bound) / nodes, in real time",
    ],
  };
}
