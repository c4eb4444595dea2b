import { resolve } from "node:path";
import type { Command } from "commander";
import { formatIssue, loadDesiredState } from "../../../src/api/loader/load.js";
import type { HostPatchPlan } from "../../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../../src/api/proxmox-cluster.js";
import { errorMessage } from "../../../src/errors.js";
import { ClusterAccess } from "../../fleet/cluster-access.js";
import { previewHostPatchPlan, renderPreview, type PlanPreview } from "../../host-patch/dry-run.js";
import { selectNodes } from "../../host-patch-plan/targets.js";
import type { GuestUpdatePlan } from "../../../src/api/guest-update-plan.js";
import type { GuestUpdatePolicy } from "../../../src/api/guest-update-policy.js";
import type { HostExec } from "../../../src/ssh/index.js";
import { dryRunContainer } from "../../guest-update-plan/dry-run.js";
import { listContainers } from "../../guest-update-plan/observe.js";
import { effectivePolicy } from "../../guest-update-plan/policy.js";
import {
  previewGuestPlan,
  renderGuestPreview,
  type GuestPlanPreview,
} from "../../guest-update-plan/preview.js";
import type { GuestView } from "../../guest-update-plan/select.js";
import { planSelection } from "../../guest-update-plan/selection.js";
import { EXIT } from "../exit-codes.js";
import { parseVmidList } from "./run.js";
import type { Io } from "../io.js";

export interface PlanOptions {
  desired: string;
  json: boolean;
  selfNode?: string;
  /** Only this plan (a GuestUpdatePlan or HostPatchPlan name). */
  plan?: string;
  /** With --plan: only these containers. */
  vmid?: string;
  /** Test seam: how a guest plan's cluster is reached (default over SSH). */
  access?: (cluster: ProxmoxCluster) => GuestAccess;
}

/** The dry run: observes with read-only commands and prints what `run` would do. */
export async function planCommand(opts: PlanOptions, io: Io): Promise<number> {
  const loaded = await loadDesiredState(opts.desired);
  if (loaded.issues.length > 0) {
    for (const i of loaded.issues) io.err(formatIssue(i));
    io.err(`refit plan: the desired state in ${opts.desired} is invalid`);
    return EXIT.invalid;
  }
  const clusters = new Map(
    loaded.objects
      .filter((o) => o.kind === "ProxmoxCluster")
      .map((o) => [o.name, o.object as ProxmoxCluster]),
  );
  const vmids = opts.vmid !== undefined ? parseVmidList(opts.vmid) : undefined;
  if (opts.vmid !== undefined && (!vmids || opts.plan === undefined)) {
    io.err(`refit plan: --vmid needs --plan NAME and a list like 110,111 or 200-205 (got ${opts.vmid})`);
    return EXIT.invalid;
  }
  if (
    opts.plan !== undefined &&
    !loaded.objects.some((o) => o.kind.endsWith("Plan") && o.name === opts.plan)
  ) {
    io.err(`refit plan: --plan ${opts.plan}: no plan of that name in ${opts.desired}`);
    return EXIT.invalid;
  }
  const previews: PlanPreview[] = [];
  const guestPreviews: GuestPlanPreview[] = [];
  const skipped: string[] = [];
  let failed = false;
  const wanted = loaded.objects.filter((o) => opts.plan === undefined || o.name === opts.plan);
  const guests = await previewGuests(loaded.objects, wanted, clusters, opts, vmids, io);
  failed ||= guests.failed;
  guestPreviews.push(...guests.previews);
  for (const o of wanted) {
    if (o.kind !== "HostPatchPlan") continue;
    const plan = o.object as HostPatchPlan;
    if (plan.spec.profile !== "pve") {
      skipped.push(`HostPatchPlan/${o.name}: profile ${plan.spec.profile} is not handled by this version`);
      continue;
    }
    const cluster = clusters.get(plan.spec.clusterRef?.name ?? "");
    if (!cluster) continue;
    const access = new ClusterAccess(cluster, { baseDir: resolve(opts.desired) });
    try {
      previews.push(
        await previewHostPatchPlan(
          plan,
          cluster,
          access,
          selectNodes(plan, cluster),
          opts.selfNode ?? cluster.spec.controllerNode,
        ),
      );
    } catch (err) {
      failed = true;
      io.err(`HostPatchPlan/${o.name}: cannot be previewed: ${errorMessage(err)}`);
    } finally {
      access.close();
    }
  }
  if (opts.json) io.out(JSON.stringify({ plans: previews, guestPlans: guestPreviews, skipped }, null, 2));
  else {
    for (const p of previews) for (const line of renderPreview(p)) io.out(line);
    for (const p of guestPreviews) for (const line of renderGuestPreview(p)) io.out(line);
    for (const s of skipped) io.out(s);
  }
  return failed ? EXIT.failed : EXIT.ok;
}

/** The cluster as `refit plan` reaches it: its containers, and a node to run read-only steps on. */
export interface GuestAccess {
  list(): Promise<GuestView[]>;
  node(name: string): HostExec;
  close(): void;
}

function sshAccess(cluster: ProxmoxCluster, desired: string): GuestAccess {
  const access = new ClusterAccess(cluster, { baseDir: resolve(desired) });
  return { list: () => listContainers(access), node: (n) => access.node(n), close: () => access.close() };
}

/**
 * Each wanted GuestUpdatePlan's containers, from one `/cluster/resources` read per cluster, each
 * with what its runners find inside it (read-only steps through pct exec).
 */
async function previewGuests(
  all: readonly { kind: string; name: string; object: unknown }[],
  wanted: readonly { kind: string; name: string; object: unknown }[],
  clusters: ReadonlyMap<string, ProxmoxCluster>,
  opts: PlanOptions,
  vmids: number[] | undefined,
  io: Io,
): Promise<{ previews: GuestPlanPreview[]; failed: boolean }> {
  const plans = all.filter((o) => o.kind === "GuestUpdatePlan").map((o) => o.object as GuestUpdatePlan);
  const policies = all
    .filter((o) => o.kind === "GuestUpdatePolicy")
    .map((o) => o.object as GuestUpdatePolicy);
  const reached = new Map<string, { access: GuestAccess; guests: Promise<GuestView[]> }>();
  const previews: GuestPlanPreview[] = [];
  let failed = false;
  try {
    for (const o of wanted.filter((x) => x.kind === "GuestUpdatePlan")) {
      const plan = o.object as GuestUpdatePlan;
      const cluster = clusters.get(plan.spec.clusterRef.name);
      if (!cluster) continue;
      let r = reached.get(cluster.metadata.name);
      if (!r) {
        const access = opts.access ? opts.access(cluster) : sshAccess(cluster, opts.desired);
        r = { access, guests: access.list() };
        reached.set(cluster.metadata.name, r);
      }
      try {
        const preview = previewGuestPlan(
          plan,
          policies,
          planSelection(plan, plans, policies, await r.guests),
          vmids,
        );
        for (const c of preview.containers) {
          const policy = effectivePolicy(
            plan,
            policies.find((p) => p.metadata.name === c.policy),
          );
          c.inside = await dryRunContainer(r.access.node(c.node), c.vmid, policy);
        }
        previews.push(preview);
      } catch (err) {
        failed = true;
        io.err(`GuestUpdatePlan/${o.name}: cannot be previewed: ${errorMessage(err)}`);
      }
    }
  } finally {
    for (const r of reached.values()) r.access.close();
  }
  return { previews, failed };
}

export function registerPlan(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("plan")
    .description(
      "Dry run: observe with read-only commands and print what `refit run` would do, and the exact commands",
    )
    .option("-d, --desired <dir>", "desired-state directory", "desired-state")
    .option("--json", "machine-readable output", false)
    .option("--self-node <name>", "the cluster node the controller runs on (patched last)")
    .option("--plan <name>", "only this plan")
    .option("--vmid <list>", "with --plan: only these containers of a GuestUpdatePlan, e.g. 110,111")
    .action(async (opts: PlanOptions) => {
      setExit(await planCommand(opts, io));
    });
}
