import { resolve } from "node:path";
import type { Command } from "commander";
import { formatIssue, loadDesiredState } from "../../../src/api/loader/load.js";
import type { HostPatchPlan } from "../../../src/api/host-patch-plan.js";
import type { ProxmoxCluster } from "../../../src/api/proxmox-cluster.js";
import { errorMessage } from "../../../src/errors.js";
import { ClusterAccess } from "../../fleet/cluster-access.js";
import { previewHostPatchPlan, renderPreview, type PlanPreview } from "../../host-patch/dry-run.js";
import { selectNodes } from "../../host-patch-plan/targets.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

export interface PlanOptions {
  desired: string;
  json: boolean;
  selfNode?: string;
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
  const previews: PlanPreview[] = [];
  const skipped: string[] = [];
  let failed = false;
  for (const o of loaded.objects) {
    if (o.kind === "GuestUpdatePlan") {
      skipped.push(`GuestUpdatePlan/${o.name}: guest updates are not previewed by this version`);
      continue;
    }
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
  if (opts.json) io.out(JSON.stringify({ plans: previews, skipped }, null, 2));
  else {
    for (const p of previews) for (const line of renderPreview(p)) io.out(line);
    for (const s of skipped) io.out(s);
  }
  return failed ? EXIT.failed : EXIT.ok;
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
    .action(async (opts: PlanOptions) => {
      setExit(await planCommand(opts, io));
    });
}
