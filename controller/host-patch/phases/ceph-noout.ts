/**
 * Ceph's noout flag around a node's reboot, as recorded intent. Before the reboot, `ceph osd
 * set-group noout <node>` is recorded and sent, and the reboot waits until `ceph health detail`
 * shows the flag (its OSDs then stay `in` while down, so Ceph does not start re-replicating their
 * data). After the return, the flag stays until Ceph has recovered (no OSD down, no PG degraded or
 * misplaced), then `unset-group` is recorded and sent, and the flow goes on only once the flag is
 * gone. A restarted controller finds the record in status and carries on; a record that an earlier
 * cycle left is finished in Preflight. Sources: src/pve/REFERENCE-ceph.md.
 */
import {
  describeCephHealth,
  hasNoout,
  recoveryChecks,
  withoutOwnNoout,
  type CephHealth,
  type CephState,
  type Observed,
} from "../../../src/pve/index.js";
import { nooutCommand } from "../commands.js";
import type { PatchContext } from "../observation.js";
import { act, poll, run, wait, type HistoryNote, type StatusPatch, type Transition } from "../transition.js";
import { iso, resendDue } from "./gating.js";

type NooutRecord = NonNullable<PatchContext["status"]["cephNoout"]>;

/** What a phase may go on with: nothing more to do about noout, plus what to write and note. */
export interface NooutDone {
  readonly patch: StatusPatch;
  readonly notes: HistoryNote[];
}

const nothing: NooutDone = { patch: {}, notes: [] };

/** Why Ceph is not healthy enough for a node to go down or for its noout to go, if so. */
function notRecovered(h: CephHealth, host: string): string | undefined {
  const rest = withoutOwnNoout(h, host);
  if (rest.status !== "HEALTH_ERR" && recoveryChecks(rest).length === 0) return undefined;
  return describeCephHealth(rest);
}

function unreadable(ceph: Observed<CephState> | undefined): string {
  return ceph?.ok === false ? ceph.message : "not read";
}

function setNoout(ctx: PatchContext, rec: NooutRecord | undefined): Transition {
  const fresh = !rec || rec.cycle !== ctx.hp.spec.cycle || rec.unsetAt !== undefined;
  const next: NooutRecord = fresh
    ? { cycle: ctx.hp.spec.cycle, requestedAt: iso(ctx.now) }
    : { ...rec, requestedAt: iso(ctx.now) };
  return act([run(nooutCommand(ctx.host, true), "ceph-noout-set", true)], {
    patch: { cephNoout: next },
    reason: "SettingNoout",
    message: `setting Ceph noout on ${ctx.host} before its reboot`,
    notes: fresh
      ? [{ step: "ceph-noout", outcome: "started", message: `noout requested for ${ctx.host}` }]
      : [],
  });
}

/** Rebooting: Ceph must not be recovering, and the node's noout must show, before the reboot. */
export function nooutBeforeReboot(
  ctx: PatchContext,
  ceph: Observed<CephState> | undefined,
): Transition | NooutDone {
  if (!ceph?.ok)
    return wait(
      "CephUnreadable",
      `Ceph cannot be read before the reboot: ${unreadable(ceph)}; not rebooting`,
    );
  if (ceph.value.kind === "none") return nothing;
  const health = ceph.value.health;
  const why = notRecovered(health, ctx.host);
  if (why) return poll("CephRecovering", `Ceph is not ready for ${ctx.host} to go down: ${why}`);
  if (!ctx.spec.ceph.noout) return nothing;
  const rec = ctx.status.cephNoout;
  const mine = rec && rec.cycle === ctx.hp.spec.cycle && rec.unsetAt === undefined ? rec : undefined;
  if (mine && hasNoout(health, ctx.host)) {
    if (mine.setAt) return nothing;
    return {
      patch: { cephNoout: { ...mine, setAt: iso(ctx.now) } },
      notes: [{ step: "ceph-noout", outcome: "done", message: `Ceph shows noout on ${ctx.host}` }],
    };
  }
  if (!mine || resendDue(ctx, mine.requestedAt)) return setNoout(ctx, rec);
  return poll("SettingNoout", `waiting for Ceph to show noout on ${ctx.host}`);
}

/**
 * After the return (Verifying): waits until Ceph has recovered, noout or not (nothing else moves
 * while it recovers, the guests coming back included), then unsets the node's noout; done when the
 * flag is gone. In Preflight only a flag an earlier cycle left is finished this way.
 */
export function nooutAfterReturn(
  ctx: PatchContext,
  ceph: Observed<CephState> | undefined,
  phase: "Verifying" | "Preflight",
): Transition | NooutDone {
  const held = ctx.status.cephNoout;
  const rec = held && !held.unsetAt ? held : undefined;
  if (!rec && phase === "Preflight") return nothing;
  if (!ceph?.ok)
    return poll("CephUnreadable", `Ceph cannot be read after ${ctx.host}'s return: ${unreadable(ceph)}`);
  if (ceph.value.kind === "none")
    return rec ? gone(ctx, rec, "Ceph is no longer set up; nothing to unset") : nothing;
  const health = ceph.value.health;
  const flagged = rec !== undefined && hasNoout(health, ctx.host);
  const left = rec && phase === "Preflight" ? ` (left by cycle ${rec.cycle})` : "";
  const why = notRecovered(health, ctx.host);
  if (why)
    return poll(
      "CephRecovering",
      `${ctx.host} is back; Ceph is recovering, ${flagged ? `noout${left} stays and ` : ""}nothing else moves: ${why}`,
    );
  if (!rec) return nothing;
  if (!flagged)
    return gone(
      ctx,
      rec,
      rec.unsetRequestedAt ? `noout unset on ${ctx.host}` : `noout on ${ctx.host} was unset by someone else`,
    );
  if (resendDue(ctx, rec.unsetRequestedAt))
    return act([run(nooutCommand(ctx.host, false), "ceph-noout-unset", true)], {
      patch: { cephNoout: { ...rec, unsetRequestedAt: iso(ctx.now) } },
      reason: "CephRecovering",
      message: `Ceph has recovered; unsetting noout${left} on ${ctx.host}`,
      notes: [{ step: "ceph-noout", outcome: "started", message: `unsetting noout on ${ctx.host}` }],
    });
  return poll("CephRecovering", `waiting for Ceph to show noout gone from ${ctx.host}`);
}

function gone(ctx: PatchContext, rec: NooutRecord, message: string): NooutDone {
  return {
    patch: { cephNoout: { ...rec, unsetAt: iso(ctx.now) } },
    notes: [{ step: "ceph-noout", outcome: "done", message }],
  };
}

export function isDone(t: Transition | NooutDone): t is NooutDone {
  return !("kind" in t);
}
