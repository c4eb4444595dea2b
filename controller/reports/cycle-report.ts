import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import type { Deps } from "../context.js";

export interface HostReport {
  host: string;
  /** The host's HostPatch phase at the end of the cycle; NotStarted when it never began. */
  outcome: string;
  message?: string;
  upgraded: { name: string; from?: string; to: string }[];
  /** Upgradable packages apt kept back (held, or unsatisfiable): a person must look. */
  keptBack?: string[];
  /** An interrupted dpkg repaired before the upgrade: what `dpkg --audit` named. */
  dpkgRepaired?: string[];
  rebooted: boolean;
  bootIdBefore?: string;
  bootIdAfter?: string;
  migrations: {
    vmid: number;
    type: string;
    from: string;
    to: string;
    mode: string;
    state: string;
    /** A container stopped, moved and started (HA relocates HA-managed ones): it was down meanwhile. */
    restart?: boolean;
    /** CD images ejected for the move (evacuation.ejectLocalMedia). */
    ejectedMedia?: { drive: string; volume: string }[];
  }[];
  migratedBack: {
    vmid: number;
    from: string;
    to: string;
    state: string;
    restart?: boolean;
    mediaRestored?: boolean;
  }[];
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
    /** Skipped with nothing left behind. */
    upToDate: number;
    /** Hosts with packages kept back (whatever their outcome): they need a person. */
    keptBack: number;
    failed: number;
    blocked: number;
    /** Hosts of the cycle that never began (no status, or still Pending when it ended). */
    notStarted: number;
    reboots: number;
    /** Guests moved off the nodes before their reboot. */
    migrationsOut: number;
    /** Guests moved back once their node was back. */
    migrationsBack: number;
    /** Every migration of the cycle, both ways. */
    migrations: number;
    /** Of those, the moves that were restarts (containers: down while they moved). */
    restarts: number;
  };
  hosts: HostReport[];
}

/** A node with no status for this cycle, or still Pending when it ended, never started. */
export const NOT_STARTED = "NotStarted";

function hostReport(host: string, child: HostPatch | undefined): HostReport {
  const generation = child?.metadata.generation ?? 1;
  // A status written for an earlier cycle (observedGeneration behind) says nothing about this one.
  const fresh = child?.status && (child.status.observedGeneration ?? generation) >= generation;
  const s = (fresh ? child.status : undefined) ?? {};
  const start = s.startedAt ? Date.parse(s.startedAt) : undefined;
  const end = s.finishedAt ? Date.parse(s.finishedAt) : undefined;
  return {
    host,
    outcome: s.phase === undefined || s.phase === "Pending" ? NOT_STARTED : s.phase,
    ...(s.message ? { message: s.message } : {}),
    upgraded: s.upgradedPackages ?? [],
    ...(s.keptBackPackages?.length ? { keptBack: s.keptBackPackages } : {}),
    ...(s.dpkgRepair ? { dpkgRepaired: s.dpkgRepair.packages } : {}),
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
      ...(m.restart ? { restart: true } : {}),
      ...(m.ejectedMedia ? { ejectedMedia: m.ejectedMedia } : {}),
    })),
    migratedBack: (s.migrationsToUndo ?? [])
      .filter((m) => m.state !== "Planned")
      .map((m) => ({
        vmid: m.vmid,
        from: m.from,
        to: m.to,
        state: m.state,
        ...(m.restart ? { restart: true } : {}),
        ...(m.ejectedMedia ? { mediaRestored: m.mediaRestored === true } : {}),
      })),
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
    ...(start !== undefined && end !== undefined ? { durationMs: end - start } : {}),
    ...(s.lastError ? { error: { reason: s.lastError.reason, message: s.lastError.message } } : {}),
  };
}

/**
 * The report of the plan's current cycle: one entry per host of the cycle (`status.cycleHosts`, and
 * any other host that has a child of it), from `children`, the plan's HostPatches of this cycle.
 */
export function buildCycleReport(
  plan: HostPatchPlan,
  cluster: ProxmoxCluster,
  children: HostPatch[],
  startedAt: string,
  finishedAt: string,
): CycleReport {
  const cycle = plan.status?.cycle ?? "";
  const mine = children.filter((c) => !cycle || c.spec.cycle === cycle);
  const names = [...new Set([...(plan.status?.cycleHosts ?? []), ...mine.map((c) => c.spec.host)])];
  const hosts = names
    .map((h) =>
      hostReport(
        h,
        mine.find((c) => c.spec.host === h),
      ),
    )
    .sort((a, b) => a.host.localeCompare(b.host));
  const count = (outcome: string): number => hosts.filter((h) => h.outcome === outcome).length;
  const done = (list: { state: string }[]): number => list.filter((m) => m.state === "Done").length;
  const migrationsOut = hosts.reduce((n, h) => n + done(h.migrations), 0);
  const migrationsBack = hosts.reduce((n, h) => n + done(h.migratedBack), 0);
  const restarts = hosts.reduce(
    (n, h) => n + done([...h.migrations, ...h.migratedBack].filter((m) => m.restart === true)),
    0,
  );
  return {
    kind: "HostPatchPlan",
    plan: plan.metadata.name,
    cluster: cluster.metadata.name,
    cycle,
    startedAt,
    finishedAt,
    durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
    outcome: count("Failed") > 0 ? "Stalled" : "Succeeded",
    summary: {
      patched: count("Succeeded"),
      upToDate: hosts.filter((h) => h.outcome === "Skipped" && !h.keptBack).length,
      keptBack: hosts.filter((h) => h.keptBack).length,
      failed: count("Failed"),
      blocked: count("Blocked"),
      notStarted: count(NOT_STARTED),
      reboots: hosts.filter((h) => h.rebooted).length,
      migrationsOut,
      migrationsBack,
      migrations: migrationsOut + migrationsBack,
      restarts,
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
