/**
 * The `ceph` CLI of a hyper-converged PVE node (ceph-common), for a cluster with `ceph:` in the
 * fleet: `health [detail]`, `status`/`-s`, `osd set|unset <flag>`, `osd set-group|unset-group
 * <flags> <who>...`, with `--format json|json-pretty` (`-f`) and `--connect-timeout`. With the
 * monitors out of quorum the CLI waits for one (for ever without `--connect-timeout`; here 300 s of
 * sim time) and fails as the real one does. Formats: src/pve/REFERENCE-ceph.md.
 */
import { cephHealth, crushTarget, monQuorum, osdsIn, type CephHealthView } from "../model/ceph.js";
import type { CephSimState, ClusterState } from "../model/state.js";
import { onPve, registerCommands } from "./registry.js";
import type { CommandContext } from "./types.js";

interface Parsed {
  words: string[];
  format: "plain" | "json" | "json-pretty";
  connectTimeout?: number;
}

function parseArgs(argv: readonly string[]): Parsed | string {
  const words: string[] = [];
  let format: Parsed["format"] = "plain";
  let connectTimeout: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] =
      a.startsWith("--") && a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
    if (flag === "--format" || flag === "-f") {
      const v = inline ?? argv[++i];
      if (v !== "json" && v !== "json-pretty" && v !== "plain")
        return `invalid choice: '${v ?? ""}' (choose from 'json', 'json-pretty', 'xml', 'xml-pretty', 'plain', 'yaml')`;
      format = v;
    } else if (flag === "--connect-timeout") {
      const v = Number(inline ?? argv[++i]);
      if (!Number.isFinite(v) || v < 0) return "argument --connect-timeout: invalid int value";
      connectTimeout = v;
    } else if (a === "-s") words.push("status");
    else words.push(a);
  }
  return { words, format, ...(connectTimeout !== undefined ? { connectTimeout } : {}) };
}

function healthJson(h: CephHealthView, detail: boolean): object {
  return {
    status: h.status,
    checks: Object.fromEntries(
      h.checks.map((c) => [
        c.code,
        {
          severity: c.severity,
          summary: { message: c.summary, count: c.count },
          ...(detail ? { detail: c.detail.map((message) => ({ message })) } : {}),
          muted: false,
        },
      ]),
    ),
    mutes: [],
  };
}

function healthText(h: CephHealthView, detail: boolean): string {
  if (h.checks.length === 0) return `${h.status}\n`;
  const head = `${h.status} ${h.checks.map((c) => c.summary).join("; ")}\n`;
  if (!detail) return head;
  return (
    head +
    h.checks
      .map(
        (c) =>
          `[${c.severity === "HEALTH_ERR" ? "ERR" : "WRN"}] ${c.code}: ${c.summary}\n${c.detail.map((d) => `    ${d}\n`).join("")}`,
      )
      .join("")
  );
}

function json(ctx: CommandContext, p: Parsed, value: object): void {
  ctx.out(p.format === "json-pretty" ? `${JSON.stringify(value, null, 4)}\n` : `${JSON.stringify(value)}\n`);
}

function statusText(
  ctx: CommandContext,
  cluster: ClusterState,
  ceph: CephSimState,
  h: CephHealthView,
): string {
  const upNodes = cluster.nodes.filter((n) => ctx.sim.host(n)?.power === "up");
  const down = cluster.nodes.filter((n) => !upNodes.includes(n));
  const osdsUp = ceph.osds.filter((o) => upNodes.includes(o.host)).length;
  const degraded = h.checks.find((c) => c.code === "PG_DEGRADED")?.count ?? 0;
  const pgLines =
    degraded > 0
      ? [
          `    pgs:     ${ceph.pgs - degraded} active+clean`,
          `             ${degraded} active+undersized+degraded`,
        ]
      : [`    pgs:     ${ceph.pgs} active+clean`];
  return [
    "  cluster:",
    `    id:     ${ceph.fsid}`,
    `    health: ${h.status}`,
    ...h.checks.map((c) => `            ${c.summary}`),
    " ",
    "  services:",
    `    mon: ${cluster.nodes.length} daemons, quorum ${upNodes.join(",")}${down.length ? `, out of quorum: ${down.join(", ")}` : ""}`,
    `    mgr: ${upNodes[0] ?? cluster.nodes[0]}(active)${upNodes.length > 1 ? `, standbys: ${upNodes.slice(1).join(", ")}` : ""}`,
    `    osd: ${ceph.osds.length} osds: ${osdsUp} up, ${osdsIn(ctx.sim, ceph)} in${ceph.flags.length ? `\n         flags ${ceph.flags.join(",")}` : ""}`,
    " ",
    "  data:",
    `    pools:   2 pools, ${ceph.pgs} pgs`,
    `    objects: ${(ceph.objects / 1000).toFixed(2)}k objects`,
    ...pgLines,
    "",
  ].join("\n");
}

function health(ctx: CommandContext, p: Parsed, cluster: ClusterState): number {
  const detail = p.words[1] === "detail";
  const h = cephHealth(ctx.sim, cluster);
  if (p.format === "plain") ctx.out(healthText(h, detail));
  else json(ctx, p, healthJson(h, detail));
  return 0;
}

function osdFlag(ctx: CommandContext, p: Parsed, ceph: CephSimState): number {
  const [, verb, flag, ...who] = p.words;
  if (!flag) return invalid(ctx, p);
  if (verb === "set" || verb === "unset") {
    if (verb === "set" && !ceph.flags.includes(flag)) ceph.flags.push(flag);
    if (verb === "unset") ceph.flags = ceph.flags.filter((f) => f !== flag);
    ctx.err(`${flag} is ${verb}\n`);
    return 0;
  }
  if (who.length === 0) return invalid(ctx, p);
  const flags = flag.split(",");
  for (const w of who) {
    const target = crushTarget(ceph, w);
    if (!target) {
      ctx.err(`Error EINVAL: unable to parse osd id or crush node or device class: "${w}". \n`);
      return 22;
    }
    const now = new Set(ceph.groupFlags[target] ?? []);
    for (const f of flags)
      if (verb === "set-group") now.add(f);
      else now.delete(f);
    if (now.size > 0) ceph.groupFlags[target] = [...now];
    else delete ceph.groupFlags[target];
  }
  return 0;
}

function invalid(ctx: CommandContext, p: Parsed): number {
  ctx.err(`Invalid command: ${p.words.join(" ")} not valid\nError EINVAL: invalid command\n`);
  return 22;
}

async function ceph(ctx: CommandContext): Promise<number> {
  if (ctx.place.kind !== "host") return 127;
  const cluster = ctx.sim.clusterOf(ctx.place.host);
  const p = parseArgs(ctx.argv.slice(1));
  if (typeof p === "string") {
    ctx.err(`ceph: error: ${p}\n`);
    return 2;
  }
  if (!cluster?.ceph) {
    ctx.err(
      "Error initializing cluster client: ObjectNotFound('RADOS object not found (error calling conf_read_file)')\n",
    );
    return 1;
  }
  if (!monQuorum(ctx.sim, cluster)) {
    await ctx.sim.sleep(p.connectTimeout ?? 300, ctx.signal);
    ctx.err("[errno 110] RADOS timed out (error connecting to the cluster)\n");
    return 1;
  }
  const [cmd, sub] = p.words;
  if (cmd === "health" && (sub === undefined || sub === "detail")) return health(ctx, p, cluster);
  if (cmd === "status" && sub === undefined) {
    const h = cephHealth(ctx.sim, cluster);
    if (p.format === "plain") ctx.out(statusText(ctx, cluster, cluster.ceph, h));
    else json(ctx, p, { fsid: cluster.ceph.fsid, health: healthJson(h, false) });
    return 0;
  }
  if (cmd === "osd" && ["set", "unset", "set-group", "unset-group"].includes(sub ?? ""))
    return osdFlag(ctx, p, cluster.ceph);
  return invalid(ctx, p);
}

/**
 * `pveceph status` (pve-manager PVE/CLI/pveceph.pm): `check_ceph_inited`, then `ceph -s` with a 15 s
 * timeout. On a node without Ceph, check_ceph_installed('ceph_mon') dies first.
 */
async function pveceph(ctx: CommandContext): Promise<number> {
  if (ctx.place.kind !== "host") return 127;
  if (ctx.argv[1] !== "status" || ctx.argv.length > 2) {
    ctx.err(
      `ERROR: unknown command 'pveceph ${ctx.argv.slice(1).join(" ")}'\nUSAGE: pveceph <COMMAND> [ARGS] [OPTIONS]\n`,
    );
    return 255;
  }
  if (ctx.place.host.files["/etc/pve/ceph.conf"] === undefined) {
    ctx.err("binary not installed: /usr/bin/ceph-mon\n");
    return 255;
  }
  return ceph({ ...ctx, argv: ["ceph", "--connect-timeout", "15", "-s"] });
}

/** ceph-common is installed on the nodes of a cluster that runs Ceph (`pveceph install`). */
registerCommands([
  {
    name: "ceph",
    path: "/usr/bin/ceph",
    available: (place) =>
      place.kind === "host" &&
      place.host.kind === "pve" &&
      place.host.files["/etc/pve/ceph.conf"] !== undefined,
    handler: ceph,
  },
  { name: "pveceph", path: "/usr/bin/pveceph", available: onPve, handler: pveceph },
]);
