/**
 * `refit plan`: the flow's own decisions without the applier, over a read-only observation. Nothing
 * here changes a host; the gates, the reboot decision, the evacuation plan and every command come
 * from the functions `refit run` uses, so the dry run cannot disagree with the run.
 */
import type { HostPatch } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { errorMessage } from "../../src/errors.js";
import { observeCeph, observeNode, unavailableFrom, type ClusterObservation } from "../../src/pve/index.js";
import { DEFAULT_TIMING } from "../context.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { observeClusterVia } from "../fleet/observe-cluster.js";
import {
  commandLine,
  jobId,
  maintenanceCommand,
  cdromCommand,
  migrationCommand,
  nooutCommand,
  prefetchCommand,
  rebootCommand,
  shutdownCommand,
  startGuestCommand,
  type RemoteCommand,
} from "./commands.js";
import type { EvacPlan, Move } from "./evacuation-plan.js";
import type { GateResult } from "./gates/index.js";
import { guestsOn } from "./observe.js";
import type { Observation, PatchContext } from "./observation.js";
import { evacuationPlan } from "./phases/evacuating.js";
import { decidePreflight } from "./phases/preflight.js";
import { rebootDecision } from "./reboot-decision.js";
import type { Transition } from "./transition.js";
import { rollingOrder } from "./turn.js";

export interface NodePlan {
  node: string;
  action: "skip" | "patch" | "blocked" | "unobservable";
  why: string;
  gates: GateResult[];
  pending: { name: string; from?: string; to: string }[];
  /** Upgradable packages apt keeps back (held, or a dependency it cannot satisfy): a person must look. */
  keptBack: string[];
  /** Pending packages the plan holds for the run (holdPackages). */
  held: string[];
  reboot: { needed: boolean; reasons: string[] };
  migrations: (Pick<Move, "vmid" | "type" | "to" | "mode" | "restart"> & { name?: string })[];
  viaHa: { vmid: number; reason: string }[];
  shutdowns: { vmid: number; reason: string }[];
  stays: { vmid: number; reason: string }[];
  /** The exact commands `run` would issue, in order (job wrappers included). */
  commands: { on: string; command: string }[];
}

export interface PlanPreview {
  plan: string;
  cluster: string;
  profile: string;
  nodes: NodePlan[];
  notes: string[];
}

/** Job ids carry a hash of plan, node and cycle; the cycle is only known when run starts one. */
const DRY_RUN_CYCLE = "dry-run";

function dryRunContext(
  plan: HostPatchPlan,
  cluster: ProxmoxCluster,
  host: string,
  patched: string[],
): PatchContext {
  const hp: Pick<HostPatch, "spec" | "metadata"> = {
    metadata: { name: `${plan.metadata.name}-${host}` },
    spec: { planRef: { name: plan.metadata.name }, host, profile: plan.spec.profile, cycle: DRY_RUN_CYCLE },
  };
  return {
    hp,
    host,
    planName: plan.metadata.name,
    spec: plan.spec,
    cluster,
    status: { phase: "Preflight" },
    now: Date.now(),
    timing: DEFAULT_TIMING,
    schedule: { windows: [], blackouts: [], force: "all" },
    turn: { ok: true },
    patchedNodes: patched,
  };
}

function blank(node: string): NodePlan {
  return {
    node,
    action: "skip",
    why: "",
    gates: [],
    pending: [],
    keptBack: [],
    held: [],
    reboot: { needed: false, reasons: [] },
    migrations: [],
    viaHa: [],
    shutdowns: [],
    stays: [],
    commands: [],
  };
}

export async function previewHostPatchPlan(
  plan: HostPatchPlan,
  cluster: ProxmoxCluster,
  access: ClusterAccess,
  hosts: string[],
  selfNode?: string,
): Promise<PlanPreview> {
  const { via, obs: clusterObs } = await observeClusterVia(access);
  const patched: string[] = [];
  const nodes: NodePlan[] = [];
  const order = rollingOrder(hosts, selfNode);
  for (const [i, host] of order.entries()) {
    // The nodes after the first maxUnavailable wait for their turn: they download ahead (prefetch).
    const waits = i >= cluster.spec.safety.maxUnavailable && plan.spec.upgrade.prefetch.enabled;
    const ctx = dryRunContext(plan, cluster, host, [...patched]);
    const np = await previewNode(ctx, access, via, clusterObs, waits);
    nodes.push(np);
    if (np.action === "patch") patched.push(host);
  }
  return {
    plan: plan.metadata.name,
    cluster: cluster.metadata.name,
    profile: plan.spec.profile,
    nodes,
    notes: ["package lists are as of each node's last `apt-get update` (a dry run does not refresh them)"],
  };
}

async function previewNode(
  ctx: PatchContext,
  access: ClusterAccess,
  via: string,
  cluster: ClusterObservation,
  prefetch = false,
): Promise<NodePlan> {
  const np = blank(ctx.host);
  const obs: Observation = { jobs: {}, cluster };
  try {
    obs.node = {
      ok: true,
      value: await observeNode(access.node(ctx.host), ctx.host, { pendingUpdates: true }),
    };
  } catch (err) {
    return { ...np, action: "unobservable", why: errorMessage(err) };
  }
  obs.ceph = await observeCeph(access.node(ctx.host)).catch(unavailableFrom);
  const t = decidePreflight(ctx, obs);
  np.gates = (t.kind !== "idle" && t.patch?.gates) || [];
  np.pending = (t.kind !== "idle" && t.patch?.pendingPackages) || [];
  np.keptBack = (t.kind !== "idle" && t.patch?.keptBackPackages) || [];
  np.held = (t.kind !== "idle" && t.patch?.heldPackages) || [];
  const outcome = preflightOutcome(t);
  if (outcome) return { ...np, ...outcome };
  const apt = obs.node.value.pendingUpdates;
  // What the plan holds for the run is not installed, so it predicts no reboot either.
  const changes = apt?.ok ? apt.value.changes.filter((c) => !np.held.includes(c.package)) : [];
  const reboot = rebootDecision(ctx.spec.reboot.policy, obs.node.value.reboot, changes);
  np.reboot = { needed: reboot.required, reasons: reboot.reasons };
  np.action = "patch";
  np.why = `${np.pending.length} package(s) to upgrade${np.keptBack.length > 0 ? `, ${np.keptBack.length} kept back (need a person)` : ""}${reboot.required ? `; reboot: ${reboot.reasons.join("; ")}` : "; no reboot needed"}`;
  const commands: RemoteCommand[] = [
    ...(prefetch ? [prefetchCommand(ctx.hp, ctx.spec)] : []),
    ...(t.kind === "act" ? t.actions.flatMap((a) => (a.type === "run" ? [a.command] : [])) : []),
  ];
  if (reboot.required && cluster.resources.ok) {
    obs.guests = await guestsOn(access, via, cluster.resources.value, ctx.host);
    const evac = evacuationPlan(ctx, obs);
    if ("unreadable" in evac) return { ...np, action: "unobservable", why: evac.unreadable };
    if (evac.blocked) return { ...np, action: "blocked", why: evac.blocked.message };
    describeEvacuation(np, evac);
    const ceph = obs.ceph.ok && obs.ceph.value.kind === "ceph" && ctx.spec.ceph.noout;
    commands.push(...evacuationCommands(ctx, evac, ceph));
  }
  const hash = jobId(ctx.hp, "x").slice(3, 15);
  np.commands = commands.map((c) => ({ on: c.on, command: commandLine(c).replaceAll(hash, "cyclehash") }));
  return np;
}

/** Skip, block or "cannot tell" as Preflight decided it; undefined when the node is patched. */
function preflightOutcome(t: Transition): Partial<NodePlan> | undefined {
  if (t.kind === "goto" && t.phase === "Skipped")
    return { action: "skip", why: `${t.message}; it will not be drained` };
  if (t.kind === "goto" && t.phase === "Blocked") return { action: "blocked", why: t.message };
  if (t.kind === "wait" || t.kind === "fail") return { action: "unobservable", why: t.message };
  return undefined;
}

function describeEvacuation(np: NodePlan, evac: EvacPlan): void {
  np.migrations = evac.moves.map((m) => ({
    vmid: m.vmid,
    type: m.type,
    to: m.to,
    mode: m.mode,
    ...(m.restart ? { restart: true } : {}),
    ...(m.name ? { name: m.name } : {}),
  }));
  np.viaHa = evac.viaHa.map((x) => ({ vmid: x.vmid, reason: x.reason }));
  np.shutdowns = evac.shutdowns.map((x) => ({ vmid: x.vmid, reason: x.reason }));
  np.stays = evac.stays.map((x) => ({ vmid: x.vmid, reason: x.reason }));
}

/** Off the node, the reboot, and back: in the order the flow issues them. */
function evacuationCommands(ctx: PatchContext, evac: EvacPlan, noout: boolean): RemoteCommand[] {
  const ha = ctx.spec.evacuation.mode === "HAMaintenance";
  const out = (m: Move) => ({ ...m, from: ctx.host });
  const back = (m: Move) => ({ ...m, from: m.to, to: ctx.host });
  return [
    ...(ha ? [maintenanceCommand(ctx.host, true)] : []),
    ...evac.moves.flatMap((m) => [
      ...(m.ejectMedia ?? []).map((x) => cdromCommand(ctx.host, m.vmid, x.drive)),
      migrationCommand(ctx.hp, ctx.spec, out(m), false),
    ]),
    ...evac.shutdowns.map((g) => shutdownCommand(ctx.hp, ctx.spec, g)),
    ...(noout ? [nooutCommand(ctx.host, true)] : []),
    rebootCommand(ctx.host),
    // Once Ceph has recovered from the node's return.
    ...(noout ? [nooutCommand(ctx.host, false)] : []),
    ...(ha ? [maintenanceCommand(ctx.host, false)] : []),
    ...(ctx.spec.evacuation.migrateBack
      ? evac.moves.flatMap((m) => [
          migrationCommand(ctx.hp, ctx.spec, back(m), true),
          ...(m.ejectMedia ?? []).map((x) => cdromCommand(ctx.host, m.vmid, x.drive, x.volume)),
        ])
      : []),
    ...evac.shutdowns.map((g) => startGuestCommand(ctx.host, g)),
  ];
}

/** The preview as text for a person. */
export function renderPreview(p: PlanPreview): string[] {
  const lines = [`HostPatchPlan/${p.plan} on ProxmoxCluster/${p.cluster} (profile ${p.profile})`];
  for (const n of p.nodes) {
    lines.push(`  ${n.node}: ${n.action.toUpperCase()} — ${n.why}`);
    for (const g of n.gates) lines.push(`    gate ${g.passed ? "ok  " : "FAIL"} ${g.name}: ${g.message}`);
    for (const pkg of n.pending) lines.push(`    package ${pkg.name} ${pkg.from ?? "(new)"} -> ${pkg.to}`);
    for (const k of n.keptBack)
      lines.push(
        `    kept back ${k}: not upgraded, needs a person (apt-mark showhold, apt-get -s dist-upgrade)`,
      );
    for (const h of n.held)
      lines.push(`    held for the run ${h} (holdPackages): apt-mark hold before, unhold after`);
    if (n.action === "patch")
      lines.push(`    reboot: ${n.reboot.needed ? `yes (${n.reboot.reasons.join("; ")})` : "no"}`);
    for (const m of n.migrations)
      lines.push(
        `    move ${m.type === "qemu" ? "VM" : "CT"} ${m.vmid}${m.name ? ` (${m.name})` : ""} -> ${m.to} [${m.mode}${m.restart ? ", restart: down while it moves" : ""}]`,
      );
    for (const h of n.viaHa) lines.push(`    HA moves ${h.vmid}: ${h.reason}`);
    for (const s of n.shutdowns)
      lines.push(`    shut down ${s.vmid} (${s.reason}), started again after the return`);
    for (const s of n.stays) lines.push(`    stays ${s.vmid}: ${s.reason}`);
    n.commands.forEach((c, i) => lines.push(`    ${i + 1}. on ${c.on}: ${c.command}`));
  }
  for (const note of p.notes) lines.push(`  note: ${note}`);
  return lines;
}
