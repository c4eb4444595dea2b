/**
 * Ceph on a Proxmox cluster (hyper-converged): whether it runs, its health, and the per-node
 * `noout` flag Refit sets around a reboot. Sources are in src/pve/REFERENCE-ceph.md.
 */
import { z } from "zod";
import type { HostExec } from "../ssh/types.js";
import { runBatch } from "./batch.js";
import { nodeName } from "./args.js";
import { parseJsonWith, optString } from "./json.js";
import { unparseable, type ParseContext } from "./errors.js";
import { available, type Observed } from "./observed.js";
import { stepObserved } from "./observe.js";
import { PveTimeouts } from "./timeouts.js";

/** pve-manager's `check_ceph_inited` looks for this file (PVE/Ceph/Tools.pm `$pve_ceph_cfgpath`). */
export const CEPH_CONF_TEST_ARGV = ["test", "-f", "/etc/pve/ceph.conf"] as const;
/** `--connect-timeout`: without it the CLI waits for a monitor for ever. */
export const CEPH_HEALTH_ARGV = [
  "ceph",
  "--connect-timeout",
  "10",
  "health",
  "detail",
  "--format",
  "json",
] as const;

/** Per CRUSH node (the host bucket is named after the node): Ceph ≥ Nautilus `osd set-group`. */
export function nooutArgv(host: string, set: boolean): string[] {
  return [
    "ceph",
    "--connect-timeout",
    "10",
    "osd",
    set ? "set-group" : "unset-group",
    "noout",
    nodeName(host),
  ];
}

export type CephStatus = "HEALTH_OK" | "HEALTH_WARN" | "HEALTH_ERR";

export interface CephCheck {
  readonly code: string;
  readonly severity: CephStatus;
  readonly summary: string;
  readonly detail: readonly string[];
  readonly muted: boolean;
}

export interface CephHealth {
  readonly status: CephStatus;
  readonly checks: readonly CephCheck[];
}

/** Ceph as one node sees it: not set up on this cluster, or its health. */
export type CephState = { readonly kind: "none" } | { readonly kind: "ceph"; readonly health: CephHealth };

const status = z.enum(["HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR"]);
const checkSchema = z.object({
  severity: status,
  summary: z.object({ message: z.string() }),
  detail: z.array(z.object({ message: optString })).optional(),
  muted: z.boolean().optional(),
});
const healthSchema = z.object({
  status,
  checks: z.record(z.string(), checkSchema).optional(),
});

/** `ceph health detail --format json` (Nautilus+: `checks` keyed by code; `mutes` since Octopus). */
export function parseCephHealth(text: string, ctx?: ParseContext): CephHealth {
  const h = parseJsonWith(healthSchema, jsonPart(text), CEPH_HEALTH_ARGV.join(" "), ctx);
  const checks = Object.entries(h.checks ?? {}).map(([code, c]) => ({
    code,
    severity: c.severity,
    summary: c.summary.message,
    detail: (c.detail ?? []).flatMap((d) => (d.message ? [d.message] : [])),
    muted: c.muted ?? false,
  }));
  return { status: h.status, checks };
}

/**
 * The batch merges stderr into stdout, and the CLI may warn there first (librados config or keyring
 * notices, one per line): the JSON is the last line that starts with `{`, to the end.
 */
function jsonPart(text: string): string {
  const lines = text.split("\n");
  const start = lines.findLastIndex((l) => l.startsWith("{"));
  return start <= 0 ? text : lines.slice(start).join("\n");
}

const RANK: Record<CephStatus, number> = { HEALTH_OK: 0, HEALTH_WARN: 1, HEALTH_ERR: 2 };

function worst(checks: readonly CephCheck[]): CephStatus {
  return checks.reduce<CephStatus>(
    (w, c) => (c.muted || RANK[c.severity] <= RANK[w] ? w : c.severity),
    "HEALTH_OK",
  );
}

/** `host pve2 has flags noout` (OSD_FLAGS detail): the flags of one CRUSH host bucket. */
const HOST_FLAGS = /^host (\S+) has flags (\S+)$/;

function hostFlags(line: string): { host: string; flags: string[] } | undefined {
  const m = HOST_FLAGS.exec(line.trim());
  return m ? { host: m[1]!, flags: m[2]!.split(",") } : undefined;
}

/** Whether the node's CRUSH host carries `noout` (Ceph reports it under OSD_FLAGS). */
export function hasNoout(h: CephHealth, host: string): boolean {
  const flags = h.checks.find((c) => c.code === "OSD_FLAGS");
  return (flags?.detail ?? []).some((l) => {
    const f = hostFlags(l);
    return f?.host === host && f.flags.includes("noout");
  });
}

/**
 * The health as it would be without this node's own `noout` (which Refit set and will unset): the
 * OSD_FLAGS check loses that line, and disappears when it was the only one; the status is the worst
 * remaining unmuted check, as Ceph computes it.
 */
export function withoutOwnNoout(h: CephHealth, host: string): CephHealth {
  const checks = h.checks.flatMap((c): CephCheck[] => {
    if (c.code !== "OSD_FLAGS") return [c];
    const detail = c.detail.filter((l) => {
      const f = hostFlags(l);
      return !(f?.host === host && f.flags.length === 1 && f.flags[0] === "noout");
    });
    if (detail.length === c.detail.length) return [c];
    return detail.length === 0 ? [] : [{ ...c, detail }];
  });
  return { status: worst(checks), checks };
}

/** Checks that mean data is not fully redundant yet or OSDs are missing: Ceph is still recovering. */
const RECOVERY =
  /^(OSD_DOWN|OSD_\w+_DOWN|PG_DEGRADED|PG_AVAILABILITY|PG_DAMAGED|OBJECT_MISPLACED|OBJECT_UNFOUND|PG_RECOVERY_FULL|PG_BACKFILL_FULL)$/;

/** The unmuted checks that say Ceph has not recovered (OSDs down, PGs degraded or misplaced). */
export function recoveryChecks(h: CephHealth): CephCheck[] {
  return h.checks.filter((c) => !c.muted && RECOVERY.test(c.code));
}

/** One line for status messages: `HEALTH_WARN (OSD_DOWN: 2 osds down; PG_DEGRADED: ...)`. */
export function describeCephHealth(h: CephHealth): string {
  const active = h.checks.filter((c) => !c.muted);
  if (active.length === 0) return h.status;
  return `${h.status} (${active.map((c) => `${c.code}: ${c.summary}`).join("; ")})`;
}

/** `test -f` answers with its exit code: 0 present, 1 absent. */
function parseConfTest(exitCode: number, output: string, ctx?: ParseContext): boolean {
  if (exitCode === 0 || exitCode === 1) return exitCode === 0;
  return unparseable(ctx, CEPH_CONF_TEST_ARGV.join(" "), output, `test exited ${exitCode}`);
}

export function observeCephSteps(): string[][] {
  return [[...CEPH_CONF_TEST_ARGV], [...CEPH_HEALTH_ARGV]];
}

/** Whether this cluster runs Ceph and, if so, its health, in ONE exec on `exec`'s node. */
export async function observeCeph(
  exec: HostExec,
  opts: { signal?: AbortSignal } = {},
): Promise<Observed<CephState>> {
  const r = await runBatch(exec, observeCephSteps(), {
    timeoutMs: PveTimeouts.batch,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const conf = stepObserved(r[0], exec.host, (out, ctx, code) => parseConfTest(code, out, ctx), [0, 1]);
  if (!conf.ok) return conf;
  if (!conf.value) return available({ kind: "none" });
  const health = stepObserved(r[1], exec.host, parseCephHealth);
  return health.ok ? available({ kind: "ceph", health: health.value }) : health;
}
