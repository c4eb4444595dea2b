/**
 * BackingUp: `pct snapshot` as a job named by the update, the snapshot's name recorded before the
 * job starts; proven by `pct listsnapshot` showing that name. A crash resumes with the same name and
 * job id, so no second snapshot is taken and none is lost.
 */
import { refitSnapshotName } from "../../../src/pve/index.js";
import { jobId, snapshotCommand } from "../commands.js";
import type { GuestContext, Needs, Observation } from "../observation.js";
import { act, fail, goto, poll, run, type Transition } from "../transition.js";
import { halted, phaseExpired } from "./gates.js";

const STEP = "Snapshot";

function recorded(ctx: GuestContext): string | undefined {
  return ctx.status.currentStep?.name === STEP ? ctx.status.currentStep.id : undefined;
}

export function backingUpNeeds(ctx: GuestContext): Needs {
  if (ctx.gu.spec.policy.backup.mode !== "snapshot" || !recorded(ctx)) return {};
  return { snapshots: true, jobs: [jobId(ctx.gu, "snapshot")] };
}

export function decideBackingUp(ctx: GuestContext, obs: Observation): Transition {
  const backup = ctx.gu.spec.policy.backup;
  const vmid = ctx.gu.spec.vmid;
  if (backup.mode === "none")
    return goto("Baseline", `no backup taken (backup.mode none): CT ${vmid} cannot be rolled back`, {
      notes: [{ step: "backup", outcome: "skipped", message: "backup.mode none" }],
    });
  if (backup.mode === "vzdump")
    return goto(
      "Blocked",
      `backup.mode vzdump is not carried out by this version; use snapshot, or none to update without a backup`,
      {
        reason: "BackupModeUnsupported",
      },
    );
  const name = recorded(ctx);
  if (!name) {
    const fresh = refitSnapshotName(ctx.gu.spec.planRef.name, ctx.now);
    return (
      halted(ctx, "snapshot") ??
      act([run(snapshotCommand(ctx.gu, ctx.node, fresh), `snapshot ${vmid}`)], {
        reason: "TakingSnapshot",
        message: `taking snapshot ${fresh} of CT ${vmid}`,
        patch: { currentStep: { name: STEP, id: fresh, startedAt: new Date(ctx.now).toISOString() } },
        notes: [{ step: "backup", outcome: "started", message: `pct snapshot ${vmid} ${fresh}` }],
      })
    );
  }
  if (obs.snapshots?.ok && obs.snapshots.value.snapshots.some((s) => s.name === name))
    return goto("Baseline", `snapshot ${name} taken; taking the health baseline`, {
      patch: {
        snapshot: { name, mode: "snapshot", createdAt: new Date(ctx.now).toISOString() },
        currentStep: undefined,
      },
      notes: [{ step: "backup", outcome: "done", message: `snapshot ${name}` }],
    });
  const job = obs.jobs[jobId(ctx.gu, "snapshot")];
  if (phaseExpired(ctx, ctx.gu.spec.policy.timeouts.backup))
    return fail(
      "Timeout",
      `snapshot ${name} of CT ${vmid} not proven after timeouts.backup (${ctx.gu.spec.policy.timeouts.backup}); nothing was updated`,
      {
        patch: { currentStep: undefined },
      },
    );
  if (!job || job.state === "unknown")
    return (
      halted(ctx, "snapshot") ??
      act([run(snapshotCommand(ctx.gu, ctx.node, name), `snapshot ${vmid}`)], {
        reason: "TakingSnapshot",
        message: `taking snapshot ${name} of CT ${vmid}`,
      })
    );
  if (job.state === "running" || (job.state === "exited" && !obs.snapshots?.ok))
    return poll("TakingSnapshot", `taking snapshot ${name} of CT ${vmid}`);
  const why = job.log.slice(-3).join(" | ") || job.state;
  return fail(
    "SnapshotFailed",
    `snapshot ${name} of CT ${vmid} failed (${why}); nothing was updated. Check the container's storage supports snapshots, or set backup.mode`,
    {
      patch: { currentStep: undefined },
      notes: [{ step: "backup", outcome: "failed", message: why }],
    },
  );
}
