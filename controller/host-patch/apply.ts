/**
 * The one applier of the host patch flow: it carries out a decision. It merges the decision's patch
 * (the intent) into status, sets the phase and derives the conditions, writes status once, appends
 * the history lines, and only then performs the actions, so a crash after the write resumes from
 * the recorded intent and proves from the world whether the action happened.
 */
import type { HostPatch, HostPatchPhase } from "../../src/api/host-patch.js";
import { errorMessage, RetryableError } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { startJob } from "../../src/ssh/index.js";
import type { Deps, Notifier, Timing } from "../context.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { applyConditions } from "../runtime/conditions.js";
import { beforeRemoteAction } from "../runtime/crash-points.js";
import { commandLine, type RemoteCommand } from "./commands.js";
import { phaseConditions } from "./conditions.js";
import type { Action, HistoryNote, Requeue, Status, StatusPatch, Transition } from "./transition.js";

export interface ApplyTarget {
  hp: HostPatch;
  planName: string;
  namespace: string;
  clusterName: string;
  access: ClusterAccess;
  log: Logger;
  deps: Pick<Deps, "store" | "clock" | "history" | "notifier" | "timing">;
  /** Aborted when the controller stops: no new action starts; the recorded intent waits for the next run. */
  signal?: AbortSignal;
}

function merge(status: Status, patch: StatusPatch | undefined): void {
  for (const [k, v] of Object.entries(patch ?? {})) {
    const key = k as keyof Status;
    if (v === undefined) delete status[key];
    else (status as Record<string, unknown>)[key] = v;
  }
}

function nextPhase(t: Exclude<Transition, { kind: "idle" }>, current: HostPatchPhase): HostPatchPhase {
  if (t.kind === "goto") return t.phase;
  if (t.kind === "fail") return "Failed";
  if (t.kind === "act") return t.phase ?? current;
  return current;
}

/** The status after `t`: pure, so a test (and the dry run) can see what would be written. */
export function statusAfter(status: Status, t: Transition, generation: number, now: number): Status {
  if (t.kind === "idle") return status;
  const next: Status = structuredClone(status);
  merge(next, t.patch);
  const current = next.phase ?? "Pending";
  const phase = nextPhase(t, current);
  const message = "message" in t && t.message !== undefined ? t.message : (next.message ?? phase);
  if (phase !== current || next.phaseSince === undefined) next.phaseSince = new Date(now).toISOString();
  next.phase = phase;
  next.message = message;
  if (t.kind === "fail") {
    next.lastError = {
      reason: t.reason,
      message: t.message,
      at: new Date(now).toISOString(),
      retryable: false,
    };
    next.finishedAt = new Date(now).toISOString();
  }
  const waitReason =
    t.kind === "wait" || t.kind === "act"
      ? t.reason
      : phase === "Skipped" && (next.keptBackPackages?.length ?? 0) > 0
        ? "PackagesKeptBack"
        : undefined;
  applyConditions(next, phaseConditions(phase, message, waitReason), generation, now);
  next.observedGeneration = generation;
  return next;
}

export function requeueMs(r: Requeue | undefined, timing: Timing): number | undefined {
  if (r === undefined || r === "never") return undefined;
  if (r === "now") return 0;
  if (r === "poll") return timing.pollMs;
  if (r === "wait") return timing.waitMs;
  return r.ms;
}

/** Carries out `t` on `target`; returns when to reconcile again. */
export async function apply(target: ApplyTarget, t: Transition): Promise<number | undefined> {
  if (t.kind === "idle") return undefined;
  const { hp, deps } = target;
  const before = hp.status ?? {};
  const after = statusAfter(before, t, hp.metadata.generation ?? 1, deps.clock.now());
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    const saved = await deps.store.updateStatus({ ...hp, status: after });
    hp.metadata = saved.metadata;
    hp.status = after;
  }
  for (const note of t.notes ?? []) await record(target, after.phase ?? "Pending", note);
  if (t.kind === "act")
    for (const a of t.actions) {
      if (target.signal?.aborted) break;
      await perform(target, a);
    }
  return requeueMs(t.requeue, deps.timing);
}

async function record(target: ApplyTarget, phase: string, note: HistoryNote): Promise<void> {
  const { hp, deps, log } = target;
  const at = new Date(deps.clock.now()).toISOString();
  log.info(
    { phase, step: note.step, outcome: note.outcome, ...note.extra },
    note.message ?? `${note.step} ${note.outcome}`,
  );
  await deps.history.append("HostPatch", `${target.clusterName}-${hp.spec.host}`, {
    at,
    plan: target.planName,
    cycle: hp.spec.cycle,
    phase,
    step: note.step,
    outcome: note.outcome,
    ...(note.message ? { message: note.message } : {}),
    ...note.extra,
  });
}

async function perform(target: ApplyTarget, a: Action): Promise<void> {
  if (a.type === "notify") return notify(target.deps.notifier, target, a.notice);
  beforeRemoteAction(`${a.what} on ${a.command.on}`);
  try {
    await execute(target.access, a.command, target.log);
  } catch (err) {
    if (!a.tolerateFailure) throw err;
    target.log.warn({ what: a.what, err: errorMessage(err) }, `${a.what} not accepted; will check again`);
  }
}

async function execute(access: ClusterAccess, c: RemoteCommand, log: Logger): Promise<void> {
  const exec = access.node(c.on);
  if (c.job) {
    await startJob(exec, c.job.id, c.argv, { timeoutMs: c.timeoutMs });
    return;
  }
  try {
    const r = await exec.exec(c.argv, { timeoutMs: c.timeoutMs });
    if (r.exitCode !== 0 && !c.dropsConnection)
      throw new RetryableError("CommandFailed", `${commandLine(c)} on ${c.on} failed: ${r.stderr.trim()}`);
  } catch (err) {
    // The connection dropping under a reboot is expected; the boot_id decides what happened.
    if (!c.dropsConnection) throw err;
    log.debug({ node: c.on, err: errorMessage(err) }, "reboot command ended without a reply (expected)");
  }
}

/** How many notice records `status.notices` keeps (newest last). */
const NOTICES_KEPT = 5;

/**
 * Sends the notice through the outbox and waits for it at most the plan's `notifications.maxWait`
 * (a dead channel never holds the reboot longer); then records how each channel's delivery stood on
 * `status.notices` and in the history, and the flow goes on. What is still owed is delivered in the
 * background and shows on the channel's status.
 */
async function notify(
  notifier: Notifier,
  target: ApplyTarget,
  notice: Extract<Action, { type: "notify" }>["notice"],
): Promise<void> {
  const { hp, deps } = target;
  const host = hp.spec.host;
  const full = {
    ...notice,
    plan: { kind: "HostPatchPlan" as const, name: target.planName, namespace: target.namespace },
    cluster: target.clusterName,
    hosts: [host],
  };
  const options = {
    key: `HostPatchPlan/${target.planName}/${notice.event}/${host}/${hp.spec.cycle}`,
    ...(target.signal ? { signal: target.signal } : {}),
  };
  if (!notifier.notifyAndWait) return notifier.notify(full, options);
  const receipt = await notifier.notifyAndWait(full, options);
  if (!receipt || target.signal?.aborted) return;
  const noted: NonNullable<Status["notices"]>[number] = {
    event: notice.event,
    id: receipt.id,
    at: new Date(deps.clock.now()).toISOString(),
    waitedMs: Math.round(receipt.waitedMs),
    channels: receipt.channels,
  };
  const late = receipt.channels.filter((c) => c.state !== "Delivered");
  const message =
    late.length === 0
      ? `${notice.event} delivered to ${receipt.channels.map((c) => c.name).join(", ")}`
      : `${notice.event} not delivered after waiting ${Math.round(receipt.waitedMs / 1000)}s to ${late
          .map((c) => `${c.name} (${c.state.toLowerCase()}${c.message ? `: ${c.message}` : ""})`)
          .join(", ")}; going on, the outbox keeps sending what is owed`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const current =
        tries === 0 ? hp : await deps.store.get("HostPatch", hp.metadata.namespace ?? "", hp.metadata.name);
      if (!current) break;
      const notices = [...(current.status?.notices ?? []).filter((n) => n.id !== noted.id), noted].slice(
        -NOTICES_KEPT,
      );
      const status = { ...(current.status ?? {}), notices };
      const saved = await deps.store.updateStatus({ ...current, status });
      hp.metadata = saved.metadata;
      hp.status = status;
      break;
    } catch (err) {
      if (tries === 1) target.log.warn({ err: errorMessage(err) }, "notice delivery not recorded on status");
    }
  }
  await record(target, hp.status?.phase ?? "Pending", {
    step: "notify",
    outcome: late.length === 0 ? "done" : "failed",
    message,
    extra: { event: notice.event, id: receipt.id },
  });
}
