/**
 * The one applier of the guest update flow: it merges the decision's patch (the intent) into
 * status, sets the phase and derives the conditions, writes status once, appends the history
 * lines, and only then performs the actions, so a crash after the write resumes from the recorded
 * intent and proves from the world whether the action happened.
 */
import type { GuestUpdate, GuestUpdatePhase } from "../../src/api/guest-update.js";
import { RetryableError } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { startJob } from "../../src/ssh/index.js";
import type { Deps, Timing } from "../context.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { applyConditions } from "../runtime/conditions.js";
import { beforeRemoteAction } from "../runtime/crash-points.js";
import { commandLine, type RemoteCommand } from "./commands.js";
import { phaseConditions } from "./conditions.js";
import { isFinal } from "./flow.js";
import {
  emptyStatus,
  type Action,
  type HistoryNote,
  type Requeue,
  type Status,
  type StatusPatch,
  type Transition,
} from "./transition.js";

export interface ApplyTarget {
  gu: GuestUpdate;
  namespace: string;
  access: ClusterAccess;
  node: string;
  log: Logger;
  deps: Pick<Deps, "store" | "clock" | "history" | "notifier" | "timing">;
  signal?: AbortSignal;
}

function merge(status: Status, patch: StatusPatch | undefined): void {
  for (const [k, v] of Object.entries(patch ?? {})) {
    const key = k as keyof Status;
    if (v === undefined) delete status[key];
    else (status as Record<string, unknown>)[key] = v;
  }
}

function nextPhase(t: Exclude<Transition, { kind: "idle" }>, current: GuestUpdatePhase): GuestUpdatePhase {
  if (t.kind === "goto") return t.phase;
  if (t.kind === "fail") return "Failed";
  if (t.kind === "act") return t.phase ?? current;
  return current;
}

/** The status after `t`: pure, so a test (and a dry run) can see what would be written. */
export function statusAfter(status: Status, t: Transition, generation: number, now: number): Status {
  if (t.kind === "idle") return status;
  const next: Status = structuredClone(status);
  merge(next, t.patch);
  const current = next.phase ?? "Pending";
  const phase = nextPhase(t, current);
  const at = new Date(now).toISOString();
  const ready = next.conditions?.find((c) => c.type === "Ready")?.message;
  const message = "message" in t && t.message !== undefined ? t.message : (ready ?? phase);
  if (phase !== current || next.phaseSince === undefined) next.phaseSince = at;
  next.phase = phase;
  if (t.kind === "fail") next.lastError = { reason: t.reason, message: t.message, at, retryable: false };
  if (isFinal(phase) && next.finishedAt === undefined) next.finishedAt = at;
  const reason =
    t.kind === "goto" || t.kind === "act" || t.kind === "wait" || t.kind === "fail" ? t.reason : undefined;
  applyConditions(next, phaseConditions(phase, message, reason), generation, now);
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
  const { gu, deps } = target;
  const before = gu.status ?? emptyStatus();
  const after = statusAfter(before, t, gu.metadata.generation ?? 1, deps.clock.now());
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    const saved = await deps.store.updateStatus({ ...gu, status: after });
    gu.metadata = saved.metadata;
    gu.status = after;
  }
  for (const note of t.notes ?? []) await record(target, after.phase ?? "Pending", note);
  const actions: Action[] = [...(t.kind === "act" ? t.actions : []), ...(t.notices ?? [])];
  for (const a of actions) {
    if (target.signal?.aborted) break;
    await perform(target, a);
  }
  return requeueMs(t.requeue, deps.timing);
}

async function record(target: ApplyTarget, phase: string, note: HistoryNote): Promise<void> {
  const { gu, deps, log } = target;
  log.info(
    { phase, step: note.step, outcome: note.outcome, ...note.extra },
    note.message ?? `${note.step} ${note.outcome}`,
  );
  await deps.history.append("GuestUpdate", `${gu.spec.clusterRef.name}-${gu.spec.vmid}`, {
    at: new Date(deps.clock.now()).toISOString(),
    plan: gu.spec.planRef.name,
    cycle: gu.spec.cycle,
    vmid: gu.spec.vmid,
    phase,
    step: note.step,
    outcome: note.outcome,
    ...(note.message ? { message: note.message } : {}),
    ...note.extra,
  });
}

async function perform(target: ApplyTarget, a: Action): Promise<void> {
  const { gu } = target;
  if (a.type === "notify") {
    await target.deps.notifier.notify(
      {
        ...a.notice,
        plan: { kind: "GuestUpdatePlan", name: gu.spec.planRef.name, namespace: target.namespace },
        cluster: gu.spec.clusterRef.name,
        hosts: [target.node],
      },
      { key: `GuestUpdatePlan/${gu.spec.planRef.name}/${a.notice.event}/${gu.spec.vmid}/${gu.spec.cycle}` },
    );
    return;
  }
  beforeRemoteAction(`${a.what} on ${a.command.on}`);
  try {
    await execute(target.access, a.command);
  } catch (err) {
    if (!a.tolerateFailure) throw err;
    target.log.warn({ what: a.what, err: String(err) }, `${a.what} not accepted; will check again`);
  }
}

async function execute(access: ClusterAccess, c: RemoteCommand): Promise<void> {
  const exec = access.node(c.on);
  if (c.job) {
    await startJob(exec, c.job.id, c.argv, { timeoutMs: c.timeoutMs });
    return;
  }
  const r = await exec.exec(c.argv, { timeoutMs: c.timeoutMs });
  if (r.exitCode !== 0)
    throw new RetryableError(
      "CommandFailed",
      `${commandLine(c)} on ${c.on} failed (exit ${r.exitCode ?? r.signal}): ${r.stderr.trim()}; Refit will retry`,
    );
}
