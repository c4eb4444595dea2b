/**
 * Every remote command the guest update flow issues, built in one place: the applier runs them and
 * the dry run can print them. Anything that changes the container runs as a job (a transient unit
 * on the node) whose id is derived from the update and the step, so a crash never runs it twice.
 */
import { createHash } from "node:crypto";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { parseDuration } from "../../src/api/primitives.js";
import {
  createSnapshotArgv,
  guestPowerArgv,
  pctExecArgv,
  rollbackSnapshotArgv,
} from "../../src/pve/index.js";
import type { RunnerStep } from "../../src/runners/contract.js";
import { quoteArgv } from "../../src/ssh/index.js";
import { startJobArgv } from "../../src/ssh/jobs.js";

export interface RemoteCommand {
  on: string;
  argv: string[];
  timeoutMs: number;
  /** Long or changing work runs as a job that survives the controller and the SSH connection. */
  job?: { id: string };
}

type Update = Pick<GuestUpdate, "spec">;

/** A job id unique to this update, cycle and step: `gu-<hash>-<step>`, valid for systemd-run. */
export function jobId(gu: Update, step: string): string {
  const hash = createHash("sha256")
    .update(`${gu.spec.planRef.name}/${gu.spec.clusterRef.name}/${gu.spec.vmid}/${gu.spec.cycle}`)
    .digest("hex")
    .slice(0, 12);
  return `gu-${hash}-${step}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 64);
}

/** The job of step `n` of runner `index` (hold, apply and release steps are numbered in one list). */
export function runnerStepJobId(gu: Update, index: number, n: number, step: RunnerStep): string {
  return jobId(gu, `r${index}-${n}-${step.id}`);
}

export function runnerStepCommand(gu: Update, node: string, id: string, step: RunnerStep): RemoteCommand {
  const env = step.env && Object.keys(step.env).length > 0 ? { env: step.env } : {};
  return {
    on: node,
    argv: pctExecArgv(gu.spec.vmid, step.argv, env),
    timeoutMs: step.timeoutMs,
    job: { id },
  };
}

/** A short read-only step (detect, list, installed) run directly inside the container. */
export function readStepCommand(gu: Update, node: string, step: RunnerStep): RemoteCommand {
  const env = step.env && Object.keys(step.env).length > 0 ? { env: step.env } : {};
  return { on: node, argv: pctExecArgv(gu.spec.vmid, step.argv, env), timeoutMs: step.timeoutMs };
}

export const SNAPSHOT_DESCRIPTION = "Taken by Refit before an update; pruned by its retention";

export function snapshotCommand(gu: Update, node: string, name: string): RemoteCommand {
  return {
    on: node,
    argv: createSnapshotArgv("lxc", gu.spec.vmid, name, {
      description: `${SNAPSHOT_DESCRIPTION} (plan ${gu.spec.planRef.name}, cycle ${gu.spec.cycle})`,
    }),
    timeoutMs: parseDuration(gu.spec.policy.timeouts.backup),
    job: { id: jobId(gu, "snapshot") },
  };
}

export function rollbackJobId(gu: Update, attempt: number): string {
  return jobId(gu, `rollback-a${attempt}`);
}

/** `pct rollback <vmid> <snap> --start 1`: stops the container, restores it, starts it. */
export function rollbackCommand(gu: Update, node: string, name: string, attempt: number): RemoteCommand {
  return {
    on: node,
    argv: rollbackSnapshotArgv("lxc", gu.spec.vmid, name, { start: true }),
    timeoutMs: parseDuration(gu.spec.policy.timeouts.rollback),
    job: { id: rollbackJobId(gu, attempt) },
  };
}

export function restartJobId(gu: Update): string {
  return jobId(gu, "restart");
}

/** `systemctl restart <units…>` inside the container, as a job. */
export function restartServicesCommand(gu: Update, node: string, services: readonly string[]): RemoteCommand {
  return {
    on: node,
    argv: pctExecArgv(gu.spec.vmid, ["systemctl", "restart", ...services]),
    timeoutMs: parseDuration(gu.spec.policy.restart.stopTimeout) + 60_000,
    job: { id: restartJobId(gu) },
  };
}

/** `pct reboot <vmid> --timeout N`, as a job: a clean shutdown can take the whole timeout. */
export function rebootContainerCommand(gu: Update, node: string): RemoteCommand {
  const timeoutSec = Math.ceil(parseDuration(gu.spec.policy.restart.stopTimeout) / 1000);
  return {
    on: node,
    argv: guestPowerArgv("lxc", "reboot", gu.spec.vmid, { timeoutSec }),
    timeoutMs: (timeoutSec + 120) * 1000,
    job: { id: restartJobId(gu) },
  };
}

export function startContainerCommand(gu: Update, node: string): RemoteCommand {
  return { on: node, argv: guestPowerArgv("lxc", "start", gu.spec.vmid), timeoutMs: 300_000 };
}

/** The exact command line the node receives (the job wrapper included). */
export function commandLine(c: RemoteCommand): string {
  return quoteArgv(c.job ? startJobArgv(c.job.id, c.argv, Math.ceil(c.timeoutMs / 1000)) : c.argv);
}
