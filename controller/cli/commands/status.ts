import type { Command } from "commander";
import { guestUpdate } from "../../../src/api/guest-update.js";
import { getCondition } from "../../runtime/conditions.js";
import { DEFAULT_STATE_DIR } from "../../runtime/state-dir.js";
import { readStateSnapshot, type StoredObject } from "../../runtime/state-reader.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

function since(iso: string | undefined, now: number): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * What a GuestUpdate went through, in one line: container and node, the backup, each runner's
 * result with its changes (from → to), health after/before, the rollback.
 */
export function guestUpdateSummary(o: StoredObject): string | undefined {
  const parsed = guestUpdate.safeParse(o);
  if (!parsed.success) return undefined;
  const { spec, status } = parsed.data;
  const parts = [`vmid ${spec.vmid} on ${status?.node ?? spec.node}`];
  if (status?.snapshot) parts.push(`backup ${status.snapshot.mode} ${status.snapshot.name}`);
  for (const r of status?.runners ?? []) {
    const changes = r.applied ? r.pending.map((c) => `${c.package} ${c.from ?? "-"}→${c.to ?? "-"}`) : [];
    const shown = changes.slice(0, 3).join(", ") + (changes.length > 3 ? ` +${changes.length - 3}` : "");
    parts.push(`${r.name}: ${r.result ?? "running"}${shown ? ` (${shown})` : ""}`);
  }
  const health = status?.healthResults ?? [];
  if (health.length > 0) parts.push(`health ${health.filter((h) => h.healthy).length}/${health.length}`);
  if (status?.rollback?.done) parts.push(`rolled back (${status.rollback.reason ?? "requested"})`);
  return parts.join("; ");
}

/** The status table: each plan, then its children indented under it. */
export function renderStatus(objects: StoredObject[], now: number): string[] {
  const rows: string[][] = [["KIND/NAME", "READY", "PHASE", "SINCE", "REASON", "MESSAGE"]];
  const plans = objects.filter((o) => o.kind === "HostPatchPlan" || o.kind === "GuestUpdatePlan");
  const children = objects.filter((o) => o.kind === "HostPatch" || o.kind === "GuestUpdate");
  const row = (o: StoredObject, indent: string): string[] => {
    const ready = getCondition(o.status, "Ready");
    const stalled = getCondition(o.status, "Stalled");
    return [
      `${indent}${o.kind}/${o.metadata.name}`,
      ready?.status ?? "Unknown",
      o.status?.phase ?? "-",
      since(o.status?.phaseSince ?? ready?.lastTransitionTime, now),
      stalled?.status === "True" ? `Stalled:${stalled.reason}` : (ready?.reason ?? "-"),
      o.kind === "GuestUpdate"
        ? [guestUpdateSummary(o), ready?.message].filter(Boolean).join(" | ").slice(0, 240)
        : (o.status?.message ?? ready?.message ?? "").slice(0, 120),
    ];
  };
  for (const c of objects.filter((o) => o.kind === "ProxmoxCluster")) rows.push(row(c, ""));
  for (const p of plans.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    rows.push(row(p, ""));
    for (const c of children
      .filter(
        (x) =>
          x.metadata.labels?.["refit.dev/plan"] === p.metadata.name &&
          x.kind.startsWith(p.kind.replace("Plan", "")),
      )
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
      rows.push(row(c, "  "));
    }
  }
  for (const p of objects.filter((o) => o.kind === "GuestUpdatePolicy")) rows.push(row(p, ""));
  return table(rows);
}

export function registerStatus(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("status")
    .description("Show plans and their children: phase, conditions, since when, and why")
    .option("-s, --state <dir>", "state directory of the controller", DEFAULT_STATE_DIR)
    .option("-w, --watch", "refresh every second until interrupted", false)
    .option("--json", "print the objects as JSON", false)
    .action(async (opts: { state: string; watch: boolean; json: boolean }) => {
      const once = async (): Promise<void> => {
        const { objects, unreadable } = await readStateSnapshot(opts.state);
        for (const f of unreadable) io.err(`warning: ${f.path} is ignored: ${f.error}`);
        if (opts.json) io.out(JSON.stringify(objects, null, 2));
        else if (objects.length === 0)
          io.out(`no objects in ${opts.state}: is the controller running with --state ${opts.state}?`);
        else for (const line of renderStatus(objects, Date.now())) io.out(line);
      };
      await once();
      if (opts.watch) {
        for (;;) {
          await new Promise((r) => setTimeout(r, 1000));
          process.stdout.write("\x1b[2J\x1b[H");
          await once();
        }
      }
      setExit(EXIT.ok);
    });
}
