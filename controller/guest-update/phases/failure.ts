/**
 * What a failure after the backup leads to, by the rollback policy: Auto restores the backup
 * (RollingBack), Manual keeps it for `refit rollback`, Never (or no backup) leaves the update Failed.
 */
import type { RollbackTrigger } from "../../../src/api/guest-policy.js";
import type { GuestContext } from "../observation.js";
import { fail, goto, notify, type StatusPatch, type Transition } from "../transition.js";

export function failure(
  ctx: GuestContext,
  trigger: RollbackTrigger,
  message: string,
  patch: StatusPatch = {},
): Transition {
  const rb = ctx.gu.spec.policy.rollback;
  const snap = ctx.status.snapshot;
  const vmid = ctx.gu.spec.vmid;
  const at = new Date(ctx.now).toISOString();
  const note = { step: "update", outcome: "failed" as const, message, extra: { trigger } };
  if (snap && rb.policy === "Auto" && rb.triggers.includes(trigger))
    return goto("RollingBack", `${message}; rolling CT ${vmid} back to ${snap.name}`, {
      reason: trigger,
      patch: {
        ...patch,
        currentStep: undefined,
        rollback: { done: false, reason: trigger, attempts: 0 },
        lastError: { reason: trigger, message, at, retryable: false },
      },
      notes: [note],
    });
  const next =
    snap && rb.policy === "Manual"
      ? `; backup ${snap.name} is kept: run \`refit rollback ${ctx.gu.spec.planRef.name} ${vmid}\` to restore it, or fix the container and delete the snapshot`
      : snap
        ? `; rollback policy ${rb.policy} does not restore ${snap.name} on ${trigger}: fix the container by hand`
        : "; there is no backup to restore (backup.mode none): fix the container by hand";
  return fail(trigger, `${message}${next}`, {
    patch: { ...patch, currentStep: undefined },
    notes: [note],
    notices: [
      notify({
        event: "TargetFailed",
        severity: "error",
        summary: `CT ${vmid}: ${message}${next}`,
        details: { vmid, trigger, ...(snap ? { backup: snap.name } : {}) },
      }),
    ],
  });
}
