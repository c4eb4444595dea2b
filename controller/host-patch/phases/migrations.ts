/**
 * Drives a list of migrations (off the node, or back): at most `maxParallelMigrations` running,
 * each recorded Running before it is started, each proven Done by its task and the guest: the
 * qmigrate/vzmigrate task on the source (found by vmid and start time, then by its UPID, recorded
 * as `taskId`) ended `OK`, and the guest is on its target, running (unless offline), unlocked.
 * Proxmox resumes a VM on the target before its task ends and holds `lock: migrate` until the end
 * (src/pve/REFERENCE-migration.md), so the arrival alone proves nothing.
 */
import { lanesTaken } from "../in-flight.js";
import { findMigrationTask, type ClusterObservation, type PveTask } from "../../../src/pve/index.js";
import { migrationCommand, migrationJobId } from "../commands.js";
import { taskKey, type Needs, type Observation, type PatchContext } from "../observation.js";
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

/** The task lists to read for the migrations in flight: each guest's tasks on its source. */
export function migrationTaskNeeds(list: readonly Migration[]): NonNullable<Needs["tasks"]> {
  return list.filter((m) => m.state === "Running").map((m) => ({ on: m.from, vmid: m.vmid }));
}

/** On its target, running (unless moved offline) and no longer locked. */
function arrived(m: Migration, cluster: ClusterObservation): { ok: boolean; lock?: string } {
  if (!cluster.resources.ok) return { ok: false };
  const g = cluster.resources.value.guests.find((x) => x.vmid === m.vmid);
  const there = g !== undefined && g.node === m.to && (g.status === "running" || m.mode === "offline");
  if (!there) return { ok: false };
  return g.lock === undefined ? { ok: true } : { ok: false, lock: g.lock };
}

function migrationTask(m: Migration, obs: Observation): PveTask | undefined {
  const read = obs.tasks?.[taskKey(m.from, m.vmid)];
  if (!read?.ok) return undefined;
  const sinceSec = Math.floor(Date.parse(m.startedAt ?? "") / 1000);
  return findMigrationTask(read.value, {
    type: m.type,
    vmid: m.vmid,
    sinceSec: Number.isFinite(sinceSec) ? sinceSec : 0,
    ...(m.taskId !== undefined ? { upid: m.taskId } : {}),
  });
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
  const task = migrationTask(m, obs);
  if (task) {
    const seen: Migration = m.taskId === task.upid ? m : { ...m, taskId: task.upid };
    if (seen !== m) out.changed = true;
    if (task.running) return seen;
    if (task.status !== "OK") {
      out.changed = true;
      return { ...seen, state: "Failed", message: `task ${task.upid} ended: ${task.status ?? "unknown"}` };
    }
    const there = arrived(m, cluster);
    if (!there.ok) {
      // The task ended OK; the cluster view may lag a little behind it (or the lock was left).
      if (there.lock !== undefined && seen.message !== `locked (${there.lock}) after its task ended OK`) {
        out.changed = true;
        return { ...seen, message: `locked (${there.lock}) after its task ended OK` };
      }
      return seen;
    }
    out.changed = true;
    out.notes.push({
      step: step(back),
      outcome: "done",
      message: `${m.type} ${m.vmid} ${m.from} -> ${m.to} (task ${task.upid} OK)`,
      extra: { vmid: m.vmid, mode: m.mode, taskId: task.upid },
    });
    return { ...seen, state: "Done", finishedAt: iso(ctx.now) };
  }
  // No task yet: the command may not have run (a crash between intent and command), HA may not
  // have started it, or it was refused before a task began (the job says so).
  if (m.mode === "ha") {
    if (!ctx.halt && !arrived(m, cluster).ok && haRequestLost(m, cluster))
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
  // The lanes are the cluster's: other nodes' moves take theirs; returns yield to an evacuation (in-flight.ts).
  let free = Math.max(0, ctx.spec.evacuation.maxParallelMigrations - running - lanesTaken(ctx, back));
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
