import type { HostState, PbsTask } from "../model/state.js";
import type { Sim } from "../world.js";
import { onPbs, registerCommands } from "./registry.js";
import { renderText } from "./text-table.js";
import type { CommandContext } from "./types.js";

/**
 * `proxmox-backup-manager task list` (running tasks only unless `--all`; running rows have no
 * `endtime`/`status`) and `versions`, on a PBS host.
 */

/** Tasks whose time has come finish with their final status. */
export function refreshPbsTasks(sim: Sim, host: HostState): PbsTask[] {
  const now = sim.now();
  for (const t of host.pbs?.tasks ?? []) {
    if (t.endtime === undefined && t.endsAt !== undefined && t.endsAt <= now) {
      t.endtime = Math.floor(t.endsAt / 1000);
      t.status = t.finalStatus;
    }
  }
  return host.pbs?.tasks ?? [];
}

function row(t: PbsTask): Record<string, unknown> {
  const r: Record<string, unknown> = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    worker_type: t.worker_type,
    worker_id: t.worker_id,
    user: t.user,
  };
  if (t.endtime !== undefined) r.endtime = t.endtime;
  if (t.status !== undefined) r.status = t.status;
  return r;
}

function format(ctx: CommandContext, args: string[]): string | undefined {
  const i = args.indexOf("--output-format");
  const eq = args.find((a) => a.startsWith("--output-format="));
  const f = eq ? eq.slice("--output-format=".length) : i >= 0 ? args[i + 1] : "text";
  if (f !== "text" && f !== "json" && f !== "json-pretty") {
    ctx.err(
      `parameter verification errors\nparameter 'output-format': value '${f ?? ""}' is not defined in the enumeration.\n`,
    );
    return undefined;
  }
  return f;
}

function print(ctx: CommandContext, f: string, data: unknown): void {
  if (f === "json") ctx.out(`${JSON.stringify(data)}\n`);
  else if (f === "json-pretty") ctx.out(`${JSON.stringify(data, null, 2)}\n`);
  else ctx.out(renderText(data, false, false));
}

function pbsManager(ctx: CommandContext): number {
  if (ctx.place.kind !== "host" || !ctx.place.host.pbs) return 127;
  const host = ctx.place.host;
  const pbs = host.pbs!;
  const [sub, action, ...rest] = ctx.argv.slice(1);
  if (sub === "task" && action === "list") {
    const f = format(ctx, rest);
    if (!f) return 255;
    const all = rest.includes("--all");
    const li = rest.indexOf("--limit");
    const limit = li >= 0 ? Number(rest[li + 1]) : 50;
    const tasks = refreshPbsTasks(ctx.sim, host)
      .filter((t) => all || t.endtime === undefined)
      .sort((a, b) => b.starttime - a.starttime)
      .slice(0, limit)
      .map(row);
    print(ctx, f, tasks);
    return 0;
  }
  if (sub === "versions") {
    const f = format(
      ctx,
      [action, ...rest].filter((x): x is string => x !== undefined),
    );
    if (!f) return 255;
    const installed = host.apt.installed["proxmox-backup-server"]?.version ?? `${pbs.version}-1`;
    const running = installed.replace(/-\d+$/, "");
    const list = [
      {
        Package: "proxmox-backup-server",
        Title: "Proxmox Backup Server daemon with tools and GUI",
        Arch: "amd64",
        Description: "This package contains the Proxmox Backup Server daemons and related tools.",
        Version: installed,
        OldVersion: installed,
        Origin: "Proxmox",
        Priority: "optional",
        Section: "admin",
        ExtraInfo: `running version: ${running}`,
      },
    ];
    if (f === "text") ctx.out(`proxmox-backup-server ${installed} running version: ${running}\n`);
    else print(ctx, f, list);
    return 0;
  }
  if (sub === "datastore" && action === "list") {
    const f = format(ctx, rest) ?? "text";
    print(
      ctx,
      f,
      pbs.datastores.map((d) => ({ name: d, path: `/mnt/datastore/${d}`, comment: "" })),
    );
    return 0;
  }
  ctx.err(`Error: unknown command '${[sub, action].filter(Boolean).join(" ")}'\n`);
  return 255;
}

registerCommands([
  {
    name: "proxmox-backup-manager",
    path: "/usr/sbin/proxmox-backup-manager",
    available: onPbs,
    handler: pbsManager,
  },
]);
