/**
 * `refit plan`: what `refit run` would do, from read-only observation. Nothing here changes a host:
 * it observes (batched reads, guest configs) and decides with the same functions the flow uses.
 */
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { parseDuration } from "../../src/api/primitives.js";
import { errorMessage } from "../../src/errors.js";
import {
  haMigrateArgv,
  kernelUpdatePending,
  observeNode,
  pctMigrateArgv,
  qmMigrateArgv,
} from "../../src/pve/index.js";
import { quoteArgv } from "../../src/ssh/index.js";
import { startJobArgv } from "../../src/ssh/jobs.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { planEvacuation, type EvacNode, type Move } from "./evacuation-plan.js";
import { upgradeJobArgv, REBOOT_ARGV } from "./flow.js";
import { pveGates, type GateResult } from "./gates.js";
import { observeClusterVia } from "../fleet/observe-cluster.js";
import { guestsOn } from "./observe.js";
import { rollingOrder } from "./reconciler.js";

export interface NodePlan {
  node: string;
  action: "skip" | "patch" | "blocked" | "unobservable";
  why: string;
  gates: GateResult[];
  pending: { name: string; from?: string; to: string }[];
  reboot: { needed: boolean; reasons: string[] };
  migrations: (Pick<Move, "vmid" | "type" | "to" | "mode"> & { name?: string })[];
  stays: { vmid: number; reason: string }[];
  /** The exact commands `run` would issue on this node, in order (job wrappers included). */
  commands: { on: string; command: string }[];
}

export interface PlanPreview {
  plan: string;
  cluster: string;
  profile: string;
  nodes: NodePlan[];
  notes: string[];
}

const jobLine = (id: string, argv: string[], timeoutMs: number): string =>
  quoteArgv(startJobArgv(id, argv, Math.ceil(timeoutMs / 1000)));

export async function previewHostPatchPlan(
  plan: HostPatchPlan,
  cluster: ProxmoxCluster,
  access: ClusterAccess,
  hosts: string[],
  selfNode?: string,
): Promise<PlanPreview> {
  const preview: PlanPreview = {
    plan: plan.metadata.name,
    cluster: cluster.metadata.name,
    profile: plan.spec.profile,
    nodes: [],
    notes: ["package lists are as of each node's last `apt-get update` (a dry run does not refresh them)"],
  };
  const { via, obs: clusterObs } = await observeClusterVia(access);
  const patched: string[] = [];
  for (const host of rollingOrder(hosts, selfNode)) {
    const np: NodePlan = {
      node: host,
      action: "skip",
      why: "",
      gates: [],
      pending: [],
      reboot: { needed: false, reasons: [] },
      migrations: [],
      stays: [],
      commands: [],
    };
    preview.nodes.push(np);
    let o;
    try {
      o = await observeNode(access.node(host), host, { pendingUpdates: true });
    } catch (err) {
      np.action = "unobservable";
      np.why = errorMessage(err);
      continue;
    }
    np.gates = pveGates(host, plan.spec, o, clusterObs, {
      requireQuorum: cluster.spec.safety.requireQuorum,
      requireAllNodesOnline: cluster.spec.safety.requireAllNodesOnline,
    });
    if (!o.pendingUpdates?.ok) {
      np.action = "unobservable";
      np.why = `pending updates cannot be read: ${o.pendingUpdates?.message ?? "not observed"}`;
      continue;
    }
    const apt = o.pendingUpdates.value;
    np.pending = apt.changes.map((c) => ({
      name: c.package,
      ...(c.oldVersion ? { from: c.oldVersion } : {}),
      to: c.newVersion,
    }));
    const policy = plan.spec.reboot.policy;
    const reasons: string[] = [];
    if (policy === "Always") reasons.push("reboot policy Always");
    if (policy === "IfRequired") {
      if (o.reboot.ok && o.reboot.value.needed) reasons.push(...o.reboot.value.reasons);
      if (kernelUpdatePending(apt))
        reasons.push(
          `a new kernel package is pending (${apt.changes
            .filter((c) => /kernel/.test(c.package))
            .map((c) => `${c.package} ${c.newVersion}`)
            .join(", ")})`,
        );
    }
    np.reboot = {
      needed: reasons.length > 0,
      reasons: policy === "Never" ? ["reboot policy Never"] : reasons,
    };
    if (np.pending.length === 0 && !np.reboot.needed) {
      np.why = "up to date: no pending updates and no reboot needed; it will not be drained";
      continue;
    }
    const closed = np.gates.filter((g) => !g.passed);
    if (closed.length > 0) {
      np.action = "blocked";
      np.why = `gates closed: ${closed.map((g) => `${g.name} (${g.message})`).join("; ")}`;
      continue;
    }
    np.action = "patch";
    np.why = `${np.pending.length} package(s) to upgrade${np.reboot.needed ? `; reboot: ${np.reboot.reasons.join("; ")}` : "; no reboot needed"}`;
    // Job ids carry a hash of plan, node and cycle; the cycle is only known when run starts one.
    const id = (step: string): string => `hp-cyclehash-${step}`;
    if (np.pending.length > 0) {
      np.commands.push({
        on: host,
        command: jobLine(id("upgrade"), upgradeJobArgv(plan), parseDuration(plan.spec.upgrade.timeout)),
      });
    }
    if (np.reboot.needed && clusterObs.resources.ok) {
      const ev = plan.spec.evacuation;
      const guests = await guestsOn(access, via, clusterObs.resources.value, host);
      const maintenance = clusterObs.haManager.ok ? clusterObs.haManager.value.nodeStatus : {};
      const nodes: EvacNode[] = clusterObs.resources.value.nodes.map((n) => ({
        name: n.node,
        online: n.status === "online",
        maintenance: maintenance[n.node] === "maintenance",
        memTotalBytes: n.maxmem ?? 0,
        memUsedBytes: n.mem ?? 0,
        patched: patched.includes(n.node),
      }));
      const evac = planEvacuation(host, guests, nodes, {
        mode: ev.mode,
        headroomPercent: ev.memoryHeadroomPercent,
        withLocalDisks: ev.withLocalDisks,
        unmovable: ev.unmovable,
      });
      if (evac.blocked) {
        np.action = "blocked";
        np.why = evac.blocked.message;
        np.commands = [];
        continue;
      }
      np.migrations = evac.moves.map((m) => ({
        vmid: m.vmid,
        type: m.type,
        to: m.to,
        mode: m.mode,
        ...(m.name ? { name: m.name } : {}),
      }));
      np.stays = evac.stays.map((x) => ({ vmid: x.vmid, reason: x.reason }));
      const migrateArgv = (m: Move, from: string, to: string): string[] =>
        m.mode === "ha"
          ? haMigrateArgv(m.type, m.vmid, to)
          : m.type === "qemu"
            ? qmMigrateArgv(m.vmid, to, { online: true, withLocalDisks: m.withLocalDisks })
            : pctMigrateArgv(m.vmid, to, {
                restart: true,
                timeoutSec: Math.ceil(parseDuration(ev.containerShutdownTimeout) / 1000),
              });
      for (const m of evac.moves) {
        const argv = migrateArgv(m, host, m.to);
        np.commands.push({
          on: host,
          command:
            m.mode === "ha" ? quoteArgv(argv) : jobLine(id(`mig-${m.vmid}`), argv, parseDuration(ev.timeout)),
        });
      }
      np.commands.push({ on: host, command: quoteArgv(REBOOT_ARGV) });
      if (ev.migrateBack) {
        for (const m of evac.moves) {
          const argv = migrateArgv(m, m.to, host);
          np.commands.push({
            on: m.to,
            command:
              m.mode === "ha"
                ? quoteArgv(argv)
                : jobLine(id(`back-${m.vmid}`), argv, parseDuration(ev.timeout)),
          });
        }
      }
    }
    patched.push(host);
  }
  return preview;
}

/** The preview as text for a person. */
export function renderPreview(p: PlanPreview): string[] {
  const lines = [`HostPatchPlan/${p.plan} on ProxmoxCluster/${p.cluster} (profile ${p.profile})`];
  for (const n of p.nodes) {
    lines.push(`  ${n.node}: ${n.action.toUpperCase()} — ${n.why}`);
    for (const g of n.gates) lines.push(`    gate ${g.passed ? "ok  " : "FAIL"} ${g.name}: ${g.message}`);
    for (const pkg of n.pending) lines.push(`    package ${pkg.name} ${pkg.from ?? "(new)"} -> ${pkg.to}`);
    if (n.action === "patch")
      lines.push(`    reboot: ${n.reboot.needed ? `yes (${n.reboot.reasons.join("; ")})` : "no"}`);
    for (const m of n.migrations)
      lines.push(
        `    move ${m.type === "qemu" ? "VM" : "CT"} ${m.vmid}${m.name ? ` (${m.name})` : ""} -> ${m.to} [${m.mode}]`,
      );
    for (const s of n.stays) lines.push(`    stays ${s.vmid}: ${s.reason}`);
    n.commands.forEach((c, i) => lines.push(`    ${i + 1}. on ${c.on}: ${c.command}`));
  }
  for (const note of p.notes) lines.push(`  note: ${note}`);
  return lines;
}
