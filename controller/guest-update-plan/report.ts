/**
 * The consolidated report of one GuestUpdatePlan cycle: a summary and a per-vmid section with what
 * each container went through (backup, runners with versions from → to, health, rollback, error).
 * Written as JSON under <state>/reports when the cycle ends; its path is on the plan's status.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { tally } from "./cycle.js";
import { childView } from "./observe.js";
import type { CycleTarget } from "./types.js";

export interface ContainerReport {
  vmid: number;
  name?: string;
  node: string;
  policy?: string;
  /** The GuestUpdate's phase at the end of the cycle; NotStarted when it never began. */
  outcome: string;
  guestUpdate?: string;
  backup?: { name: string; mode: string; volid?: string };
  runners: {
    name: string;
    type: string;
    result?: string;
    changes: { package: string; from?: string; to?: string }[];
  }[];
  health: { name: string; baseline?: boolean; after?: boolean; message?: string }[];
  rollback?: { done: boolean; reason?: string; result?: string };
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  error?: { reason: string; message: string };
}

export interface GuestCycleReport {
  kind: "GuestUpdatePlan";
  plan: string;
  cluster: string;
  cycle: string;
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: "Succeeded" | "Degraded" | "Stalled";
  summary: {
    targets: number;
    succeeded: number;
    upToDate: number;
    rolledBack: number;
    failed: number;
    blocked: number;
    notStarted: number;
    conflicts: number;
  };
  conflicts: { vmid: number; with: string[] }[];
  /** Keyed by vmid. */
  containers: Record<string, ContainerReport>;
}

export const NOT_STARTED = "NotStarted";

function containerReport(target: CycleTarget, child: GuestUpdate | undefined): ContainerReport {
  const s = child?.status;
  const start = s?.startedAt ? Date.parse(s.startedAt) : undefined;
  const end = s?.finishedAt ? Date.parse(s.finishedAt) : undefined;
  const baseline = new Map((s?.healthBaseline ?? []).map((h) => [h.name, h]));
  const after = new Map((s?.healthResults ?? []).map((h) => [h.name, h]));
  const names = [...new Set([...baseline.keys(), ...after.keys()])];
  return {
    vmid: target.vmid,
    ...(target.name !== undefined ? { name: target.name } : {}),
    node: s?.node ?? target.node,
    ...(target.policy !== undefined ? { policy: target.policy } : {}),
    outcome: !child || !s || s.phase === "Pending" ? NOT_STARTED : s.phase,
    ...(child ? { guestUpdate: child.metadata.name } : {}),
    ...(s?.snapshot
      ? {
          backup: {
            name: s.snapshot.name,
            mode: s.snapshot.mode,
            ...(s.snapshot.volid ? { volid: s.snapshot.volid } : {}),
          },
        }
      : {}),
    runners: (s?.runners ?? []).map((r) => ({
      name: r.name,
      type: r.type,
      ...(r.result ? { result: r.result } : {}),
      changes: r.applied ? r.pending : [],
    })),
    health: names.map((n) => ({
      name: n,
      ...(baseline.has(n) ? { baseline: baseline.get(n)?.healthy ?? false } : {}),
      ...(after.has(n) ? { after: after.get(n)?.healthy ?? false } : {}),
      ...(after.get(n)?.message ? { message: after.get(n)?.message ?? "" } : {}),
    })),
    ...(s?.rollback
      ? {
          rollback: {
            done: s.rollback.done,
            ...(s.rollback.reason ? { reason: s.rollback.reason } : {}),
            ...(s.rollback.result ? { result: s.rollback.result } : {}),
          },
        }
      : {}),
    ...(s?.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s?.finishedAt ? { finishedAt: s.finishedAt } : {}),
    ...(start !== undefined && end !== undefined ? { durationMs: end - start } : {}),
    ...(s?.lastError ? { error: { reason: s.lastError.reason, message: s.lastError.message } } : {}),
  };
}

export function buildGuestCycleReport(
  plan: GuestUpdatePlan,
  clusterName: string,
  cycle: string,
  children: readonly GuestUpdate[],
  startedAt: string,
  finishedAt: string,
): GuestCycleReport {
  const s = plan.status;
  const targets = s?.cycleTargets ?? [];
  const mine = children.filter((c) => c.spec.cycle === cycle);
  const t = tally(cycle, targets, mine.map(childView), s?.conflicts?.length ?? 0);
  const containers: Record<string, ContainerReport> = {};
  for (const target of [...targets].sort((a, b) => a.vmid - b.vmid)) {
    containers[String(target.vmid)] = containerReport(
      target,
      mine.find((c) => c.spec.vmid === target.vmid),
    );
  }
  const stalled = t.failures.length > plan.spec.concurrency.maxFailures;
  return {
    kind: "GuestUpdatePlan",
    plan: plan.metadata.name,
    cluster: clusterName,
    cycle,
    partial: s?.cycleVmids !== undefined,
    startedAt,
    finishedAt,
    durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
    outcome: stalled ? "Stalled" : t.failures.length > 0 ? "Degraded" : "Succeeded",
    summary: {
      targets: t.counts.targets,
      succeeded: t.counts.succeeded,
      upToDate: t.counts.skipped,
      rolledBack: t.counts.rolledBack,
      failed: t.counts.failed,
      blocked: t.counts.blocked,
      notStarted: t.pending.length + t.active.length,
      conflicts: s?.conflicts?.length ?? 0,
    },
    conflicts: s?.conflicts ?? [],
    containers,
  };
}

/** Writes the report under <state>/reports and returns its path. */
export async function writeGuestCycleReport(stateDir: string, report: GuestCycleReport): Promise<string> {
  const dir = join(stateDir, "reports");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${report.plan}-${report.cycle}.json`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}
