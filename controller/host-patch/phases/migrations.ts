/**
 * Drives a list of migrations (off the node, or back): at most `maxParallelMigrations` running,
 * each recorded Running before it is started, each proven Done by the guest running on its target.
 */
import type { ClusterObservation } from "../../../src/pve/index.js";
import { migrationCommand, migrationJobId } from "../commands.js";
import type { Observation, PatchContext } from "../observation.js";
import { run, type Action, type HistoryNote, type Migration } from "../transition.js";
import { iso } from "./gating.js";

export interface MigrationStep {
  list: Migration[];
  actions: Action[];
  notes: HistoryNote[];
  changed: boolean;
  outcome: "done" | "working" | { failed: string };
}

function step(back: boolean): string {
  return back ? "migrate-back" : "migrate";
}

/** Job ids to observe for the migrations in flight (HA moves have none: HA runs them). */
export function migrationJobs(
  ctx: PatchContext,
  list: readonly Migration[],
  back: boolean,
): { on: string; id: string }[] {
  return list
    .filter((m) => m.state === "Running" && m.mode !== "ha")
    .map((m) => ({ on: m.from, id: migrationJobId(ctx.hp, m.vmid, back) }));
}

function arrived(m: Migration, cluster: ClusterObservation): boolean {
  if (!cluster.resources.ok) return false;
  const g = cluster.resources.value.guests.find((x) => x.vmid === m.vmid);
  return g !== undefined && g.node === m.to && (g.status === "running" || m.mode === "offline");
}

/** HA is not moving it and it is not there: the request was lost (e.g. a crash between intent and command). */
function haRequestLost(m: Migration, cluster: ClusterObservation): boolean {
  const sid = `${m.type === "qemu" ? "vm" : "ct"}:${m.vmid}`;
  const service = cluster.haManager.ok ? cluster.haManager.value.services[sid] : undefined;
  return service?.state !== "migrate" && service?.state !== "relocate";
}

function follow(
  ctx: PatchContext,
  m: Migration,
  obs: Observation,
  back: boolean,
  out: MigrationStep,
): Migration {
  const cluster = obs.cluster!;
  if (arrived(m, cluster)) {
    out.changed = true;
    out.notes.push({
      step: step(back),
      outcome: "done",
      message: `${m.type} ${m.vmid} ${m.from} -> ${m.to}`,
      extra: { vmid: m.vmid, mode: m.mode },
    });
    return { ...m, state: "Done", finishedAt: iso(ctx.now) };
  }
  if (m.mode === "ha") {
    if (!ctx.halt && haRequestLost(m, cluster))
      out.actions.push(run(migrationCommand(ctx.hp, ctx.spec, m, back), `${step(back)} ${m.vmid}`, true));
    return m;
  }
  const job = obs.jobs[migrationJobId(ctx.hp, m.vmid, back)];
  if (job?.state === "unknown" && !ctx.halt)
    out.actions.push(run(migrationCommand(ctx.hp, ctx.spec, m, back), `${step(back)} ${m.vmid}`));
  else if (
    job &&
    (job.state === "failed" || job.state === "timed-out" || (job.state === "exited" && job.exitCode !== 0))
  ) {
    out.changed = true;
    return { ...m, state: "Failed", message: job.log.slice(-3).join(" | ") };
  }
  return m;
}

export function driveMigrations(
  ctx: PatchContext,
  list: readonly Migration[],
  obs: Observation,
  back: boolean,
): MigrationStep {
  const out: MigrationStep = { list: [], actions: [], notes: [], changed: false, outcome: "working" };
  out.list = list.map((m) => (m.state === "Running" ? follow(ctx, m, obs, back, out) : m));
  const failed = out.list.find((m) => m.state === "Failed");
  if (failed) {
    out.outcome = {
      failed: `migration of ${failed.type} ${failed.vmid} to ${failed.to} failed: ${failed.message ?? ""}`,
    };
    return out;
  }
  startNext(ctx, out, back);
  if (out.list.every((m) => m.state === "Done")) out.outcome = "done";
  return out;
}

/** Intent first: a crash after the write finds Running and checks the world before starting again. */
function startNext(ctx: PatchContext, out: MigrationStep, back: boolean): void {
  if (ctx.halt) return;
  const running = out.list.filter((m) => m.state === "Running").length;
  let free = Math.max(0, ctx.spec.evacuation.maxParallelMigrations - running);
  out.list = out.list.map((m) => {
    if (m.state !== "Planned" || free === 0) return m;
    free -= 1;
    out.changed = true;
    out.actions.push(run(migrationCommand(ctx.hp, ctx.spec, m, back), `${step(back)} ${m.vmid}`));
    out.notes.push({
      step: step(back),
      outcome: "started",
      message: `${m.type} ${m.vmid} ${m.from} -> ${m.to} (${m.mode})`,
      extra: { vmid: m.vmid, mode: m.mode },
    });
    return { ...m, state: "Running", startedAt: iso(ctx.now) };
  });
}
