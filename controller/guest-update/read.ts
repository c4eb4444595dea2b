/**
 * Reads what a phase needs, once per reconcile. Reads only: the runners' detect, list and
 * installed steps are read-only by contract, and health probes change nothing. A read that fails
 * becomes a readout with the reason, so the decision can wait (a closed gate) instead of guessing.
 */
import type { HealthCheck } from "../../src/api/health-check.js";
import type { Runner } from "../../src/api/runners.js";
import { errorMessage, RefitError } from "../../src/errors.js";
import { baselineProbe, controllerProbeIo, type RunProbe } from "../../src/health/index.js";
import { DF_ROOT_ARGV, parseDfPosix, pctExecArgv, PveReader } from "../../src/pve/index.js";
import type { RunnerPlugin, RunnerStep, RunnerTarget, StepResult } from "../../src/runners/contract.js";
import { okCodes } from "../../src/runners/index.js";
import { jobStatus, type HostExec } from "../../src/ssh/index.js";
import type { Clock } from "../../src/clock.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { readStepCommand } from "./commands.js";
import {
  guestFacts,
  type GuestContext,
  type GuestFacts,
  type Listing,
  type Needs,
  type Observation,
  type ProbeSet,
  type Readout,
} from "./observation.js";

const SHORT_MS = 60_000;

export interface ReadDeps {
  access: ClusterAccess;
  clock: Clock;
  runProbe: RunProbe;
}

async function readout<T>(fn: () => Promise<T>, reason = "Unreadable"): Promise<Readout<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, reason: err instanceof RefitError ? err.reason : reason, message: errorMessage(err) };
  }
}

async function readGuest(exec: HostExec, node: string, vmid: number): Promise<GuestFacts> {
  const reader = new PveReader(exec);
  const [status, config] = await Promise.all([
    reader.guestStatus(node, "lxc", vmid),
    reader.guestConfig(node, "lxc", vmid, new Map()),
  ]);
  const raw = config.raw;
  const ostype = typeof raw.ostype === "string" ? raw.ostype : "debian";
  const unprivileged = raw.unprivileged === 1 || raw.unprivileged === "1" || raw.unprivileged === true;
  const lock = status.lock ?? config.lock;
  return {
    running: status.status === "running",
    ...(lock ? { lock } : {}),
    target: { vmid, ostype, unprivileged },
  };
}

/** Runs read steps in order and stops after the first whose exit code it does not accept. */
async function runSteps(exec: HostExec, ctx: GuestContext, steps: RunnerStep[]): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const s of steps) {
    const c = readStepCommand(ctx.gu, ctx.node, s);
    const r = await exec.exec(c.argv, { timeoutMs: c.timeoutMs });
    const result = { id: s.id, exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    out.push(result);
    if (!okCodes(s).includes(result.exitCode)) break;
  }
  return out;
}

/**
 * Detect, refresh the index (like the host flow's apt-get update in Preflight: the pending list must
 * be today's), then list: pending updates of one runner (none when it does not apply).
 */
async function listRunner(
  exec: HostExec,
  ctx: GuestContext,
  plugin: RunnerPlugin,
  spec: Runner,
  target: RunnerTarget,
  refresh: boolean,
): Promise<Listing> {
  const detected = await runSteps(exec, ctx, plugin.detect(spec, target));
  if (!plugin.applies(spec, target, detected)) return { applies: false, pending: [] };
  // A dry run lists from the index as it is: a refresh changes the container's caches.
  const refreshed = refresh ? await runSteps(exec, ctx, plugin.refresh?.(spec, target) ?? []) : [];
  const listed = await runSteps(exec, ctx, plugin.list(spec, target));
  return { applies: true, pending: plugin.pending(spec, target, [...refreshed, ...listed]) };
}

function probeChecks(ctx: GuestContext, set: ProbeSet): HealthCheck[] {
  const p = ctx.gu.spec.policy;
  return set === "preflight" ? p.preflight.checks : p.healthChecks;
}

/** The checks of `set`: the baseline takes several samples each; warm-up is the flow's wait, not the probe's. */
async function probe(deps: ReadDeps, ctx: GuestContext, exec: HostExec, set: ProbeSet) {
  const vmid = ctx.gu.spec.vmid;
  const io = controllerProbeIo(deps.clock, async (argv, timeoutMs) => {
    const r = await exec.exec(pctExecArgv(vmid, argv), { timeoutMs });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  });
  const target = { vmid };
  return Promise.all(
    probeChecks(ctx, set).map((c) =>
      set === "baseline"
        ? baselineProbe(c, target, io, undefined, deps.runProbe)
        : deps.runProbe({ ...c, warmUp: "0s" }, target, io),
    ),
  );
}

/** Adds to `obs` what `needs` asks for and `obs` does not hold yet. */
export async function read(
  deps: ReadDeps,
  ctx: GuestContext,
  needs: Needs,
  obs: Observation,
): Promise<Observation> {
  const exec = deps.access.node(ctx.node);
  const vmid = ctx.gu.spec.vmid;
  if (needs.guest && !obs.guest)
    obs.guest = await readout(() => readGuest(exec, ctx.node, vmid), "GuestUnreadable");
  const pending: Promise<void>[] = [];
  if (needs.load && !obs.load)
    pending.push(
      readout(async () => {
        const s = await new PveReader(exec).nodeStatus(ctx.node);
        const cores = s.cpus ?? 1;
        return { perCore: (s.loadavg[0] ?? 0) / Math.max(1, cores), cores };
      }).then((r) => {
        obs.load = r;
      }),
    );
  if (needs.disk && !obs.disk)
    pending.push(
      readout(async () => {
        const r = await exec.exec(pctExecArgv(vmid, [...DF_ROOT_ARGV]), { timeoutMs: SHORT_MS });
        if (r.exitCode !== 0)
          throw new Error(`df inside CT ${vmid} exited ${r.exitCode}: ${r.stderr.trim()}`);
        return parseDfPosix(r.stdout);
      }).then((r) => {
        obs.disk = r;
      }),
    );
  if (needs.snapshots && !obs.snapshots)
    pending.push(
      readout(() => new PveReader(exec).snapshots("lxc", vmid)).then((r) => {
        obs.snapshots = r;
      }),
    );
  for (const id of needs.jobs ?? [])
    if (!obs.jobs[id])
      pending.push(
        jobStatus(exec, id, { logLines: 20 }).then((s) => {
          obs.jobs[id] = s;
        }),
      );
  if (needs.rebootRequired && !obs.rebootRequired)
    pending.push(
      readout(async () => {
        const r = await exec.exec(pctExecArgv(vmid, ["cat", "/var/run/reboot-required"]), {
          timeoutMs: SHORT_MS,
        });
        if (r.exitCode === 0) return true;
        if (r.exitCode === 1 && /No such file/.test(r.stderr)) return false;
        throw new Error(
          `cat /var/run/reboot-required inside CT ${vmid} exited ${r.exitCode}: ${r.stderr.trim()}`,
        );
      }).then((r) => {
        obs.rebootRequired = r;
      }),
    );
  await Promise.all(pending);
  await readRunners(deps, ctx, needs, obs, exec);
  if (needs.probes && !obs.probes) obs.probes = await probe(deps, ctx, exec, needs.probes);
  return obs;
}

/** The runners' listings and the installed read, which need the container's facts (its ostype). */
async function readRunners(
  deps: ReadDeps,
  ctx: GuestContext,
  needs: Needs,
  obs: Observation,
  exec: HostExec,
) {
  if (!needs.listing && needs.installed === undefined) return;
  if (!obs.guest)
    obs.guest = await readout(() => readGuest(exec, ctx.node, ctx.gu.spec.vmid), "GuestUnreadable");
  const g = guestFacts(obs);
  if (!g) return;
  const runners = ctx.gu.spec.policy.runners;
  if (needs.listing && !obs.listing) {
    const listing: NonNullable<Observation["listing"]> = {};
    for (const [i, spec] of runners.entries()) {
      const plugin = ctx.runners(spec.type);
      if (plugin)
        listing[i] = await readout(
          () => listRunner(exec, ctx, plugin, spec, g.target, needs.listing !== "asIs"),
          "RepositoryUnreachable",
        );
    }
    obs.listing = listing;
  }
  const i = needs.installed;
  const spec = i !== undefined ? runners[i] : undefined;
  const plugin = spec ? ctx.runners(spec.type) : undefined;
  if (i !== undefined && spec && plugin && !obs.installed) {
    const before = ctx.status.runners?.[i]?.pending ?? [];
    obs.installed = await readout(async () =>
      plugin.changes(spec, g.target, before, await runSteps(exec, ctx, plugin.installed(spec, g.target))),
    );
  }
}
