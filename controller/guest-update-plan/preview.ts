/**
 * What `refit plan` shows for a GuestUpdatePlan: per container the effective policy it would run
 * under (runners, backup, checks, restart, rollback), and which containers are left alone (excluded,
 * in conflict). Pure over a selection; changes nothing.
 */
import type { GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import type { GuestUpdatePolicy } from "../../src/api/guest-update-policy.js";
import { effectivePolicy } from "./policy.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import type { ContainerDryRun } from "./dry-run.js";
import type { Selection } from "./selection.js";

export interface ContainerPreview {
  vmid: number;
  name?: string;
  node: string;
  policy?: string;
  runners: { name: string; type: string; timeout: string }[];
  backup: { mode: string; name: string; storage?: string; keepLast: number; maxAge?: string };
  healthChecks: { name: string; type: string }[];
  restart: string;
  rollback: string;
  /** What the runners found inside the container (absent when not looked at). */
  inside?: ContainerDryRun;
}

export interface GuestPlanPreview {
  kind: "GuestUpdatePlan";
  plan: string;
  cluster: string;
  containers: ContainerPreview[];
  excluded: { vmid: number; policy: string }[];
  conflicts: { vmid: number; with: string[] }[];
  /** Asked for with --vmid but not a target of the plan. */
  notTargets: number[];
}

export function previewGuestPlan(
  plan: GuestUpdatePlan,
  policies: readonly GuestUpdatePolicy[],
  selection: Selection,
  vmids?: readonly number[],
): GuestPlanPreview {
  const only = vmids ? new Set(vmids) : undefined;
  const keep = (v: number): boolean => !only || only.has(v);
  const containers = selection.targets
    .filter((x) => keep(x.vmid))
    .map((x) => {
      const p = effectivePolicy(
        plan,
        policies.find((y) => y.metadata.name === x.policy),
      );
      return {
        vmid: x.vmid,
        ...(x.name !== undefined ? { name: x.name } : {}),
        node: x.node,
        ...(x.policy !== undefined ? { policy: x.policy } : {}),
        runners: p.runners.map((r) => ({ name: r.name ?? r.type, type: r.type, timeout: r.timeout })),
        backup: {
          mode: p.backup.mode,
          name: p.backup.mode === "none" ? "-" : `refit-${plan.metadata.name}-<yyyyMMddHHmmss>`,
          ...(p.backup.storage ? { storage: p.backup.storage } : {}),
          keepLast: p.backup.retention.keepLast,
          ...(p.backup.retention.maxAge ? { maxAge: p.backup.retention.maxAge } : {}),
        },
        healthChecks: p.healthChecks.map((h) => ({ name: h.name, type: h.type })),
        restart:
          p.restart.services.length > 0
            ? `${p.restart.policy} (${p.restart.services.join(", ")})`
            : p.restart.policy,
        rollback: p.rollback.policy,
      };
    });
  const known = new Set([
    ...selection.targets.map((x) => x.vmid),
    ...selection.excluded.map((x) => x.vmid),
    ...selection.conflicts.map((x) => x.vmid),
  ]);
  return {
    kind: "GuestUpdatePlan",
    plan: plan.metadata.name,
    cluster: plan.spec.clusterRef.name,
    containers,
    excluded: selection.excluded.filter((x) => keep(x.vmid)),
    conflicts: selection.conflicts.filter((x) => keep(x.vmid)),
    notTargets: (vmids ?? []).filter((v) => !known.has(v)),
  };
}

export function renderGuestPreview(p: GuestPlanPreview): string[] {
  const out = [
    `GuestUpdatePlan/${p.plan} on ProxmoxCluster/${p.cluster}: ${p.containers.length} container(s)`,
  ];
  for (const c of p.containers) {
    out.push(`  ${c.vmid} ${c.name ?? ""} on ${c.node}${c.policy ? ` (GuestUpdatePolicy/${c.policy})` : ""}`);
    out.push(`    runners: ${c.runners.map((r) => `${r.name} [${r.type}, ${r.timeout}]`).join(", ")}`);
    const b = c.backup;
    out.push(
      `    backup: ${b.mode}${b.mode === "none" ? "" : ` ${b.name}${b.storage ? ` to ${b.storage}` : ""}, keep ${b.keepLast}${b.maxAge ? ` for ${b.maxAge}` : ""}`}`,
    );
    out.push(`    checks: ${c.healthChecks.map((h) => `${h.name} [${h.type}]`).join(", ") || "none"}`);
    out.push(`    restart: ${c.restart}; rollback: ${c.rollback}`);
    out.push(...insideLines(c.inside));
  }
  for (const x of p.excluded) out.push(`  ${x.vmid}: left alone (GuestUpdatePolicy/${x.policy} excludes it)`);
  for (const x of p.conflicts)
    out.push(`  ${x.vmid}: left alone, Conflict: also selected by ${x.with.join(" and ")}`);
  for (const v of p.notTargets) out.push(`  ${v}: not a container of this plan`);
  return out;
}

function insideLines(d: ContainerDryRun | undefined): string[] {
  if (!d) return [];
  if (d.error) return [`    cannot look inside: ${d.error}`];
  const out: string[] = [];
  for (const r of d.runners) {
    if (r.error) out.push(`    ${r.name}: cannot be previewed: ${r.error}`);
    else if (!r.applies) out.push(`    ${r.name}: does not apply to this container`);
    else if (r.pending.length === 0) out.push(`    ${r.name}: nothing to update`);
    else {
      out.push(`    ${r.name}: ${r.pending.length} update(s)`);
      for (const x of r.pending) out.push(`      ${x.package} ${x.from ?? "(new)"} -> ${x.to ?? "?"}`);
      for (const c of r.commands) out.push(`      $ ${quoteArgv(c)}`);
    }
  }
  const nothing = d.runners.every((r) => !r.error && r.pending.length === 0);
  if (nothing) out.push("    nothing to update: Skipped, no backup taken");
  return out;
}
