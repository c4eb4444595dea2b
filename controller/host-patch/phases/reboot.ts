/**
 * Rebooting and AwaitingReturn: the boot_id before the reboot is recorded with the intent, the
 * reboot is issued, and the return is proven by a new boot_id, the node online in a quorate cluster,
 * its services active and its HA LRM running. An unchanged boot_id after the grace period proves
 * the reboot never happened, so issuing it again cannot reboot the node twice.
 */
import { parseDuration } from "../../../src/api/primitives.js";
import { runningTasks, type NodeObservation } from "../../../src/pve/index.js";
import { rebootCommand } from "../commands.js";
import type { Needs, Observation, PatchContext } from "../observation.js";
import { act, fail, goto, poll, run, wait, type Action, type Transition } from "../transition.js";
import { iso, notNow } from "./gating.js";
import { isDone, nooutBeforeReboot } from "./ceph-noout.js";

export const PVE_SERVICES = ["pve-cluster", "pvedaemon", "pveproxy", "pvestatd", "corosync"];

export function rebootingNeeds(): Needs {
  return { node: { pendingUpdates: false }, ceph: true };
}

export function decideRebooting(ctx: PatchContext, obs: Observation): Transition {
  const notYet = notNow(ctx, "the reboot", parseDuration(ctx.spec.reboot.returnTimeout));
  if (notYet) return notYet;
  const node = obs.node?.ok ? obs.node.value : undefined;
  if (!node?.bootId.ok)
    return wait(
      "GateClosed",
      `boot_id cannot be read before the reboot: ${node && !node.bootId.ok ? node.bootId.message : obs.node?.ok === false ? obs.node.message : "not read"}`,
    );
  // A reboot kills every worker on the node: a migration in its cleanup tail leaves its guest
  // locked, a backup is cut. Nothing reboots while the node's active task list is not empty.
  if (!node.activeTasks.ok)
    return wait("TasksRunning", `the node's task list cannot be read: ${node.activeTasks.message}`);
  const tasks = runningTasks(node.activeTasks.value);
  if (tasks.length > 0)
    return wait(
      "TasksRunning",
      `waiting for ${tasks.length} task(s) on ${ctx.host} to end before the reboot: ${tasks
        .map((t) => `${t.type ?? "?"} ${t.id ?? ""}`.trim())
        .join(", ")}`,
    );
  const noout = nooutBeforeReboot(ctx, obs.ceph);
  if (!isDone(noout)) return noout;
  const before = ctx.status.bootIdBeforeReboot ?? node.bootId.value;
  const ceph = noout.patch.cephNoout ?? ctx.status.cephNoout;
  const cephNote = ceph?.setAt && !ceph.unsetAt ? `noout set on ${ctx.host}` : undefined;
  return act([beforeRebootNotice(ctx, node, cephNote), run(rebootCommand(ctx.host), "reboot")], {
    phase: "AwaitingReturn",
    message: `reboot issued; waiting for ${ctx.host} to come back with a new boot_id`,
    patch: {
      ...noout.patch,
      bootIdBeforeReboot: before,
      rebootIssuedAt: iso(ctx.now),
      currentStep: { name: "reboot", id: `${ctx.hp.spec.cycle}-reboot`, startedAt: iso(ctx.now) },
    },
    notes: [
      ...noout.notes,
      { step: "reboot", outcome: "started", message: "reboot issued", extra: { bootIdBeforeReboot: before } },
    ],
  });
}

function beforeRebootNotice(ctx: PatchContext, o: NodeObservation, ceph?: string): Action {
  const reasons = ctx.status.rebootDecision?.reasons ?? [];
  return {
    type: "notify",
    notice: {
      event: "BeforeReboot",
      severity: "warning",
      summary: `rebooting ${ctx.host}: ${reasons.join("; ") || "reboot policy"}`,
      details: {
        version: o.pveVersion.ok ? o.pveVersion.value.version : undefined,
        runningKernel: o.runningKernel.ok ? o.runningKernel.value : undefined,
        zfs: o.zfs.ok ? o.zfs.value.state : undefined,
        rootUsedPercent: o.rootDisk.ok ? o.rootDisk.value.usedPercent : undefined,
        packages: (ctx.status.upgradedPackages ?? []).map((p) => `${p.name} ${p.from ?? ""} -> ${p.to}`),
        reasons,
        ...(ceph ? { ceph } : {}),
        intent: `reboot ${ctx.host}, then prove its return by a new boot_id`,
      },
    },
  };
}

function services(ctx: PatchContext): readonly string[] {
  return ctx.spec.verify.services ?? PVE_SERVICES;
}

function newBootId(ctx: PatchContext, obs: Observation | undefined): string | undefined {
  const id = obs?.node?.ok && obs.node.value.bootId.ok ? obs.node.value.bootId.value : undefined;
  return id !== undefined && id !== ctx.status.bootIdBeforeReboot ? id : undefined;
}

export function awaitingReturnNeeds(ctx: PatchContext, obs?: Observation): Needs {
  if (!obs) return { node: { pendingUpdates: false, mayBeDown: true } };
  return newBootId(ctx, obs) ? { cluster: true, services: services(ctx) } : {};
}

export function decideAwaitingReturn(ctx: PatchContext, obs: Observation): Transition {
  const issuedAt = Date.parse(ctx.status.rebootIssuedAt ?? iso(ctx.now));
  const deadline = issuedAt + parseDuration(ctx.spec.reboot.returnTimeout);
  const bootId = newBootId(ctx, obs);
  if (bootId === undefined) {
    const same = obs.node?.ok && obs.node.value.bootId.ok;
    if (same && ctx.now - issuedAt > ctx.timing.rebootGraceMs && !ctx.halt)
      return act([run(rebootCommand(ctx.host), "reboot")], {
        patch: { rebootIssuedAt: iso(ctx.now) },
        notes: [{ step: "reboot", outcome: "started", message: "boot_id unchanged: reboot issued again" }],
      });
    if (ctx.now > deadline) {
      const message = `${ctx.host} did not come back within ${ctx.spec.reboot.returnTimeout} of the reboot (boot_id ${same ? "unchanged" : "unreadable"})`;
      return fail("NodeDidNotReturn", message, { notes: [{ step: "return", outcome: "failed", message }] });
    }
    return poll("AwaitingReturn", ctx.status.message ?? "waiting for the node to come back");
  }
  return decideBack(ctx, obs, bootId, deadline);
}

function decideBack(ctx: PatchContext, obs: Observation, bootId: string, deadline: number): Transition {
  const first = ctx.status.bootIdAfterReboot === undefined;
  const notes = first
    ? [
        {
          step: "reboot",
          outcome: "done" as const,
          message: "boot_id changed",
          extra: { bootIdBeforeReboot: ctx.status.bootIdBeforeReboot, bootIdAfterReboot: bootId },
        },
      ]
    : [];
  const patch = { bootIdAfterReboot: bootId };
  const problems = returnProblems(ctx, obs);
  if (problems === "QuorumLost") {
    const message = `the cluster lost quorum while ${ctx.host} was rebooting; nothing else will be touched`;
    return fail("QuorumLost", message, {
      patch,
      notes: [...notes, { step: "return", outcome: "failed", message }],
    });
  }
  if (problems.length > 0) {
    if (ctx.now > deadline) {
      const message = `${ctx.host} rebooted but is not back in service: ${problems.join("; ")}`;
      return fail("NodeDidNotReturn", message, {
        patch,
        notes: [...notes, { step: "return", outcome: "failed", message }],
      });
    }
    return wait("AwaitingReturn", `${ctx.host} rebooted; ${problems.join("; ")}`, {
      patch,
      notes,
      requeue: "poll",
    });
  }
  return goto("Verifying", `${ctx.host} is back (boot_id ${bootId.slice(0, 8)}…)`, {
    patch: { ...patch, currentStep: undefined },
    notes: [...notes, { step: "return", outcome: "done", message: `${ctx.host} is back` }],
  });
}

/** Back means: online in the cluster, the cluster quorate, its services active, HA LRM active. */
function returnProblems(ctx: PatchContext, obs: Observation): string[] | "QuorumLost" {
  const problems: string[] = [];
  const quorum = obs.cluster?.quorum;
  if (!quorum?.ok)
    problems.push(`cluster status unreadable: ${quorum?.ok === false ? quorum.message : "not read"}`);
  else {
    if (quorum.value.kind === "cluster" && !quorum.value.quorate) return "QuorumLost";
    const me = quorum.value.nodes.find((n) => n.name === ctx.host);
    if (me && !me.online) problems.push(`${ctx.host} is not online in /cluster/status yet`);
  }
  const units = services(ctx);
  if (!obs.services?.ok)
    problems.push(
      `services cannot be read yet: ${obs.services?.ok === false ? obs.services.message : "not read"}`,
    );
  else {
    const inactive = units.filter((u) => obs.services?.ok && obs.services.value[u] !== "active");
    if (inactive.length) problems.push(`services not active yet: ${inactive.join(", ")}`);
  }
  const ha = obs.cluster?.haManager;
  if (ha?.ok && ha.value.configured && ctx.spec.verify.haLrmActive !== false) {
    const lrm = ha.value.lrm[ctx.host];
    // In maintenance the LRM is meant to idle; Restoring takes it out once pve-ha-lrm runs.
    const fine = ["active", "wait_for_agent_lock", ...(ctx.status.haMaintenance ? ["maintenance"] : [])];
    if (lrm?.state !== undefined && !fine.includes(lrm.state)) problems.push(`HA LRM is ${lrm.state}`);
  }
  return problems;
}
