/**
 * `refit rollback <plan> <vmid> [--to SNAPSHOT]` (or the annotations set with kubectl): a new
 * `refit.dev/rollback-requested-at` value is acted on once, when the update has ended, by the same
 * RollingBack → VerifyingRollback path as an automatic rollback, with the same proof. The value is
 * echoed as status.lastHandledRequestAt, so the request never runs twice.
 */
import type { GuestContext } from "../observation.js";
import { goto, type Transition } from "../transition.js";
import { isFinal } from "../flow.js";

export interface RollbackRequestView {
  requestedAt: string;
  to?: string;
}

export function decideOperatorRollback(ctx: GuestContext): Transition | undefined {
  const req = ctx.rollbackRequest;
  if (!req || req.requestedAt === ctx.status.lastHandledRequestAt) return undefined;
  // An update in flight finishes first (its own rollback may already be on the way).
  if (!isFinal(ctx.status.phase)) return undefined;
  const vmid = ctx.gu.spec.vmid;
  const at = new Date(ctx.now).toISOString();
  const name = req.to ?? ctx.status.snapshot?.name;
  if (!name) {
    const message = `rollback of CT ${vmid} requested, but this update took no backup and no --to snapshot was named; nothing was changed`;
    return goto(ctx.status.phase, message, {
      reason: "RollbackUnavailable",
      requeue: "never",
      patch: {
        lastHandledRequestAt: req.requestedAt,
        lastError: { reason: "RollbackUnavailable", message, at, retryable: false },
      },
      notes: [{ step: "rollback", outcome: "failed", message }],
    });
  }
  const snapshot =
    req.to && req.to !== ctx.status.snapshot?.name
      ? { name: req.to, mode: "snapshot" as const, createdAt: at }
      : ctx.status.snapshot;
  return goto("RollingBack", `rollback of CT ${vmid} to ${name} requested by an operator`, {
    reason: "OperatorRequested",
    patch: {
      lastHandledRequestAt: req.requestedAt,
      ...(snapshot ? { snapshot } : {}),
      rollback: { done: false, reason: "OperatorRequested", attempts: 0 },
      currentStep: undefined,
      finishedAt: undefined,
    },
    notes: [{ step: "rollback", outcome: "started", message: `operator requested a rollback to ${name}` }],
  });
}
