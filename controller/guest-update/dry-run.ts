/**
 * What `refit plan` can show for one container's update, from the same reads and the same command
 * builders as the run (so the dry run cannot disagree with it), changing nothing: the runners'
 * listings run without their index refresh, nothing else runs inside the container. The plan's
 * preview builds a GuestUpdate in memory per container (spec with its effective policy) and asks.
 */
import type { GuestUpdate, PendingPackage } from "../../src/api/guest-update.js";
import { refitSnapshotName } from "../../src/pve/index.js";
import type { RunProbe } from "../../src/health/index.js";
import type { Clock } from "../../src/clock.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import {
  commandLine,
  rebootContainerCommand,
  restartServicesCommand,
  rollbackCommand,
  runnerStepCommand,
  snapshotCommand,
} from "./commands.js";
import { emptyObservation, type GuestContext, type RunnerLookup } from "./observation.js";
import { read } from "./read.js";
import { plannedSteps, runnerLabel } from "./runner-steps.js";
import { emptyStatus } from "./transition.js";
import { DEFAULT_TIMING } from "../context.js";

export interface RunnerPreview {
  name: string;
  type: string;
  /** Whether the runner applies to this container; undefined when it could not be listed. */
  applies?: boolean;
  pending: PendingPackage[];
  /** The exact command lines the node would receive, in order (jobs with their systemd-run wrapper). */
  commands: string[];
  /** Why the listing failed (a closed gate in the run), if it did. */
  error?: string;
}

export interface GuestUpdatePreview {
  vmid: number;
  node: string;
  running?: boolean;
  lock?: string;
  runners: RunnerPreview[];
  /** Nothing pending: the run would end Skipped without a backup. */
  nothingToDo: boolean;
  backup: { mode: string; command?: string };
  restart: { policy: string; command?: string };
  rollback: { policy: string; command?: string };
  checks: string[];
}

export async function previewGuestUpdate(
  gu: Pick<GuestUpdate, "spec" | "metadata">,
  /** runProbe is not called: a dry run probes nothing. */
  deps: { access: ClusterAccess; clock: Clock; runners: RunnerLookup; runProbe: RunProbe },
): Promise<GuestUpdatePreview> {
  const now = deps.clock.now();
  const ctx: GuestContext = {
    gu,
    node: gu.spec.node,
    status: emptyStatus(),
    now,
    timing: DEFAULT_TIMING,
    runners: deps.runners,
  };
  const obs = await read(deps, ctx, { guest: true, listing: "asIs" }, emptyObservation());
  const g = obs.guest?.ok ? obs.guest.value : undefined;
  const p = gu.spec.policy;
  const runners: RunnerPreview[] = p.runners.map((spec, i) => {
    const plugin = deps.runners(spec.type);
    const l = obs.listing?.[i];
    const base = { name: runnerLabel(spec), type: spec.type };
    if (!plugin)
      return { ...base, pending: [], commands: [], error: `no plugin for runner type ${spec.type}` };
    if (!l || !g)
      return {
        ...base,
        pending: [],
        commands: [],
        error: obs.guest?.ok ? "not listed (the container does not run)" : (obs.guest?.message ?? "not read"),
      };
    if (!l.ok) return { ...base, pending: [], commands: [], error: l.message };
    const pending = l.value.applies ? l.value.pending : [];
    const steps = pending.length > 0 ? plannedSteps(gu, i, plugin, spec, g.target, pending) : [];
    return {
      ...base,
      applies: l.value.applies,
      pending,
      commands: steps.map((s) => commandLine(runnerStepCommand(gu, ctx.node, s.jobId, s.step))),
    };
  });
  const snap = refitSnapshotName(gu.spec.planRef.name, now);
  const r = p.restart;
  const restart =
    r.policy === "Container"
      ? commandLine(rebootContainerCommand(gu, ctx.node))
      : r.policy === "Services" || (r.policy === "IfRequired" && r.services.length > 0)
        ? commandLine(restartServicesCommand(gu, ctx.node, r.services))
        : undefined;
  return {
    vmid: gu.spec.vmid,
    node: ctx.node,
    ...(g ? { running: g.running } : {}),
    ...(g?.lock ? { lock: g.lock } : {}),
    runners,
    nothingToDo: runners.every((x) => x.error === undefined && x.pending.length === 0),
    backup: {
      mode: p.backup.mode,
      ...(p.backup.mode === "snapshot" ? { command: commandLine(snapshotCommand(gu, ctx.node, snap)) } : {}),
    },
    restart: { policy: r.policy, ...(restart ? { command: restart } : {}) },
    rollback: {
      policy: p.rollback.policy,
      ...(p.backup.mode === "snapshot" && p.rollback.policy !== "Never"
        ? { command: commandLine(rollbackCommand(gu, ctx.node, snap, 1)) }
        : {}),
    },
    checks: p.healthChecks.map((c) => `${c.type} ${c.name}`),
  };
}
