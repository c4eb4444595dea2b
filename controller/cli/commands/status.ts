import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import type { Condition } from "../../../src/api/meta.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    phaseSince?: string;
    message?: string;
    conditions?: Condition[];
    [k: string]: unknown;
  };
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await jsonFiles(p)));
    else if (e.name.endsWith(".json")) out.push(p);
  }
  return out;
}

/**
 * Reads the state directory without taking its lock, so `refit status` works beside a running
 * controller. Files are replaced atomically by the controller, so each read sees a whole object.
 */
export async function readState(stateDir: string): Promise<Obj[]> {
  const objects: Obj[] = [];
  for (const f of await jsonFiles(join(stateDir, "desired"))) {
    const rec = JSON.parse(await readFile(f, "utf8")) as { object?: Obj };
    if (rec.object) objects.push(rec.object);
  }
  for (const f of await jsonFiles(join(stateDir, "objects")))
    objects.push(JSON.parse(await readFile(f, "utf8")) as Obj);
  return objects;
}

function cond(o: Obj, type: string): Condition | undefined {
  return o.status?.conditions?.find((c) => c.type === type);
}

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

/** The status table: each plan, then its children indented under it. */
export function renderStatus(objects: Obj[], now: number): string[] {
  const rows: string[][] = [["KIND/NAME", "READY", "PHASE", "SINCE", "REASON", "MESSAGE"]];
  const plans = objects.filter((o) => o.kind === "HostPatchPlan" || o.kind === "GuestUpdatePlan");
  const children = objects.filter((o) => o.kind === "HostPatch" || o.kind === "GuestUpdate");
  const row = (o: Obj, indent: string): string[] => {
    const ready = cond(o, "Ready");
    const stalled = cond(o, "Stalled");
    return [
      `${indent}${o.kind}/${o.metadata.name}`,
      ready?.status ?? "Unknown",
      o.status?.phase ?? "-",
      since(o.status?.phaseSince ?? ready?.lastTransitionTime, now),
      stalled?.status === "True" ? `Stalled:${stalled.reason}` : (ready?.reason ?? "-"),
      (o.status?.message ?? ready?.message ?? "").slice(0, 120),
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
  return table(rows);
}

export function registerStatus(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("status")
    .description("Show plans and their children: phase, conditions, since when, and why")
    .option("-s, --state <dir>", "state directory of the controller", "/var/lib/refit")
    .option("-w, --watch", "refresh every second until interrupted", false)
    .option("--json", "print the objects as JSON", false)
    .action(async (opts: { state: string; watch: boolean; json: boolean }) => {
      const once = async (): Promise<void> => {
        const objects = await readState(opts.state);
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
