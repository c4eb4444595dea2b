/**
 * The host patch flow of one HostPatch (profile pve), one step per reconcile:
 *
 *   Pending → Preflight → Upgrading → (reboot needed?) → Evacuating → Rebooting → AwaitingReturn →
 *   Verifying → Restoring → Succeeded, or Skipped (up to date), Blocked (a gate or an unmovable
 *   guest), Failed (a node that does not return, quorum lost, a failed job).
 *
 * Every disruptive step is recorded in status (with what will prove it happened) before it is acted
 * on, and every phase proves from the world whether its step happened, so a restarted controller
 * resumes without rebooting a node twice or migrating a guest twice.
 */
import { createHash } from "node:crypto";
import type { HostPatch, HostPatchPhase } from "../../src/api/host-patch.js";
import type { HostPatchPlan } from "../../src/api/host-patch-plan.js";
import { parseDuration } from "../../src/api/primitives.js";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { RefitError, RetryableError, errorMessage } from "../../src/errors.js";
import {
  APT_UPDATE_ARGV,
  haMigrateArgv,
  nodeMaintenanceArgv,
  observeNode,
  pctMigrateArgv,
  PveActions,
  PveReader,
  qmMigrateArgv,
  type ClusterObservation,
  type NodeObservation,
} from "../../src/pve/index.js";
import { jobStatus, quoteArgv, startJob, type HostExec } from "../../src/ssh/index.js";
import { scheduleGate, type WindowSpec } from "../../src/schedule/index.js";
import { isoAt, type Deps } from "../context.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { setReady, setReconciling, setStalled } from "../runtime/conditions.js";
import { planEvacuation, type EvacNode } from "./evacuation-plan.js";
import { pveGates } from "./gates.js";
import { observeClusterVia } from "../fleet/observe-cluster.js";
import { guestsOn } from "./observe.js";

type Status = NonNullable<HostPatch["status"]>;
type Migration = NonNullable<Status["migrations"]>[number];

export interface StepResult {
  requeueAfter?: number;
}

/** What one reconcile of one HostPatch works with. */
export interface Flow {
  deps: Deps;
  hp: HostPatch;
  plan: HostPatchPlan;
  cluster: ProxmoxCluster;
  access: ClusterAccess;
  /** Windows and blackouts of the plan, resolved. */
  windows: WindowSpec[];
  blackouts: WindowSpec[];
  force: "windows" | "all" | false;
  /** Why no new step may start (kill switch, suspend), if so. */
  halt?: { reason: string; message: string };
  /** Whether this node may take its turn at disruptive work now (ordering and maxUnavailable). */
  mayStartDisruption: () => Promise<{ ok: true } | { ok: false; message: string }>;
  /** Names of nodes of this cluster already patched in this cycle (preferred migration targets). */
  patchedNodes: string[];
}


const PVE_SERVICES = ["pve-cluster", "pvedaemon", "pveproxy", "pvestatd", "corosync"];

/** A job id unique to this patch, cycle and step: `hp-<hash>-<step>`, valid for systemd-run. */
export function jobId(hp: HostPatch, step: string): string {
  const hash = createHash("sha256")
    .update(`${hp.spec.planRef.name}/${hp.spec.host}/${hp.spec.cycle}`)
    .digest("hex")
    .slice(0, 12);
  return `hp-${hash}-${step}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 64);
}

/**
 * One shell line of fixed, quoted steps joined with &&: nothing from desired state is pasted in raw.
 * The job runs under `sh -c`, so the environment is set with a constant assignment prefix.
 */
export function upgradeJobArgv(plan: HostPatchPlan): string[] {
  const u = plan.spec.upgrade;
  const keep = u.dpkgOptions.flatMap((o) => ["-o", `Dpkg::Options::=${o}`]);
  const noninteractive = (argv: string[]): string => `DEBIAN_FRONTEND=noninteractive ${quoteArgv(argv)}`;
  const steps: string[] = [];
  if (u.refreshIndex) steps.push(quoteArgv([...APT_UPDATE_ARGV]));
  steps.push(noninteractive(["apt-get", "-y", ...keep, u.mode]));
  if (u.autoremove) steps.push(noninteractive(["apt-get", "-y", "autoremove"]));
  if (u.autoclean) steps.push(quoteArgv(["apt-get", "autoclean"]));
  return ["sh", "-c", steps.join(" && ")];
}

export const REBOOT_ARGV = ["systemctl", "reboot"];

function now(f: Flow): number {
  return f.deps.clock.now();
}

function status(f: Flow): Status {
  f.hp.status ??= {};
  return f.hp.status;
}

function generation(f: Flow): number {
  return f.hp.metadata.generation ?? 1;
}

/**
 * Persists status. The status object stays the same object (only metadata is taken from the store),
 * so references a step holds into it (a migration being driven) stay live across saves.
 */
async function save(f: Flow): Promise<void> {
  const s = status(f);
  s.observedGeneration = generation(f);
  const saved = await f.deps.store.updateStatus(f.hp);
  f.hp.metadata = saved.metadata;
}

async function record(
  f: Flow,
  step: string,
  outcome: "started" | "done" | "failed" | "skipped" | "blocked",
  message?: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const phase = status(f).phase ?? "Pending";
  f.deps.log.info(
    {
      cluster: f.cluster.metadata.name,
      node: f.hp.spec.host,
      plan: f.plan.metadata.name,
      phase,
      step,
      outcome,
      ...extra,
    },
    message ?? `${step} ${outcome}`,
  );
  await f.deps.history.append("HostPatch", `${f.cluster.metadata.name}-${f.hp.spec.host}`, {
    at: isoAt(f.deps.clock),
    plan: f.plan.metadata.name,
    cycle: f.hp.spec.cycle,
    phase,
    step,
    outcome,
    ...(message ? { message } : {}),
    ...extra,
  });
}

function setPhase(f: Flow, phase: HostPatchPhase, message: string): void {
  const s = status(f);
  if (s.phase !== phase) s.phaseSince = isoAt(f.deps.clock);
  s.phase = phase;
  s.message = message;
  const g = generation(f);
  const t = now(f);
  if (phase === "Succeeded" || phase === "Skipped") {
    setReady(s, { status: "True", reason: phase === "Skipped" ? "UpToDate" : "Patched", message }, g, t);
    setReconciling(s, { status: "False", reason: "Done" }, g, t);
    setStalled(s, { status: "False", reason: "Done" }, g, t);
  } else if (phase === "Failed") {
    setReady(s, { status: "False", reason: "Failed", message }, g, t);
    setReconciling(s, { status: "False", reason: "Failed" }, g, t);
    setStalled(s, { status: "True", reason: "Failed", message }, g, t);
  } else if (phase === "Blocked") {
    setReady(s, { status: "False", reason: "Blocked", message }, g, t);
    setReconciling(s, { status: "False", reason: "Blocked" }, g, t);
  } else {
    setReconciling(s, { status: "True", reason: phase, message }, g, t);
    setReady(s, { status: "False", reason: phase, message }, g, t);
  }
}

function fail(f: Flow, reason: string, message: string): void {
  const s = status(f);
  s.lastError = { reason, message, at: isoAt(f.deps.clock), retryable: false };
  s.finishedAt = isoAt(f.deps.clock);
  setPhase(f, "Failed", message);
}

function node(f: Flow): HostExec {
  return f.access.node(f.hp.spec.host);
}

/** A step may not start: say why on status and look again later. */
async function hold(f: Flow, reason: string, message: string): Promise<StepResult> {
  const s = status(f);
  if (s.message !== message) {
    s.message = message;
    setReconciling(s, { status: "True", reason, message }, generation(f), now(f));
    await save(f);
  }
  return { requeueAfter: f.deps.timing.waitMs };
}

/** Halt, window and turn checks before a step that changes the node or its guests. */
async function mayStart(f: Flow, what: string, expectedMs: number): Promise<StepResult | undefined> {
  if (f.halt) return hold(f, f.halt.reason, `${f.halt.message}; ${what} not started`);
  const gate = scheduleGate({
    windows: f.windows,
    blackouts: f.blackouts,
    nowMs: now(f),
    expectedDurationMs: expectedMs,
    force: f.force,
  });
  if (!gate.allowed) {
    await hold(f, gate.reason, `${what} waits: ${gate.message}`);
    return {
      requeueAfter: Math.max(f.deps.timing.pollMs, Math.min(gate.retryAt - now(f), f.deps.timing.idleMs)),
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Phases

async function pending(f: Flow): Promise<StepResult> {
  const s = status(f);
  s.startedAt = isoAt(f.deps.clock);
  s.gates = [];
  s.pendingPackages = [];
  s.upgradedPackages = [];
  s.migrations = [];
  s.migrationsToUndo = [];
  delete s.bootIdBeforeReboot;
  delete s.bootIdAfterReboot;
  delete s.rebootIssuedAt;
  delete s.rebootDecision;
  delete s.currentStep;
  delete s.finishedAt;
  delete s.lastError;
  setPhase(f, "Preflight", "observing the node");
  await save(f);
  return { requeueAfter: 0 };
}

interface Observed {
  node: NodeObservation;
  cluster: ClusterObservation;
}

async function observeBoth(f: Flow, pendingUpdates: boolean): Promise<Observed> {
  const [nodeObs, clusterObs] = await Promise.all([
    observeNode(node(f), f.hp.spec.host, { pendingUpdates }),
    observeClusterVia(f.access, f.hp.spec.host),
  ]);
  return { node: nodeObs, cluster: clusterObs.obs };
}

async function preflight(f: Flow): Promise<StepResult> {
  const s = status(f);
  if (f.halt) return hold(f, f.halt.reason, `${f.halt.message}; preflight not started`);
  // Refresh the package index first: the pending list must be today's, not last week's.
  try {
    await new PveActions(node(f)).refreshPackageIndex();
  } catch (err) {
    // A stale index could make the node look up to date: fail closed and say why on status.
    if (err instanceof RefitError && err.retryable) return hold(f, err.reason, err.message);
    throw err;
  }
  const o = await observeBoth(f, true);
  const pendingObs = o.node.pendingUpdates;
  const reboot = o.node.reboot;
  const gates = pveGates(f.hp.spec.host, f.plan.spec, o.node, o.cluster, {
    requireQuorum: f.cluster.spec.safety.requireQuorum,
    requireAllNodesOnline: f.cluster.spec.safety.requireAllNodesOnline,
  });
  s.gates = gates;
  if (!pendingObs?.ok) {
    await save(f);
    return hold(f, "GateClosed", `pending updates cannot be read: ${pendingObs?.message ?? "not observed"}`);
  }
  const changes = pendingObs.value.changes;
  s.pendingPackages = changes.map((c) => ({
    name: c.package,
    ...(c.oldVersion ? { from: c.oldVersion } : {}),
    to: c.newVersion,
  }));
  const policy = f.plan.spec.reboot.policy;
  const rebootNeeded = policy === "Always" || (policy === "IfRequired" && reboot.ok && reboot.value.needed);
  if (changes.length === 0 && !(policy === "IfRequired" && reboot.ok && reboot.value.needed)) {
    s.finishedAt = isoAt(f.deps.clock);
    setPhase(f, "Skipped", "up to date: no pending updates and no reboot needed");
    await save(f);
    await record(f, "preflight", "skipped", "node is up to date");
    return {};
  }
  // Gates are judged when it is this node's turn: while another node is out, "all nodes online"
  // is false for everyone, and that is waiting, not a block.
  const turn = await f.mayStartDisruption();
  if (!turn.ok) {
    await save(f);
    return hold(f, "WaitingForTurn", turn.message);
  }
  const closed = gates.filter((g) => !g.passed);
  if (closed.length > 0) {
    const message = `gates closed: ${closed.map((g) => `${g.name} (${g.message})`).join("; ")}`;
    setPhase(f, "Blocked", message);
    await save(f);
    await record(f, "preflight", "blocked", message);
    return { requeueAfter: f.deps.timing.waitMs };
  }
  const notYet = await mayStart(f, "the upgrade", parseDuration(f.plan.spec.upgrade.timeout));
  if (notYet) return notYet;
  if (changes.length === 0) {
    // Nothing to install, but the node runs an older kernel than it would boot: reboot only.
    s.rebootDecision = { required: true, reasons: reboot.ok ? [...reboot.value.reasons] : [] };
    setPhase(f, rebootNeeded ? "Evacuating" : "Verifying", "no packages to install; a reboot is needed");
    await save(f);
    return { requeueAfter: 0 };
  }
  const id = jobId(f.hp, "upgrade");
  s.currentStep = {
    name: "upgrade",
    id,
    startedAt: isoAt(f.deps.clock),
    timeout: f.plan.spec.upgrade.timeout,
  };
  setPhase(f, "Upgrading", `upgrading ${changes.length} package(s)`);
  await save(f);
  await record(f, "upgrade", "started", `upgrading ${changes.length} package(s)`, { jobId: id });
  return { requeueAfter: 0 };
}

async function upgrading(f: Flow): Promise<StepResult> {
  const s = status(f);
  const id = s.currentStep?.id ?? jobId(f.hp, "upgrade");
  const exec = node(f);
  const job = await jobStatus(exec, id, { logLines: 20 });
  if (job.state === "unknown") {
    // Recorded but not yet started (or the controller died between the two): start it. startJob
    // refuses an id that ever ran, so this never runs an upgrade twice.
    if (f.halt) return hold(f, f.halt.reason, `${f.halt.message}; upgrade not started`);
    await startJob(exec, id, upgradeJobArgv(f.plan), {
      timeoutMs: parseDuration(f.plan.spec.upgrade.timeout),
    });
    return { requeueAfter: f.deps.timing.pollMs };
  }
  if (job.state === "running") return { requeueAfter: f.deps.timing.pollMs };
  if (job.state !== "exited" || job.exitCode !== 0) {
    const tail = job.log.slice(-5).join(" | ");
    fail(
      f,
      job.state === "timed-out" ? "UpgradeTimedOut" : "UpgradeFailed",
      `upgrade job ${id} ${job.state}${job.exitCode !== undefined ? ` with exit code ${job.exitCode}` : ""}: ${tail}`,
    );
    await save(f);
    await record(f, "upgrade", "failed", s.message);
    return {};
  }
  // Prove the upgrade: nothing is pending any more, and see whether a reboot is needed now.
  const o = await observeNode(exec, f.hp.spec.host, { pendingUpdates: true });
  const left = o.pendingUpdates?.ok ? o.pendingUpdates.value.changes : undefined;
  if (left === undefined) return { requeueAfter: f.deps.timing.pollMs };
  s.upgradedPackages = (s.pendingPackages ?? []).filter((p) => !left.some((l) => l.package === p.name));
  const policy = f.plan.spec.reboot.policy;
  const reboot = o.reboot;
  if (policy === "IfRequired" && !reboot.ok)
    return hold(f, "GateClosed", `cannot tell whether a reboot is needed: ${reboot.message}`);
  const needed = policy === "Always" || (policy === "IfRequired" && reboot.ok && reboot.value.needed);
  s.rebootDecision = {
    required: needed,
    reasons:
      policy === "Always"
        ? ["reboot policy Always"]
        : policy === "Never"
          ? ["reboot policy Never"]
          : reboot.ok
            ? [...reboot.value.reasons]
            : [],
  };
  delete s.currentStep;
  setPhase(
    f,
    needed ? "Evacuating" : "Verifying",
    needed ? `upgraded; reboot needed: ${s.rebootDecision.reasons.join("; ")}` : "upgraded; no reboot needed",
  );
  await save(f);
  await record(
    f,
    "upgrade",
    "done",
    `${s.upgradedPackages.length} package(s) upgraded${left.length ? `, ${left.length} still pending` : ""}`,
    {
      rebootRequired: needed,
    },
  );
  return { requeueAfter: 0 };
}

function migrationJobId(f: Flow, m: Migration, back: boolean): string {
  return jobId(f.hp, `${back ? "back" : "mig"}-${m.vmid}`);
}

async function startMigration(f: Flow, m: Migration, back: boolean): Promise<void> {
  const source = f.access.node(m.from);
  if (m.mode === "ha") {
    const r = await source.exec(haMigrateArgv(m.type, m.vmid, m.to), { timeoutMs: 60_000 });
    if (r.exitCode !== 0)
      throw new RetryableError(
        "MigrationFailed",
        `ha-manager migrate ${m.vmid} ${m.to} failed: ${r.stderr.trim()}`,
      );
    return;
  }
  const argv =
    m.type === "qemu"
      ? qmMigrateArgv(m.vmid, m.to, {
          online: m.mode === "online",
          withLocalDisks: m.withLocalDisks === true,
        })
      : pctMigrateArgv(m.vmid, m.to, {
          restart: true,
          timeoutSec: Math.ceil(parseDuration(f.plan.spec.evacuation.containerShutdownTimeout) / 1000),
        });
  await startJob(source, migrationJobId(f, m, back), argv, {
    timeoutMs: parseDuration(f.plan.spec.evacuation.timeout),
  });
}

/**
 * Drives a list of migrations: at most `maxParallelMigrations` running, each recorded Running before
 * it is started, each proven Done by the guest running on its target.
 */
async function driveMigrations(
  f: Flow,
  list: Migration[],
  back: boolean,
): Promise<"done" | "working" | { failed: string }> {
  const { obs } = await observeClusterVia(f.access, back ? undefined : f.hp.spec.host);
  if (!obs.resources.ok) return "working";
  const where = new Map(obs.resources.value.guests.map((g) => [g.vmid, g]));
  let changed = false;
  for (const m of list.filter((x) => x.state === "Running")) {
    const g = where.get(m.vmid);
    if (g && g.node === m.to && (g.status === "running" || m.mode === "offline")) {
      m.state = "Done";
      m.finishedAt = isoAt(f.deps.clock);
      changed = true;
      await record(f, back ? "migrate-back" : "migrate", "done", `${m.type} ${m.vmid} ${m.from} -> ${m.to}`, {
        vmid: m.vmid,
        mode: m.mode,
      });
      continue;
    }
    if (m.mode !== "ha") {
      const job = await jobStatus(f.access.node(m.from), migrationJobId(f, m, back), { logLines: 5 });
      if (job.state === "unknown" && !f.halt) await startMigration(f, m, back);
      else if (
        job.state === "failed" ||
        job.state === "timed-out" ||
        (job.state === "exited" && job.exitCode !== 0)
      ) {
        m.state = "Failed";
        m.message = job.log.slice(-3).join(" | ");
        changed = true;
      }
    } else {
      // HA moves the guest itself; if HA is not moving it (the request was recorded but never sent,
      // e.g. the controller died in between), ask again: HA refuses a guest already on its target.
      const service = obs.haManager.ok
        ? obs.haManager.value.services[`${m.type === "qemu" ? "vm" : "ct"}:${m.vmid}`]
        : undefined;
      const moving = service?.state === "migrate" || service?.state === "relocate";
      if (!moving && g?.node !== m.to && !f.halt) {
        await startMigration(f, m, back).catch((err: unknown) =>
          f.deps.log.warn(
            { vmid: m.vmid, err: errorMessage(err) },
            "HA migration request not accepted; will check again",
          ),
        );
      }
    }
  }
  const failed = list.find((m) => m.state === "Failed");
  if (failed) {
    if (changed) await save(f);
    return {
      failed: `migration of ${failed.type} ${failed.vmid} to ${failed.to} failed: ${failed.message ?? ""}`,
    };
  }
  const running = list.filter((m) => m.state === "Running").length;
  const max = f.plan.spec.evacuation.maxParallelMigrations;
  const next = list.filter((m) => m.state === "Planned").slice(0, Math.max(0, max - running));
  if (next.length > 0 && !f.halt) {
    // Intent first: a crash after this write finds Running and checks the world before starting again.
    for (const m of next) {
      m.state = "Running";
      m.startedAt = isoAt(f.deps.clock);
    }
    await save(f);
    for (const m of next) {
      await record(
        f,
        back ? "migrate-back" : "migrate",
        "started",
        `${m.type} ${m.vmid} ${m.from} -> ${m.to} (${m.mode})`,
        { vmid: m.vmid, mode: m.mode },
      );
      await startMigration(f, m, back);
    }
    return "working";
  }
  if (changed) await save(f);
  return list.every((m) => m.state === "Done") ? "done" : "working";
}

async function evacuating(f: Flow): Promise<StepResult> {
  const s = status(f);
  const host = f.hp.spec.host;
  const ev = f.plan.spec.evacuation;
  if (!s.migrations || s.migrations.length === 0) {
    if (s.currentStep?.name !== "evacuate") {
      const expected = parseDuration(ev.timeout) + parseDuration(f.plan.spec.reboot.returnTimeout);
      const notYet = await mayStart(f, "the evacuation and reboot", expected);
      if (notYet) return notYet;
      // Plan before anything moves.
      const { via, obs } = await observeClusterVia(f.access, host);
      if (!obs.resources.ok)
        return hold(f, "GateClosed", `cluster resources cannot be read: ${obs.resources.message}`);
      const guests = await guestsOn(f.access, via, obs.resources.value, host);
      const maintenance = obs.haManager.ok ? obs.haManager.value.nodeStatus : {};
      const nodes: EvacNode[] = obs.resources.value.nodes.map((n) => ({
        name: n.node,
        online: n.status === "online",
        maintenance: maintenance[n.node] === "maintenance",
        memTotalBytes: n.maxmem ?? 0,
        memUsedBytes: n.mem ?? 0,
        patched: f.patchedNodes.includes(n.node),
      }));
      const plan = planEvacuation(host, guests, nodes, {
        mode: ev.mode,
        headroomPercent: ev.memoryHeadroomPercent,
        withLocalDisks: ev.withLocalDisks,
        unmovable: ev.unmovable,
      });
      if (plan.blocked) {
        setPhase(f, "Blocked", plan.blocked.message);
        s.lastError = {
          reason: plan.blocked.reason,
          message: plan.blocked.message,
          at: isoAt(f.deps.clock),
          retryable: true,
        };
        await save(f);
        await record(f, "evacuate", "blocked", plan.blocked.message);
        return { requeueAfter: f.deps.timing.waitMs };
      }
      s.migrations = plan.moves.map((m) => ({
        vmid: m.vmid,
        type: m.type,
        from: host,
        to: m.to,
        mode: m.mode,
        state: "Planned" as const,
        ...(m.withLocalDisks ? { withLocalDisks: true } : {}),
      }));
      s.currentStep = { name: "evacuate", id: jobId(f.hp, "evacuate"), startedAt: isoAt(f.deps.clock) };
      setPhase(
        f,
        "Evacuating",
        `moving ${plan.moves.length} guest(s) off ${host}${plan.shutdowns.length ? `, shutting down ${plan.shutdowns.length}` : ""}`,
      );
      await save(f);
      await record(f, "evacuate", "started", s.message, {
        moves: plan.moves.map((m) => `${m.vmid}->${m.to}`),
        stays: plan.stays.map((x) => x.vmid),
      });
      if (plan.moves.length === 0) return { requeueAfter: 0 };
    }
  }
  const result = await driveMigrations(f, s.migrations ?? [], false);
  if (typeof result === "object") {
    fail(f, "MigrationFailed", result.failed);
    await save(f);
    await record(f, "evacuate", "failed", result.failed);
    return {};
  }
  if (result === "working") return { requeueAfter: f.deps.timing.pollMs };
  // Verify the node is empty of running guests that were to move.
  const { obs } = await observeClusterVia(f.access, host);
  if (!obs.resources.ok) return { requeueAfter: f.deps.timing.pollMs };
  const moved = new Set((s.migrations ?? []).map((m) => m.vmid));
  const stillHere = obs.resources.value.guests.filter(
    (g) => g.node === host && g.status === "running" && moved.has(g.vmid),
  );
  if (stillHere.length > 0)
    return hold(f, "Evacuating", `waiting for ${stillHere.map((g) => g.vmid).join(", ")} to leave ${host}`);
  s.migrationsToUndo = f.plan.spec.evacuation.migrateBack
    ? (s.migrations ?? [])
        .map((m) => ({
          ...m,
          from: m.to,
          to: m.from,
          state: "Planned" as const,
          startedAt: undefined,
          finishedAt: undefined,
        }))
        .map(stripUndefined)
    : [];
  delete s.currentStep;
  setPhase(f, "Rebooting", `${host} is empty; rebooting`);
  await save(f);
  await record(f, "evacuate", "done", `${moved.size} guest(s) moved off ${host}`);
  return { requeueAfter: 0 };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

async function rebooting(f: Flow): Promise<StepResult> {
  const s = status(f);
  const exec = node(f);
  if (!s.bootIdBeforeReboot) {
    const notYet = await mayStart(f, "the reboot", parseDuration(f.plan.spec.reboot.returnTimeout));
    if (notYet) return notYet;
    const o = await observeNode(exec, f.hp.spec.host);
    if (!o.bootId.ok)
      return hold(f, "GateClosed", `boot_id cannot be read before the reboot: ${o.bootId.message}`);
    // What will prove the reboot, written before the reboot is issued.
    s.bootIdBeforeReboot = o.bootId.value;
    s.currentStep = { name: "reboot", id: jobId(f.hp, "reboot"), startedAt: isoAt(f.deps.clock) };
    await save(f);
    await f.deps.notifier.notify({
      plan: { kind: "HostPatchPlan", name: f.plan.metadata.name, namespace: f.plan.metadata.namespace ?? "" },
      event: "BeforeReboot",
      severity: "warning",
      cluster: f.cluster.metadata.name,
      hosts: [f.hp.spec.host],
      summary: `rebooting ${f.hp.spec.host}: ${(s.rebootDecision?.reasons ?? []).join("; ") || "reboot policy"}`,
      details: {
        version: o.pveVersion.ok ? o.pveVersion.value.version : undefined,
        runningKernel: o.runningKernel.ok ? o.runningKernel.value : undefined,
        zfs: o.zfs.ok ? o.zfs.value.state : undefined,
        rootUsedPercent: o.rootDisk.ok ? o.rootDisk.value.usedPercent : undefined,
        packages: (s.upgradedPackages ?? []).map((p) => `${p.name} ${p.from ?? ""} -> ${p.to}`),
        reasons: s.rebootDecision?.reasons ?? [],
        intent: `reboot ${f.hp.spec.host}, then prove its return by a new boot_id`,
      },
    });
  }
  if (f.halt) return hold(f, f.halt.reason, `${f.halt.message}; reboot not issued`);
  s.rebootIssuedAt = isoAt(f.deps.clock);
  setPhase(
    f,
    "AwaitingReturn",
    `reboot issued; waiting for ${f.hp.spec.host} to come back with a new boot_id`,
  );
  await save(f);
  await issueReboot(f, exec);
  await record(f, "reboot", "started", "reboot issued", { bootIdBeforeReboot: s.bootIdBeforeReboot });
  return { requeueAfter: f.deps.timing.pollMs };
}

async function issueReboot(f: Flow, exec: HostExec): Promise<void> {
  try {
    await exec.exec(REBOOT_ARGV, { timeoutMs: 20_000 });
  } catch (err) {
    // The SSH connection dropping under a reboot is expected; the boot_id decides what happened.
    f.deps.log.debug(
      { node: f.hp.spec.host, err: errorMessage(err) },
      "reboot command ended without a reply (expected)",
    );
  }
}

async function awaitingReturn(f: Flow): Promise<StepResult> {
  const s = status(f);
  const host = f.hp.spec.host;
  const issuedAt = Date.parse(s.rebootIssuedAt ?? new Date(now(f)).toISOString());
  const deadline = issuedAt + parseDuration(f.plan.spec.reboot.returnTimeout);
  let bootId: string | undefined;
  try {
    const o = await observeNode(node(f), host);
    bootId = o.bootId.ok ? o.bootId.value : undefined;
  } catch {
    bootId = undefined; // down: keep waiting
  }
  if (bootId !== undefined && bootId === s.bootIdBeforeReboot) {
    // Same boot: the reboot never happened (e.g. the controller died between intent and command).
    // The unchanged boot_id proves it, so issuing it again cannot reboot the node twice.
    if (now(f) - issuedAt > f.deps.timing.rebootGraceMs && !f.halt) {
      s.rebootIssuedAt = isoAt(f.deps.clock);
      await save(f);
      await record(f, "reboot", "started", "boot_id unchanged: reboot issued again");
      await issueReboot(f, node(f));
    }
  }
  if (bootId === undefined || bootId === s.bootIdBeforeReboot) {
    if (now(f) > deadline) {
      fail(
        f,
        "NodeDidNotReturn",
        `${host} did not come back within ${f.plan.spec.reboot.returnTimeout} of the reboot (boot_id ${bootId === undefined ? "unreadable" : "unchanged"})`,
      );
      await save(f);
      await record(f, "return", "failed", s.message);
      return {};
    }
    return { requeueAfter: f.deps.timing.pollMs };
  }
  if (!s.bootIdAfterReboot) {
    s.bootIdAfterReboot = bootId;
    await save(f);
    await record(f, "reboot", "done", "boot_id changed", {
      bootIdBeforeReboot: s.bootIdBeforeReboot,
      bootIdAfterReboot: bootId,
    });
  }
  // Back means: online in the cluster, the cluster quorate, its services active, HA LRM active.
  const { obs } = await observeClusterVia(f.access, undefined);
  const problems: string[] = [];
  if (!obs.quorum.ok) problems.push(`cluster status unreadable: ${obs.quorum.message}`);
  else {
    const me = obs.quorum.value.nodes.find((n) => n.name === host);
    if (obs.quorum.value.kind === "cluster" && !obs.quorum.value.quorate) {
      fail(
        f,
        "QuorumLost",
        `the cluster lost quorum while ${host} was rebooting; nothing else will be touched`,
      );
      await save(f);
      await record(f, "return", "failed", s.message);
      return {};
    }
    if (me && !me.online) problems.push(`${host} is not online in /cluster/status yet`);
  }
  const units = f.plan.spec.verify.services ?? PVE_SERVICES;
  let services: Record<string, string> = {};
  try {
    services = await new PveReader(node(f)).servicesActive(units);
  } catch (err) {
    problems.push(`services cannot be read yet: ${errorMessage(err)}`);
  }
  const inactive = units.filter((u) => services[u] !== "active");
  if (inactive.length) problems.push(`services not active yet: ${inactive.join(", ")}`);
  if (obs.haManager.ok && obs.haManager.value.configured && f.plan.spec.verify.haLrmActive !== false) {
    const lrm = obs.haManager.value.lrm[host];
    if (lrm && lrm.state !== undefined && lrm.state !== "active" && lrm.state !== "wait_for_agent_lock") {
      problems.push(`HA LRM is ${lrm.state}`);
    }
  }
  if (problems.length > 0) {
    if (now(f) > deadline) {
      fail(f, "NodeDidNotReturn", `${host} rebooted but is not back in service: ${problems.join("; ")}`);
      await save(f);
      await record(f, "return", "failed", s.message);
      return {};
    }
    return hold(f, "AwaitingReturn", `${host} rebooted; ${problems.join("; ")}`);
  }
  setPhase(f, "Verifying", `${host} is back (boot_id ${bootId.slice(0, 8)}…)`);
  delete s.currentStep;
  await save(f);
  await record(f, "return", "done", `${host} is back`);
  return { requeueAfter: 0 };
}

async function verifying(f: Flow): Promise<StepResult> {
  const s = status(f);
  const o = await observeNode(node(f), f.hp.spec.host, { pendingUpdates: true });
  if (
    s.rebootDecision?.required &&
    o.reboot.ok &&
    o.reboot.value.needed &&
    o.reboot.value.bootKernel !== o.reboot.value.runningKernel
  ) {
    fail(
      f,
      "OldKernel",
      `${f.hp.spec.host} came back on kernel ${o.reboot.value.runningKernel}, not ${o.reboot.value.bootKernel ?? "the newest"}`,
    );
    await save(f);
    await record(f, "verify", "failed", s.message);
    return {};
  }
  const left = o.pendingUpdates?.ok ? o.pendingUpdates.value.changes.length : undefined;
  setPhase(f, "Restoring", `verified${left ? ` (${left} package(s) newly pending)` : ""}; returning guests`);
  await save(f);
  await record(
    f,
    "verify",
    "done",
    s.message,
    o.runningKernel.ok ? { runningKernel: o.runningKernel.value } : {},
  );
  return { requeueAfter: 0 };
}

async function restoring(f: Flow): Promise<StepResult> {
  const s = status(f);
  const host = f.hp.spec.host;
  if (f.plan.spec.evacuation.mode === "HAMaintenance") {
    const r = await node(f).exec(nodeMaintenanceArgv(host, false), { timeoutMs: 60_000 });
    if (r.exitCode !== 0) return hold(f, "Restoring", `leaving HA maintenance failed: ${r.stderr.trim()}`);
  }
  const undo = s.migrationsToUndo ?? [];
  if (undo.length > 0) {
    const result = await driveMigrations(f, undo, true);
    if (typeof result === "object") {
      // The node is patched; a guest that cannot go back stays where it is, and says so.
      s.message = `patched, but ${result.failed}`;
      s.lastError = {
        reason: "MigrateBackFailed",
        message: result.failed,
        at: isoAt(f.deps.clock),
        retryable: false,
      };
    } else if (result === "working") return { requeueAfter: f.deps.timing.pollMs };
  }
  s.finishedAt = isoAt(f.deps.clock);
  setPhase(
    f,
    "Succeeded",
    `patched${s.rebootDecision?.required ? " and rebooted once" : ""}${s.lastError?.reason === "MigrateBackFailed" ? `; ${s.lastError.message}` : ""}`,
  );
  await save(f);
  await record(f, "patch", "done", s.message);
  return {};
}

async function blocked(f: Flow): Promise<StepResult> {
  // Blocked is re-evaluated from the start: nothing moved, so Preflight decides again.
  const s = status(f);
  if (f.halt) return { requeueAfter: f.deps.timing.waitMs };
  if ((s.migrations ?? []).some((m) => m.state !== "Planned")) return { requeueAfter: f.deps.timing.waitMs };
  setPhase(f, "Preflight", `re-checking after: ${s.message ?? "blocked"}`);
  await save(f);
  return { requeueAfter: 0 };
}

const HANDLERS: Record<HostPatchPhase, (f: Flow) => Promise<StepResult>> = {
  Pending: pending,
  Preflight: preflight,
  Blocked: blocked,
  Skipped: () => Promise.resolve({}),
  Upgrading: upgrading,
  Evacuating: evacuating,
  Rebooting: rebooting,
  AwaitingReturn: awaitingReturn,
  Verifying: verifying,
  Restoring: restoring,
  Succeeded: () => Promise.resolve({}),
  Failed: () => Promise.resolve({}),
};

/** Runs the handler of the current phase once. Retryable errors propagate to the queue's backoff. */
export async function step(f: Flow): Promise<StepResult> {
  const phase = status(f).phase ?? "Pending";
  try {
    return await HANDLERS[phase](f);
  } catch (err) {
    if (err instanceof RefitError && !err.retryable) {
      fail(f, err.reason, err.message);
      await save(f);
      await record(f, phase, "failed", err.message);
      return {};
    }
    throw err;
  }
}
