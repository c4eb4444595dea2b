/**
 * Drives a list of migrations (off the node, or back): at most `maxParallelMigrations` running,
 * each recorded Running before it is started, each proven Done by its task and the guest: the
 * qmigrate/vzmigrate task on the source (found by vmid and start time, then by its UPID, recorded
 * as `taskId`) ended `OK`, and the guest is on its target, running (unless offline), unlocked.
 * Proxmox resumes a VM on the target before its task ends and holds `lock: migrate` until the end
 * (src/pve/REFERENCE-migration.md), so the arrival alone proves nothing.
 */
import { lanesFor } from "../in-flight.js";
import { findMigrationTask, type ClusterObservation, type PveTask } from "../../../src/pve/index.js";
import { cdromCommand, migrationCommand, migrationJobId } from "../commands.js";
import { taskKey, type Needs, type Observation, type PatchContext } from "../observation.js";
import { run, type Action, type HistoryNote, type Migration } from "../transition.js";
import { due, nextAttempt, retryDelayMs, retryMessage } from "../retry.js";
import { iso, resendDue } from "./gating.js";
import { haRelocateOverdue } from "../ha-relocate.js";

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
    .map((m) => ({ on: m.from, id: migrationJobId(ctx.hp, m.vmid, back, m.attempt) }));
}

/** The task lists to read for the migrations in flight: each guest's tasks on its source. */
export function migrationTaskNeeds(list: readonly Migration[]): NonNullable<Needs["tasks"]> {
  return list.filter((m) => m.state === "Running").map((m) => ({ on: m.from, vmid: m.vmid }));
}

/**
 * An HA relocation off a node to be rebooted: once its task ended OK and the container is on its
 * target, unlocked, the node is free of it; HA's start of it there (a CRM and an LRM round later)
 * does not hold the reboot and is proven in Verifying (startsPending).
 */
function startLater(m: Migration, back: boolean): boolean {
  return !back && m.mode === "ha" && m.type === "lxc" && m.restart === true;
}

/** On its target, running (unless moved offline, or started later) and no longer locked. */
function arrived(m: Migration, cluster: ClusterObservation, back: boolean): { ok: boolean; lock?: string } {
  if (!cluster.resources.ok) return { ok: false };
  const g = cluster.resources.value.guests.find((x) => x.vmid === m.vmid);
  const running = g?.status === "running" || m.mode === "offline" || startLater(m, back);
  const there = g !== undefined && g.node === m.to && running;
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

function guestRunningOn(m: Migration, cluster: ClusterObservation): boolean {
  if (!cluster.resources.ok) return false;
  const g = cluster.resources.value.guests.find((x) => x.vmid === m.vmid);
  return g?.node === m.to && g.status === "running";
}

/**
 * Verifying: the containers HA relocated off this node run on their targets. Done when none is
 * left; a start not seen within HA_RELOCATE_START_AGAIN_BOUND_MS of the move fails, as it would have
 * during the evacuation.
 */
export function startsPending(
  ctx: PatchContext,
  cluster: ClusterObservation,
): { list: Migration[]; notes: HistoryNote[]; waiting: Migration[]; overdue?: string } {
  const notes: HistoryNote[] = [];
  const waiting: Migration[] = [];
  let overdue: string | undefined;
  const list = (ctx.status.migrations ?? []).map((m) => {
    if (!m.awaitingStart) return m;
    if (guestRunningOn(m, cluster)) {
      notes.push({
        step: "migrate",
        outcome: "done",
        message: `${m.type} ${m.vmid} runs on ${m.to} (HA started it)`,
      });
      const { awaitingStart: _a, ...rest } = m;
      return rest;
    }
    const why = haRelocateOverdue(
      ctx.now,
      m.startedAt,
      { running: false, endTime: Date.parse(m.finishedAt ?? "") / 1000 },
      false,
    );
    if (why !== undefined) overdue ??= `${m.type} ${m.vmid} on ${m.to}: ${why}`;
    waiting.push(m);
    return m;
  });
  return { list, notes, waiting, ...(overdue ? { overdue } : {}) };
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
  // HA relocates a container (stop, move, start): bounded by HA's own shutdown timeout and rounds.
  const relocating =
    m.mode === "ha" &&
    m.type === "lxc" &&
    (task === undefined || task.status === undefined || task.status === "OK");
  const overdue = relocating
    ? haRelocateOverdue(ctx.now, m.startedAt, task, arrived(m, cluster, back).ok)
    : undefined;
  if (overdue !== undefined) {
    out.changed = true;
    return { ...m, ...(task ? { taskId: task.upid } : {}), state: "Failed", message: overdue };
  }
  if (task) {
    const seen: Migration = m.taskId === task.upid ? m : { ...m, taskId: task.upid };
    if (seen !== m) out.changed = true;
    if (task.running) return seen;
    if (task.status !== "OK") {
      out.changed = true;
      return { ...seen, state: "Failed", message: `task ${task.upid} ended: ${task.status ?? "unknown"}` };
    }
    const there = arrived(m, cluster, back);
    if (!there.ok) {
      // The task ended OK; the cluster view may lag a little behind it (or the lock was left).
      if (there.lock !== undefined && seen.message !== `locked (${there.lock}) after its task ended OK`) {
        out.changed = true;
        return { ...seen, message: `locked (${there.lock}) after its task ended OK` };
      }
      return seen;
    }
    out.changed = true;
    const later = startLater(m, back) && !guestRunningOn(m, cluster);
    out.notes.push({
      step: step(back),
      outcome: "done",
      message: `${m.type} ${m.vmid} ${m.from} -> ${m.to} (task ${task.upid} OK${later ? "; HA starts it there" : ""})`,
      extra: { vmid: m.vmid, mode: m.mode, taskId: task.upid },
    });
    return { ...seen, state: "Done", finishedAt: iso(ctx.now), ...(later ? { awaitingStart: true } : {}) };
  }
  // No task yet: the command may not have run (a crash between intent and command), HA may not
  // have started it, or it was refused before a task began (the job says so).
  if (m.mode === "ha") {
    // HA takes a request at its next round: asked again only when it has not after waitMs.
    const again = m.retryAt ? due(m.retryAt, ctx.now) : resendDue(ctx, m.startedAt);
    if (!ctx.halt && !arrived(m, cluster, back).ok && haRequestLost(m, cluster) && again) {
      out.actions.push(...ejects(m, back));
      out.actions.push(run(migrationCommand(ctx.hp, ctx.spec, m, back), `${step(back)} ${m.vmid}`, true));
      out.changed = true;
      return { ...m, retryAt: iso(ctx.now + ctx.timing.waitMs) };
    }
    return m;
  }
  const job = obs.jobs[migrationJobId(ctx.hp, m.vmid, back, m.attempt)];
  if (job?.state === "unknown" && !ctx.halt) {
    // The eject too: a crash may have come between recording the move and sending it (ejecting
    // an empty drive again is harmless).
    out.actions.push(...ejects(m, back));
    out.actions.push(run(migrationCommand(ctx.hp, ctx.spec, m, back), `${step(back)} ${m.vmid}`));
  } else if (
    job &&
    (job.state === "failed" || job.state === "timed-out" || (job.state === "exited" && job.exitCode !== 0))
  ) {
    out.changed = true;
    const attempt = nextAttempt(job.log, m.attempt);
    if (attempt !== undefined) return retryLater(ctx, m, back, attempt, out);
    return { ...m, state: "Failed", message: job.log.slice(-3).join(" | ") };
  }
  return m;
}

/**
 * The migration was refused before any task started, because a cluster service was restarting (the
 * upgrade of pve-cluster or corosync restarts them): planned again, as a new job, after a pause.
 */
function retryLater(
  ctx: PatchContext,
  m: Migration,
  back: boolean,
  attempt: number,
  out: MigrationStep,
): Migration {
  const message = retryMessage(attempt);
  out.notes.push({
    step: step(back),
    outcome: "skipped",
    message: `${m.type} ${m.vmid} ${m.from} -> ${m.to} ${message}`,
    extra: { vmid: m.vmid, attempt },
  });
  const { startedAt: _s, taskId: _t, ...rest } = m;
  return {
    ...rest,
    state: "Planned",
    attempt,
    retryAt: iso(ctx.now + retryDelayMs(attempt)),
    message,
  };
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
  const options = obs.cluster?.options;
  startNext(ctx, out, back, options?.ok ? options.value.haMaxWorkers : undefined);
  const mediaBack = back ? restoreMedia(ctx, out, obs) : true;
  if (out.list.every((m) => m.state === "Done") && mediaBack) out.outcome = "done";
  return out;
}

/** How long after the migrate-back a CD image may take to be seen back in its drive. */
export const MEDIA_RESTORE_BOUND_MS = 5 * 60_000;

/** Migrations back whose ejected CD images are not yet proven back in their drives. */
export function mediaToRestore(list: readonly Migration[]): boolean {
  return list.some((m) => (m.ejectedMedia?.length ?? 0) > 0 && m.mediaRestored === undefined);
}

/**
 * Once a VM is home, its ejected CD images go back in: `qm set` (harmless to repeat) until its config
 * shows each image in its drive (proven from the world, so a crash in between changes nothing), then
 * `mediaRestored: true`; not seen within MEDIA_RESTORE_BOUND_MS: `mediaRestored: false`, said in the
 * history, and the patch goes on (a person re-inserts it). True when nothing is left to do.
 */
function restoreMedia(ctx: PatchContext, out: MigrationStep, obs: Observation): boolean {
  let left = false;
  out.list = out.list.map((m) => {
    const media = m.ejectedMedia ?? [];
    if (m.state !== "Done" || media.length === 0 || m.mediaRestored !== undefined) return m;
    const g = obs.guests?.find((x) => x.vmid === m.vmid);
    const back = media.every((x) => g?.localMedia?.some((y) => y.drive === x.drive && y.volume === x.volume));
    const list = media.map((x) => `${x.drive}: ${x.volume}`).join(", ");
    if (g && back) {
      out.changed = true;
      out.notes.push({ step: "migrate-back", outcome: "done", message: `${m.vmid}: put back ${list}` });
      return { ...m, mediaRestored: true };
    }
    if (ctx.now - Date.parse(m.finishedAt ?? "") > MEDIA_RESTORE_BOUND_MS) {
      out.changed = true;
      const message = `${m.vmid}: could not put back ${list}; re-insert it with qm set ${m.vmid} --<drive> <image>,media=cdrom`;
      out.notes.push({ step: "migrate-back", outcome: "failed", message });
      return { ...m, mediaRestored: false, message };
    }
    left = true;
    if (!ctx.halt && g)
      for (const x of media)
        out.actions.push(
          run(cdromCommand(m.to, m.vmid, x.drive, x.volume), `re-insert ${x.volume} into ${m.vmid}`, true),
        );
    return m;
  });
  return !left;
}

/** evacuation.ejectLocalMedia: Proxmox refuses to move a local CD image, so it is ejected first. */
function ejects(m: Migration, back: boolean): Action[] {
  if (back) return [];
  return (m.ejectedMedia ?? []).map((x) =>
    run(cdromCommand(m.from, m.vmid, x.drive), `eject ${x.volume} from ${m.vmid}`),
  );
}

/** Intent first: a crash after the write finds Running and checks the world before starting again. */
function startNext(
  ctx: PatchContext,
  out: MigrationStep,
  back: boolean,
  haMaxWorkers: number | undefined,
): void {
  if (ctx.halt) return;
  const lane = (m: Migration) => ({ from: m.from, ha: m.mode === "ha" });
  // The lanes are the cluster's: other nodes' moves take theirs; returns yield to an evacuation;
  // HA bounds its own moves per source (in-flight.ts).
  const lanes = lanesFor(ctx, out.list.filter((m) => m.state === "Running").map(lane), back, haMaxWorkers);
  out.list = out.list.map((m) => {
    if (m.state !== "Planned" || !due(m.retryAt, ctx.now)) return m;
    if (!lanes.take(lane(m))) return m;
    out.changed = true;
    out.actions.push(...ejects(m, back));
    out.actions.push(run(migrationCommand(ctx.hp, ctx.spec, m, back), `${step(back)} ${m.vmid}`));
    out.notes.push({
      step: step(back),
      outcome: "started",
      message: `${m.type} ${m.vmid} ${m.from} -> ${m.to} (${m.mode}${m.restart ? "; a restart: stopped, moved, started" : ""})`,
      extra: { vmid: m.vmid, mode: m.mode, ...(m.restart ? { restart: true } : {}) },
    });
    return { ...m, state: "Running", startedAt: iso(ctx.now) };
  });
}
