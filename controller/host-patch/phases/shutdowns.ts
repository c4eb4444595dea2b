/**
 * Guests shut down for the reboot (mode Shutdown, or unmovable with policy Shutdown): only those
 * that were running are recorded, each is shut down with `--forceStop 1` after the timeout, and
 * exactly those are started again after the return, whatever their `onboot`.
 */
import type { ClusterObservation } from "../../../src/pve/index.js";
import { shutdownCommand, shutdownJobId, startGuestCommand } from "../commands.js";
import type { Observation, PatchContext } from "../observation.js";
import { run, type Action, type HistoryNote, type Shutdown } from "../transition.js";
import { iso } from "./gating.js";
import { due, nextAttempt, retryDelayMs, retryMessage } from "../retry.js";

export interface ShutdownStep {
  list: Shutdown[];
  actions: Action[];
  notes: HistoryNote[];
  changed: boolean;
  outcome: "done" | "working" | { failed: string };
}

function guestStatus(cluster: ClusterObservation | undefined, vmid: number): string | undefined {
  if (!cluster?.resources.ok) return undefined;
  return cluster.resources.value.guests.find((g) => g.vmid === vmid)?.status;
}

export function shutdownJobs(ctx: PatchContext, list: readonly Shutdown[]): { on: string; id: string }[] {
  return list
    .filter((s) => s.state === "ShuttingDown")
    .map((s) => ({ on: ctx.host, id: shutdownJobId(ctx.hp, s.vmid, s.attempt) }));
}

function newStep(list: readonly Shutdown[]): ShutdownStep {
  return { list: [...list], actions: [], notes: [], changed: false, outcome: "working" };
}

/** Before the reboot: every recorded guest stopped. */
export function driveShutdowns(ctx: PatchContext, list: readonly Shutdown[], obs: Observation): ShutdownStep {
  const out = newStep(list);
  out.list = list.map((s) => {
    if (s.state === "Planned" && !ctx.halt && due(s.retryAt, ctx.now)) {
      out.changed = true;
      out.actions.push(run(shutdownCommand(ctx.hp, ctx.spec, s), `shutdown ${s.vmid}`));
      out.notes.push({
        step: "shutdown",
        outcome: "started",
        message: `${s.type} ${s.vmid}`,
        extra: { vmid: s.vmid },
      });
      return { ...s, state: "ShuttingDown", startedAt: iso(ctx.now) };
    }
    return s.state === "ShuttingDown" ? followShutdown(ctx, s, obs, out) : s;
  });
  const failed = out.list.find((s) => s.state === "Failed");
  if (failed)
    out.outcome = { failed: `shutdown of ${failed.type} ${failed.vmid} failed: ${failed.message ?? ""}` };
  else if (out.list.every((s) => s.state === "Stopped")) out.outcome = "done";
  return out;
}

/**
 * qemu-server logs "VM still running - terminating now with SIGTERM" when --forceStop acts; lxc-stop
 * kills a container at the timeout without a word, so a forced container stop cannot be told apart.
 */
function forcedStop(log: readonly string[]): boolean {
  return log.some((l) => /terminating now with SIG/.test(l));
}

function followShutdown(ctx: PatchContext, s: Shutdown, obs: Observation, out: ShutdownStep): Shutdown {
  const job = obs.jobs[shutdownJobId(ctx.hp, s.vmid, s.attempt)];
  const status = guestStatus(obs.cluster, s.vmid);
  if (status === "stopped" && job?.state !== "running") {
    const forced = forcedStop(job?.log ?? []);
    out.changed = true;
    out.notes.push({
      step: "shutdown",
      outcome: "done",
      message: `${s.type} ${s.vmid} stopped${forced ? " (forced after the timeout)" : ""}`,
      extra: { vmid: s.vmid },
    });
    return { ...s, state: "Stopped", stoppedAt: iso(ctx.now), ...(forced ? { forced } : {}) };
  }
  if (job?.state === "unknown" && !ctx.halt) {
    out.actions.push(run(shutdownCommand(ctx.hp, ctx.spec, s), `shutdown ${s.vmid}`));
  } else if (job && job.state !== "running" && job.state !== "unknown" && status === "running") {
    out.changed = true;
    const attempt = nextAttempt(job.log, s.attempt);
    if (attempt !== undefined) return shutdownLater(ctx, s, attempt, out);
    return { ...s, state: "Failed", message: job.log.slice(-3).join(" | ") || `job ${job.state}` };
  }
  return s;
}

/** The shutdown request was refused by a restarting cluster service: asked again, as a new job, later. */
function shutdownLater(ctx: PatchContext, s: Shutdown, attempt: number, out: ShutdownStep): Shutdown {
  const message = retryMessage(attempt);
  out.notes.push({
    step: "shutdown",
    outcome: "skipped",
    message: `${s.type} ${s.vmid} ${message}`,
    extra: { vmid: s.vmid, attempt },
  });
  const { startedAt: _s, ...rest } = s;
  return { ...rest, state: "Planned", attempt, retryAt: iso(ctx.now + retryDelayMs(attempt)), message };
}

/** After the return: start exactly the guests that were shut down, and prove each runs. */
export function driveStarts(ctx: PatchContext, list: readonly Shutdown[], obs: Observation): ShutdownStep {
  const out = newStep(list);
  out.list = list.map((s) => {
    const status = guestStatus(obs.cluster, s.vmid);
    // Running already (its onboot, or our start): proven either way.
    if ((s.state === "Starting" || s.state === "Stopped") && status === "running") {
      out.changed = true;
      out.notes.push({
        step: "start",
        outcome: "done",
        message: `${s.type} ${s.vmid} running`,
        extra: { vmid: s.vmid },
      });
      return { ...s, state: "Started", startedAgainAt: iso(ctx.now) };
    }
    const retry =
      s.state === "Starting" &&
      status === "stopped" &&
      ctx.now - Date.parse(s.startedAgainAt ?? "") >= ctx.timing.waitMs;
    if ((s.state === "Stopped" || retry) && !ctx.halt) {
      out.changed = true;
      // Its onboot may start it at the same moment; the next look proves it either way.
      out.actions.push(run(startGuestCommand(ctx.host, s), `start ${s.vmid}`, true));
      out.notes.push({
        step: "start",
        outcome: "started",
        message: `${s.type} ${s.vmid}`,
        extra: { vmid: s.vmid },
      });
      return { ...s, state: "Starting", startedAgainAt: iso(ctx.now) };
    }
    return s;
  });
  if (out.list.every((s) => s.state === "Started" || s.state === "Failed")) out.outcome = "done";
  return out;
}
