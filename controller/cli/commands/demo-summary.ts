/**
 * The demo's closing summary, read from the cycle reports the controller wrote under <state>/reports:
 * what the host plan patched (its cycles that changed something; later ones only found the nodes up
 * to date), then each guest plan's containers: what was updated from → to, and for a rollback which
 * backup was restored and which versions run again.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerReport, GuestCycleReport } from "../../guest-update-plan/report.js";
import type { CycleReport } from "../../reports/cycle-report.js";
import type { StoredObject } from "../../runtime/state-reader.js";

const short = (pkg: string): string => pkg.slice(pkg.lastIndexOf(":") + 1);
const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

/** A plan's reports, oldest first (cycle ids are timestamps, so names sort by time). */
function reportsOf(state: string, plan: string): string[] {
  const dir = join(state, "reports");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${plan}-c`) && f.endsWith(".json"))
    .sort()
    .map((f) => join(dir, f));
}

function hostLines(path: string, report: CycleReport): string[] {
  const s = report.summary;
  return [
    `Report ${path}`,
    `  ${report.plan}: ${report.outcome} in ${seconds(report.durationMs)} sim time — ${s.patched} patched, ${s.upToDate} up to date, ${s.failed} failed, ${s.reboots} reboot(s), ${s.migrations} migration(s)`,
    ...report.hosts.map(
      (h) =>
        `  ${h.host}: ${h.outcome}; ${h.upgraded.length} package(s) upgraded; ${h.rebooted ? `rebooted (boot_id ${h.bootIdBefore?.slice(0, 8)}… -> ${h.bootIdAfter?.slice(0, 8)}…)` : "not rebooted"}; ${h.migrations.length} guest(s) moved, ${h.migratedBack.length} moved back`,
    ),
  ];
}

/** The host plan's cycles that did something, and how many later ones found nothing to do. */
export function hostPlanSummary(state: string, plan: string): string[] {
  const reports = reportsOf(state, plan).map(
    (p) => [p, JSON.parse(readFileSync(p, "utf8")) as CycleReport] as const,
  );
  const busy = reports.filter(([, r]) => r.summary.patched + r.summary.failed > 0);
  const shown = busy.length > 0 ? busy : reports.slice(-1);
  const lines = shown.flatMap(([p, r]) => ["", ...hostLines(p, r)]);
  const quiet = reports.length - shown.length;
  if (quiet > 0)
    lines.push(
      `  (${quiet} later cycle(s) of ${plan} found every node up to date while the guest plans ran)`,
    );
  return lines;
}

function changes(c: ContainerReport, dir: "to" | "from"): string {
  const all = c.runners.flatMap((r) => r.changes.map((x) => `${short(x.package)} ${x[dir] ?? "?"}`));
  return all.length > 0 ? all.join(", ") : "nothing";
}

function updated(c: ContainerReport): string {
  return c.runners
    .filter((r) => r.changes.length > 0)
    .map(
      (r) =>
        `${r.name}: ${r.changes.map((x) => `${short(x.package)} ${x.from ?? "?"} → ${x.to ?? "?"}`).join(", ")}`,
    )
    .join("; ");
}

function health(c: ContainerReport): string {
  if (c.health.length === 0) return "";
  return `; health ${c.health.map((h) => `${h.name} ${h.after === true ? "healthy" : "unhealthy"}`).join(", ")}`;
}

/** One line (two for a rollback) per container: what a newcomer should see happened to it. */
export function containerLines(c: ContainerReport, why?: string): string[] {
  const head = `  CT ${c.vmid} ${c.name ?? ""}`.trimEnd();
  const backup = c.backup ? `${c.backup.mode} ${c.backup.name}` : "no backup";
  switch (c.outcome) {
    case "Succeeded":
      return [`${head}: updated (${updated(c) || "no changes"}) behind ${backup}${health(c)}`];
    case "UpToDate":
      return [`${head}: up to date`];
    case "RolledBack":
      return [
        `${head}: ROLLED BACK (${c.rollback?.reason ?? c.error?.reason ?? "?"}: ${c.error?.message.split(" | ")[0] ?? "see its GuestUpdate"})`,
        `    restored ${backup}: runs ${changes(c, "from")} again instead of ${changes(c, "to")}${health(c)}`,
      ];
    default:
      return [`${head}: ${c.outcome}${why ? ` (${why})` : ""}`];
  }
}

/** Why a container ended where it did: the report's error, else its GuestUpdate's Ready condition. */
function reasonOf(c: ContainerReport, objects: StoredObject[]): string | undefined {
  if (c.error) return `${c.error.reason}: ${c.error.message.split(" | ")[0]}`;
  const child = objects.find((o) => o.kind === "GuestUpdate" && o.metadata.name === c.guestUpdate);
  const conditions = (child?.status?.conditions ?? []) as {
    type: string;
    reason?: string;
    message?: string;
  }[];
  const ready = conditions.find((x) => x.type === "Ready");
  return ready?.message ? `${ready.reason ?? ""}: ${ready.message}` : undefined;
}

/** A guest plan's last cycle: its summary line, then each container. */
export function guestPlanSummary(plan: StoredObject, objects: StoredObject[]): string[] {
  const path = (plan.status?.lastCycle as { reportPath?: string } | undefined)?.reportPath;
  if (!path || !existsSync(path)) return [];
  const r = JSON.parse(readFileSync(path, "utf8")) as GuestCycleReport;
  const s = r.summary;
  return [
    "",
    `Report ${path}`,
    `  ${r.plan}: ${r.outcome} in ${seconds(r.durationMs)} sim time — ${s.succeeded} updated, ${s.upToDate} up to date, ${s.rolledBack} rolled back, ${s.failed} failed, ${s.blocked} blocked`,
    ...Object.values(r.containers)
      .sort((a, b) => a.vmid - b.vmid)
      .flatMap((c) => containerLines(c, reasonOf(c, objects))),
  ];
}
