import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import type { Deps } from "../context.js";

export interface HostReport {
  host: string;
  outcome: string;
  message?: string;
  upgraded: { name: string; from?: string; to: string }[];
  rebooted: boolean;
  bootIdBefore?: string;
  bootIdAfter?: string;
  migrations: { vmid: number; type: string; from: string; to: string; mode: string; state: string }[];
  migratedBack: { vmid: number; from: string; to: string; state: string }[];
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  error?: { reason: string; message: string };
}

export interface CycleReport {
  kind: "HostPatchPlan";
  plan: string;
  cluster: string;
  cycle: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: "Succeeded" | "Stalled";
  summary: {
    patched: number;
    upToDate: number;
    failed: number;
    blocked: number;
    reboots: number;
    migrations: number;
  };
  hosts: HostReport[];
}

export function buildCycleReport(
  plan: HostPatchPlan,
  cluster: ProxmoxCluster,
  children: HostPatch[],
  startedAt: string,
  finishedAt: string,
): CycleReport {
  const hosts: HostReport[] = children
    .map((c) => {
      const s = c.status ?? {};
      const start = s.startedAt ? Date.parse(s.startedAt) : undefined;
      const end = s.finishedAt ? Date.parse(s.finishedAt) : undefined;
      return {
        host: c.spec.host,
        outcome: s.phase ?? "Pending",
        ...(s.message ? { message: s.message } : {}),
        upgraded: s.upgradedPackages ?? [],
        rebooted: s.bootIdAfterReboot !== undefined && s.bootIdAfterReboot !== s.bootIdBeforeReboot,
        ...(s.bootIdBeforeReboot ? { bootIdBefore: s.bootIdBeforeReboot } : {}),
        ...(s.bootIdAfterReboot ? { bootIdAfter: s.bootIdAfterReboot } : {}),
        migrations: (s.migrations ?? []).map((m) => ({
          vmid: m.vmid,
          type: m.type,
          from: m.from,
          to: m.to,
          mode: m.mode,
          state: m.state,
        })),
        migratedBack: (s.migrationsToUndo ?? [])
          .filter((m) => m.state !== "Planned")
          .map((m) => ({ vmid: m.vmid, from: m.from, to: m.to, state: m.state })),
        ...(s.startedAt ? { startedAt: s.startedAt } : {}),
        ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
        ...(start !== undefined && end !== undefined ? { durationMs: end - start } : {}),
        ...(s.lastError ? { error: { reason: s.lastError.reason, message: s.lastError.message } } : {}),
      };
    })
    .sort((a, b) => a.host.localeCompare(b.host));
  return {
    kind: "HostPatchPlan",
    plan: plan.metadata.name,
    cluster: cluster.metadata.name,
    cycle: plan.status?.cycle ?? "",
    startedAt,
    finishedAt,
    durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
    outcome: hosts.some((h) => h.outcome === "Failed") ? "Stalled" : "Succeeded",
    summary: {
      patched: hosts.filter((h) => h.outcome === "Succeeded").length,
      upToDate: hosts.filter((h) => h.outcome === "Skipped").length,
      failed: hosts.filter((h) => h.outcome === "Failed").length,
      blocked: hosts.filter((h) => h.outcome === "Blocked").length,
      reboots: hosts.filter((h) => h.rebooted).length,
      migrations: hosts.reduce((n, h) => n + h.migrations.filter((m) => m.state === "Done").length, 0),
    },
    hosts,
  };
}

/** Writes the cycle's JSON report under <state>/reports and returns its path. */
export async function writeCycleReport(
  deps: Deps,
  plan: HostPatchPlan,
  cluster: ProxmoxCluster,
  children: HostPatch[],
  startedAt: string,
  finishedAt: string,
): Promise<string> {
  const report = buildCycleReport(plan, cluster, children, startedAt, finishedAt);
  const dir = join(deps.stateDir, "reports");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${plan.metadata.name}-${report.cycle || "cycle"}.json`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}
