/**
 * Every phase of the host patch flow as a table: (spec, status, observation) → transition. The
 * crash rows are the states a kill leaves behind: the intent recorded, the action not yet seen.
 */
import { describe, expect, it } from "vitest";
import { PHASES } from "../../controller/host-patch/flow.js";
import { statusAfter } from "../../controller/host-patch/apply.js";
import { commandLine, jobId, migrationJobId, shutdownJobId } from "../../controller/host-patch/commands.js";
import type { Observation, PatchContext } from "../../controller/host-patch/observation.js";
import type { Migration, Shutdown, Transition } from "../../controller/host-patch/transition.js";
import {
  change,
  cluster,
  context,
  evacGuest,
  guest,
  job,
  node,
  NOW,
  obs,
  planSpec,
  status,
  task,
  tasks,
  summary,
} from "./support.js";

interface Row {
  name: string;
  ctx: Partial<PatchContext>;
  obs?: Observation;
  expect: Record<string, unknown>;
  /** Extra checks on the transition (the intent it records). */
  check?: (t: Transition, ctx: PatchContext) => void;
}

function decide(row: Row): { t: Transition; ctx: PatchContext } {
  const ctx = context(row.ctx);
  const phase = PHASES[ctx.status.phase ?? "Pending"];
  return { t: phase.decide(ctx, row.obs ?? obs()), ctx };
}

function table(rows: Row[]): void {
  it.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    const { t, ctx } = decide(row);
    expect(summary(t)).toMatchObject(row.expect);
    row.check?.(t, ctx);
  });
}

const patchOf = (t: Transition) => (t.kind === "idle" ? {} : (t.patch ?? {}));
const HALT = { reason: "KillSwitch", message: "/etc/refit/STOP exists" };
const UPGRADE_ID = jobId(context().hp, "upgrade");

const healthyCluster = cluster({ guests: [guest(100, "pve1"), guest(200, "pve1")] });

describe("Pending", () => {
  table([
    {
      name: "starts the cycle's preflight and clears the last cycle's steps, keeping an unfinished HA maintenance",
      ctx: {
        status: status({
          phase: "Pending",
          bootIdBeforeReboot: "old",
          migrations: [{ vmid: 1, type: "qemu", from: "a", to: "b", mode: "online", state: "Done" }],
          haMaintenance: { requestedAt: "x", cycle: "c0", guests: [] },
        }),
      },
      expect: { kind: "goto", phase: "Preflight" },
      check: (t) => {
        expect(patchOf(t)).toMatchObject({ migrations: [], bootIdBeforeReboot: undefined });
        expect("haMaintenance" in patchOf(t)).toBe(false);
      },
    },
  ]);
});

describe("Preflight", () => {
  const pending = node({ pending: [change("pve-manager", "8.4.2")] });
  table([
    {
      name: "kill switch: nothing starts",
      ctx: { halt: HALT },
      expect: { kind: "wait", reason: "KillSwitch" },
    },
    {
      name: "not its turn: waits without reading the node",
      ctx: { turn: { ok: false, message: "pve2 is out" } },
      expect: { kind: "wait", reason: "WaitingForTurn" },
      check: (_t, ctx) => expect(PHASES.Preflight.needs(ctx)).toEqual({}),
    },
    {
      name: "not its turn: says what the cluster last published about the node",
      ctx: {
        turn: { ok: false, message: "pve2 is out" },
        published: { pendingUpdates: 3, rebootRequired: true, observedAt: "2026-12-01T01:58:00.000Z" },
      },
      expect: { kind: "wait", reason: "WaitingForTurn" },
      check: (t) =>
        expect(t.kind === "wait" && t.message).toBe(
          "pve2 is out; 3 update(s) pending, reboot needed as of 2026-12-01T01:58:00.000Z",
        ),
    },
    {
      name: "a package index that could not be refreshed holds (a stale index looks up to date)",
      obs: obs({
        index: { ok: false, reason: "RepositoryUnreachable", message: "W: Failed to fetch" },
        node: { ok: true, value: node() },
        cluster: healthyCluster,
      }),
      ctx: {},
      expect: { kind: "wait", reason: "RepositoryUnreachable" },
    },
    {
      name: "pending updates that cannot be read close the gate",
      obs: obs({ node: { ok: true, value: node({ pending: null }) }, cluster: healthyCluster }),
      ctx: {},
      expect: { kind: "wait", reason: "GateClosed" },
    },
    {
      name: "up to date: Skipped, never drained",
      obs: obs({ node: { ok: true, value: node() }, cluster: healthyCluster }),
      ctx: {},
      expect: { kind: "goto", phase: "Skipped" },
    },
    {
      name: "nothing to install but an older kernel runs: reboot only",
      obs: obs({ node: { ok: true, value: node({ boot: "6.8.12-10-pve" }) }, cluster: healthyCluster }),
      ctx: {},
      expect: { kind: "goto", phase: "Evacuating" },
      check: (t) => expect(patchOf(t).rebootDecision?.required).toBe(true),
    },
    {
      name: "a closed gate blocks before anything changes",
      obs: obs({
        node: { ok: true, value: node({ pending: [change("a", "2")], rootPercent: 97 }) },
        cluster: healthyCluster,
      }),
      ctx: {},
      expect: { kind: "goto", phase: "Blocked" },
      check: (t) => expect(patchOf(t).gates?.find((g) => g.name === "rootFsUsage")?.passed).toBe(false),
    },
    {
      name: "outside its window: waits with the reason",
      obs: obs({ node: { ok: true, value: pending }, cluster: healthyCluster }),
      ctx: {
        schedule: {
          windows: [{ name: "w", schedule: "0 3 * * *", duration: "1h", timeZone: "UTC" }],
          blackouts: [],
          force: false,
        },
      },
      expect: { kind: "wait", reason: "OutsideWindow" },
    },
    {
      name: "pending packages: the upgrade job is recorded and started",
      obs: obs({ node: { ok: true, value: pending }, cluster: healthyCluster }),
      ctx: {},
      expect: { kind: "act", phase: "Upgrading" },
      check: (t) => {
        expect(patchOf(t).currentStep?.id).toBe(UPGRADE_ID);
        const a = t.kind === "act" ? t.actions[0] : undefined;
        expect(a?.type === "run" && commandLine(a.command)).toMatch(
          /^systemd-run --unit refit-hp-[0-9a-f]{12}-upgrade .*dist-upgrade/,
        );
      },
    },
    {
      name: "a node in HA maintenance this plan did not enable is blocked and reported",
      obs: obs({
        node: { ok: true, value: pending },
        cluster: cluster({ haNodes: { pve1: "maintenance" }, lrmMode: { pve1: "maintenance" } }),
      }),
      ctx: {},
      expect: { kind: "goto", phase: "Blocked" },
      check: (t) => expect(patchOf(t).lastError?.reason).toBe("InHaMaintenance"),
    },
    {
      name: "HA maintenance an earlier cycle of this plan left is finished first",
      obs: obs({
        node: { ok: true, value: pending },
        cluster: cluster({ haNodes: { pve1: "maintenance" }, lrmMode: { pve1: "maintenance" } }),
      }),
      ctx: {
        status: status({ haMaintenance: { requestedAt: "2026-11-01T00:00:00Z", cycle: "c0", guests: [] } }),
      },
      expect: { kind: "act", commands: ["pve1: ha-manager crm-command node-maintenance disable pve1"] },
    },
  ]);
});

describe("Upgrading", () => {
  const upgrading = status({
    phase: "Upgrading",
    currentStep: { name: "upgrade", id: UPGRADE_ID, startedAt: "t" },
    pendingPackages: [{ name: "pve-manager", to: "8.4.2" }],
  });
  const jobs = (j: ReturnType<typeof job>) => ({ [UPGRADE_ID]: j });
  table([
    {
      name: "crash: intent recorded, job never started → start it (startJob refuses an id that ran)",
      ctx: { status: upgrading },
      obs: obs({ jobs: jobs(job("unknown")) }),
      expect: { kind: "act", commands: [expect.stringMatching(/^pve1: sh -c .*dist-upgrade/)] },
    },
    {
      name: "crash, but the kill switch is set: the upgrade is not started",
      ctx: { status: upgrading, halt: HALT },
      obs: obs({ jobs: jobs(job("unknown")) }),
      expect: { kind: "wait", reason: "KillSwitch" },
    },
    {
      name: "running: poll",
      ctx: { status: upgrading },
      obs: obs({ jobs: jobs(job("running")) }),
      expect: { kind: "wait", reason: "Upgrading" },
    },
    {
      name: "failed: Failed UpgradeFailed",
      ctx: { status: upgrading },
      obs: obs({ jobs: jobs(job("exited", 100, ["E: broken"])) }),
      expect: { kind: "fail", reason: "UpgradeFailed" },
    },
    {
      name: "timed out: Failed UpgradeTimedOut",
      ctx: { status: upgrading },
      obs: obs({ jobs: jobs(job("timed-out")) }),
      expect: { kind: "fail", reason: "UpgradeTimedOut" },
    },
    {
      name: "done and a newer kernel installed: Evacuating with the reason",
      ctx: { status: upgrading },
      obs: obs({ jobs: jobs(job("exited", 0)), node: { ok: true, value: node({ boot: "6.8.12-10-pve" }) } }),
      expect: { kind: "goto", phase: "Evacuating" },
      check: (t) =>
        expect(patchOf(t)).toMatchObject({
          upgradedPackages: [{ name: "pve-manager" }],
          rebootDecision: { required: true },
        }),
    },
    {
      name: "done with reboot policy Never: Verifying",
      ctx: { status: upgrading, spec: planSpec({ reboot: { policy: "Never" } }) },
      obs: obs({ jobs: jobs(job("exited", 0)), node: { ok: true, value: node({ boot: "6.8.12-10-pve" }) } }),
      expect: { kind: "goto", phase: "Verifying" },
    },
  ]);
  it("reads the pending list only after the job ended well", () => {
    const ctx = context({ status: upgrading });
    expect(PHASES.Upgrading.needs(ctx)).toEqual({ jobs: [{ on: "pve1", id: UPGRADE_ID }] });
    expect(PHASES.Upgrading.needs(ctx, obs({ jobs: jobs(job("running")) }))).toEqual({
      jobs: [{ on: "pve1", id: UPGRADE_ID }],
    });
    expect(PHASES.Upgrading.needs(ctx, obs({ jobs: jobs(job("exited", 0)) }))).toEqual({
      node: { pendingUpdates: true },
    });
  });
});

const mig = (vmid: number, state: Migration["state"], over: Partial<Migration> = {}): Migration => ({
  vmid,
  type: vmid >= 200 ? "lxc" : "qemu",
  from: "pve1",
  to: "pve2",
  mode: vmid >= 200 ? "restart" : "online",
  state,
  ...over,
});
/** When a Running migration was begun: before the tasks `task()` builds (NOW - 60 s). */
const BEGUN = new Date(NOW - 120_000).toISOString();
const evacuating = (over: Parameters<typeof status>[0] = {}) =>
  status({
    phase: "Evacuating",
    currentStep: { name: "evacuate", id: "c1-evacuate", startedAt: "t" },
    rebootDecision: { required: true, reasons: ["kernel"] },
    ...over,
  });
const down = (vmid: number, state: Shutdown["state"]): Shutdown => ({
  vmid,
  type: vmid >= 200 ? "lxc" : "qemu",
  state,
});

describe("Evacuating: the plan, before anything moves", () => {
  const planning = status({ phase: "Evacuating" });
  const guests = [evacGuest(100), evacGuest(101, { haManaged: true }), evacGuest(200)];
  const withHa = cluster({
    guests: [guest(100, "pve1"), guest(101, "pve1", { hastate: "started" }), guest(200, "pve1")],
    haNodes: { pve1: "online", pve2: "online", pve3: "online" },
  });
  table([
    {
      name: "Migrate: every guest planned with a target, nothing started yet",
      ctx: { status: planning },
      obs: obs({ cluster: withHa, guests }),
      expect: { kind: "act", phase: "Evacuating", commands: [] },
      check: (t) =>
        // Containers leave first (the longest move first: in-flight.ts leaveOrder).
        expect(patchOf(t).migrations?.map((m) => [m.vmid, m.mode, m.state])).toEqual([
          [200, "restart", "Planned"],
          [100, "online", "Planned"],
          [101, "ha", "Planned"],
        ]),
    },
    {
      name: "HAMaintenance: the request is recorded and sent; HA guests are left to HA, the others migrate",
      ctx: { status: planning, spec: planSpec({ evacuation: { mode: "HAMaintenance" } }) },
      obs: obs({ cluster: withHa, guests }),
      expect: {
        kind: "act",
        phase: "Evacuating",
        commands: ["pve1: ha-manager crm-command node-maintenance enable pve1"],
      },
      check: (t) => {
        expect(patchOf(t).haMaintenance).toMatchObject({
          cycle: "c1",
          guests: [101],
          requestedAt: new Date(NOW).toISOString(),
        });
        expect(patchOf(t).migrations?.map((m) => m.vmid)).toEqual([200, 100]);
      },
    },
    {
      name: "Shutdown: every running guest is recorded to be shut down",
      ctx: { status: planning, spec: planSpec({ evacuation: { mode: "Shutdown" } }) },
      obs: obs({ cluster: withHa, guests: [...guests, evacGuest(102, { status: "stopped" })] }),
      expect: { kind: "act", phase: "Evacuating" },
      check: (t) => {
        expect(patchOf(t).shutdowns?.map((s) => [s.vmid, s.state])).toEqual([
          [100, "Planned"],
          [101, "Planned"],
          [200, "Planned"],
        ]);
        expect(patchOf(t).migrations).toEqual([]);
      },
    },
    {
      name: "an unmovable guest with policy Block: Blocked, nothing recorded to move",
      ctx: { status: planning },
      obs: obs({ cluster: withHa, guests: [evacGuest(100, { localDevices: ["hostpci0"] })] }),
      expect: { kind: "goto", phase: "Blocked" },
      check: (t) => expect(patchOf(t).migrations).toBeUndefined(),
    },
    {
      name: "the kill switch: the evacuation is not planned",
      ctx: { status: planning, halt: HALT },
      expect: { kind: "wait", reason: "KillSwitch" },
    },
  ]);
});

describe("Evacuating: driving the plan", () => {
  const here = (vmids: number[], over: Partial<Parameters<typeof guest>[2]> = {}) =>
    vmids.map((v) => guest(v, "pve1", over));
  const there = (vmids: number[]) => vmids.map((v) => guest(v, "pve2"));
  table([
    {
      name: "starts at most maxParallelMigrations, each recorded Running first",
      ctx: {
        status: evacuating({ migrations: [mig(100, "Planned"), mig(101, "Planned"), mig(102, "Planned")] }),
      },
      obs: obs({ cluster: cluster({ guests: here([100, 101, 102]) }) }),
      expect: {
        kind: "act",
        commands: [
          expect.stringMatching(/qm migrate 100 pve2 --online 1/),
          expect.stringMatching(/qm migrate 101 pve2 --online 1/),
        ],
      },
      check: (t) =>
        expect(patchOf(t).migrations?.map((m) => m.state)).toEqual(["Running", "Running", "Planned"]),
    },
    {
      name: "crash: Running recorded, job never started → started again",
      ctx: { status: evacuating({ migrations: [mig(100, "Running")] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: { [migrationJobId(context().hp, 100, false)]: job("unknown") },
      }),
      expect: { kind: "act", commands: [expect.stringMatching(/qm migrate 100 pve2/)] },
    },
    {
      name: "on its target, running, but locked `migrate` with its task still running: not Done; the UPID is recorded",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN })] }) },
      obs: obs({
        cluster: cluster({ guests: [guest(100, "pve2", { lock: "migrate" })] }),
        tasks: tasks({ on: "pve1", vmid: 100, tasks: [task("qmigrate", 100)] }),
      }),
      expect: { kind: "wait" },
      check: (t) =>
        expect(patchOf(t).migrations?.[0]).toMatchObject({
          state: "Running",
          taskId: task("qmigrate", 100).upid,
        }),
    },
    {
      name: "on its target and unlocked, but its task still runs: not Done",
      ctx: {
        status: evacuating({
          migrations: [mig(100, "Running", { startedAt: BEGUN, taskId: task("qmigrate", 100).upid })],
        }),
      },
      obs: obs({
        cluster: cluster({ guests: there([100]) }),
        tasks: tasks({ on: "pve1", vmid: 100, tasks: [task("qmigrate", 100)] }),
      }),
      expect: { kind: "wait" },
      check: (t) => expect(patchOf(t).migrations ?? []).toEqual([]),
    },
    {
      name: "its task ended OK but the guest is still locked on the target: not Done",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN })] }) },
      obs: obs({
        cluster: cluster({ guests: [guest(100, "pve2", { lock: "migrate" })] }),
        tasks: tasks({ on: "pve1", vmid: 100, tasks: [task("qmigrate", 100, { status: "OK" })] }),
      }),
      expect: { kind: "wait" },
      check: (t) => expect(patchOf(t).migrations?.[0]?.state).toBe("Running"),
    },
    {
      name: "on its target with no task of this migration (only one from before it began): not Done",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN })] }) },
      obs: obs({
        cluster: cluster({ guests: there([100]) }),
        tasks: tasks({
          on: "pve1",
          vmid: 100,
          tasks: [task("qmigrate", 100, { status: "OK", startedAt: NOW - 86_400_000 })],
        }),
      }),
      expect: { kind: "wait" },
      check: (t) => expect(patchOf(t).migrations?.[0]?.state ?? "Running").toBe("Running"),
    },
    {
      name: "its task ended with an error: Failed, even with the guest on its target",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN })] }) },
      obs: obs({
        cluster: cluster({ guests: [guest(100, "pve2", { lock: "migrate" })] }),
        tasks: tasks({
          on: "pve1",
          vmid: 100,
          tasks: [task("qmigrate", 100, { status: "unexpected status" })],
        }),
      }),
      expect: { kind: "fail", reason: "MigrationFailed" },
    },
    {
      name: "an HA move is proven by the LRM's qmigrate task on the source: OK and unlocked → Done",
      ctx: {
        status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN, mode: "ha" })] }),
      },
      obs: obs({
        cluster: cluster({ guests: there([100]) }),
        tasks: tasks({
          on: "pve1",
          vmid: 100,
          tasks: [task("qmigrate", 100, { status: "OK" }), task("hamigrate", 100, { status: "OK" })],
        }),
      }),
      expect: { kind: "goto", phase: "Rebooting" },
    },
    {
      name: "an HA move sent moments ago that HA has not taken yet (its next round): not asked again",
      ctx: {
        status: evacuating({
          migrations: [mig(100, "Running", { startedAt: new Date(NOW - 1000).toISOString(), mode: "ha" })],
        }),
      },
      obs: obs({ cluster: cluster({ guests: here([100], { hastate: "started" }) }) }),
      expect: { kind: "wait" },
    },
    {
      name: "an HA move HA has not taken after waitMs (a crash lost it): asked again, and not before waitMs more",
      ctx: {
        status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN, mode: "ha" })] }),
      },
      obs: obs({ cluster: cluster({ guests: here([100], { hastate: "started" }) }) }),
      expect: { kind: "act", commands: ["pve1: ha-manager migrate vm:100 pve2"] },
      check: (t) => expect(patchOf(t).migrations?.[0]?.retryAt).toBe(new Date(NOW + 30_000).toISOString()),
    },
    {
      name: "task OK and the guest unlocked on its target: Done; the node is empty → Rebooting with the way back planned",
      ctx: {
        status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN }), mig(200, "Done")] }),
      },
      obs: obs({
        cluster: cluster({ guests: there([100, 200]) }),
        tasks: tasks({ on: "pve1", vmid: 100, tasks: [task("qmigrate", 100, { status: "OK" })] }),
      }),
      expect: { kind: "goto", phase: "Rebooting" },
      check: (t) =>
        // Containers go back first (a restart migration outlasts a live one: in-flight.ts returnOrder).
        expect(patchOf(t).migrationsToUndo?.map((m) => [m.vmid, m.from, m.to, m.state])).toEqual([
          [200, "pve2", "pve1", "Planned"],
          [100, "pve2", "pve1", "Planned"],
        ]),
    },
    {
      name: "a failed migration job fails the host (the plan stalls)",
      ctx: { status: evacuating({ migrations: [mig(100, "Running")] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: { [migrationJobId(context().hp, 100, false)]: job("exited", 255, ["migration aborted"]) },
      }),
      expect: { kind: "fail", reason: "MigrationFailed" },
    },
    {
      name: "HA maintenance requested, not yet in effect: waits (no second request yet)",
      ctx: {
        status: evacuating({
          haMaintenance: { requestedAt: new Date(NOW - 1000).toISOString(), cycle: "c1", guests: [101] },
        }),
      },
      obs: obs({
        cluster: cluster({ guests: here([101], { hastate: "started" }), haNodes: { pve1: "online" } }),
      }),
      expect: { kind: "wait", reason: "Evacuating" },
    },
    {
      name: "crash: HA maintenance recorded long ago and never took effect → asked again",
      ctx: {
        status: evacuating({
          haMaintenance: { requestedAt: "2026-11-30T00:00:00Z", cycle: "c1", guests: [101] },
        }),
      },
      obs: obs({
        cluster: cluster({ guests: here([101], { hastate: "started" }), haNodes: { pve1: "online" } }),
      }),
      expect: { kind: "act", commands: ["pve1: ha-manager crm-command node-maintenance enable pve1"] },
    },
    {
      name: "the LRM shows maintenance while an HA guest still runs on the node: not yet evacuated",
      ctx: {
        status: evacuating({
          haMaintenance: { requestedAt: new Date(NOW - 1000).toISOString(), cycle: "c1", guests: [101] },
        }),
      },
      obs: obs({
        cluster: cluster({
          guests: here([101], { hastate: "started" }),
          haNodes: { pve1: "maintenance" },
          lrmMode: { pve1: "maintenance" },
        }),
      }),
      expect: { kind: "wait", reason: "Evacuating" },
    },
    {
      name: "maintenance in effect and the HA guests gone: on to the reboot",
      ctx: {
        status: evacuating({
          haMaintenance: { requestedAt: new Date(NOW - 1000).toISOString(), cycle: "c1", guests: [101] },
        }),
      },
      obs: obs({
        cluster: cluster({
          guests: there([101]),
          haNodes: { pve1: "maintenance" },
          lrmMode: { pve1: "maintenance" },
        }),
      }),
      expect: { kind: "goto", phase: "Rebooting" },
      check: (t) => expect(patchOf(t).haMaintenance?.enteredAt).toBe(new Date(NOW).toISOString()),
    },
    {
      name: "after the migrations, planned guests are shut down with --forceStop 1",
      ctx: { status: evacuating({ shutdowns: [down(100, "Planned"), down(200, "Planned")] }) },
      obs: obs({ cluster: cluster({ guests: here([100, 200]) }) }),
      expect: {
        kind: "act",
        commands: [
          expect.stringMatching(/^pve1: qm shutdown 100 --timeout 180 --forceStop 1$/),
          expect.stringMatching(/^pve1: pct shutdown 200 --timeout 180 --forceStop 1$/),
        ],
      },
      check: (t) =>
        expect(patchOf(t).shutdowns?.map((s) => s.state)).toEqual(["ShuttingDown", "ShuttingDown"]),
    },
    {
      name: "a guest shut down is Stopped; a forced stop is said so",
      ctx: { status: evacuating({ shutdowns: [down(100, "ShuttingDown")] }) },
      obs: obs({
        cluster: cluster({ guests: here([100], { status: "stopped" }) }),
        jobs: {
          [shutdownJobId(context().hp, 100)]: job("exited", 0, [
            "VM still running - terminating now with SIGTERM",
          ]),
        },
      }),
      expect: { kind: "goto", phase: "Rebooting" },
      check: (t) => expect(patchOf(t).shutdowns?.[0]).toMatchObject({ state: "Stopped", forced: true }),
    },
    {
      name: "a shutdown that ended with the guest still running fails the host",
      ctx: { status: evacuating({ shutdowns: [down(100, "ShuttingDown")] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: { [shutdownJobId(context().hp, 100)]: job("exited", 255, ["VM 100 is locked (backup)"]) },
      }),
      expect: { kind: "fail", reason: "ShutdownFailed" },
    },
    {
      name: "a shutdown refused while pmxcfs restarted is asked again later as try 2, not failed",
      ctx: { status: evacuating({ shutdowns: [down(100, "ShuttingDown")] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: {
          [shutdownJobId(context().hp, 100)]: job("exited", 255, [
            "ipcc_send_rec[1] failed: Connection refused",
            "Unable to load access control list: Connection refused",
          ]),
        },
      }),
      expect: { kind: "wait", reason: "Evacuating" },
      check: (t) =>
        expect(patchOf(t).shutdowns?.[0]).toMatchObject({
          state: "Planned",
          attempt: 2,
          retryAt: new Date(NOW + 15_000).toISOString(),
        }),
    },
    {
      name: "past its retry time the shutdown is asked again as a new job",
      ctx: {
        status: evacuating({
          shutdowns: [{ ...down(100, "Planned"), attempt: 2, retryAt: new Date(NOW - 1).toISOString() }],
        }),
      },
      obs: obs({ cluster: cluster({ guests: here([100]) }) }),
      expect: { kind: "act" },
      check: (t) =>
        expect(t.kind === "act" && t.actions[0]?.type === "run" && t.actions[0].command.job?.id).toBe(
          shutdownJobId(context().hp, 100, 2),
        ),
    },
  ]);
});

describe("Rebooting and AwaitingReturn", () => {
  const awaiting = (over: Parameters<typeof status>[0] = {}) =>
    status({
      phase: "AwaitingReturn",
      bootIdBeforeReboot: "boot-a",
      rebootIssuedAt: new Date(NOW - 60_000).toISOString(),
      ...over,
    });
  const back = cluster({ haNodes: { pve1: "online" }, lrmMode: { pve1: "active" } });
  const active = {
    ok: true as const,
    value: {
      "pve-cluster": "active",
      pvedaemon: "active",
      pveproxy: "active",
      pvestatd: "active",
      corosync: "active",
    },
  };
  table([
    {
      name: "the kill switch: no reboot",
      ctx: { status: status({ phase: "Rebooting" }), halt: HALT },
      obs: obs({ node: { ok: true, value: node() } }),
      expect: { kind: "wait", reason: "KillSwitch" },
    },
    {
      name: "a task still runs on the node (a migration's cleanup tail): no reboot, waits TasksRunning",
      ctx: { status: status({ phase: "Rebooting" }) },
      obs: obs({
        node: { ok: true, value: node({ bootId: "boot-a", activeTasks: [task("qmigrate", 100)] }) },
      }),
      expect: { kind: "wait", reason: "TasksRunning" },
    },
    {
      name: "boot_id recorded with the intent, the notice sent, then the reboot",
      ctx: { status: status({ phase: "Rebooting" }) },
      obs: obs({ node: { ok: true, value: node({ bootId: "boot-a" }) } }),
      expect: {
        kind: "act",
        phase: "AwaitingReturn",
        commands: ["notify BeforeReboot", "pve1: systemctl reboot"],
      },
      check: (t) =>
        expect(patchOf(t)).toMatchObject({
          bootIdBeforeReboot: "boot-a",
          rebootIssuedAt: new Date(NOW).toISOString(),
        }),
    },
    {
      name: "unchanged boot_id within the grace: waits",
      ctx: { status: awaiting() },
      obs: obs({ node: { ok: true, value: node({ bootId: "boot-a" }) } }),
      expect: { kind: "wait", reason: "AwaitingReturn" },
    },
    {
      name: "crash: reboot recorded but never issued (boot_id unchanged past the grace) → issued again",
      ctx: { status: awaiting({ rebootIssuedAt: new Date(NOW - 200_000).toISOString() }) },
      obs: obs({ node: { ok: true, value: node({ bootId: "boot-a" }) } }),
      expect: { kind: "act", commands: ["pve1: systemctl reboot"] },
    },
    {
      name: "down past the return timeout: Failed NodeDidNotReturn",
      ctx: { status: awaiting({ rebootIssuedAt: new Date(NOW - 16 * 60_000).toISOString() }) },
      obs: obs({ node: { ok: false, reason: "ConnectFailed", message: "refused" } }),
      expect: { kind: "fail", reason: "NodeDidNotReturn" },
    },
    {
      name: "back but the cluster lost quorum: Failed QuorumLost",
      ctx: { status: awaiting() },
      obs: obs({
        node: { ok: true, value: node({ bootId: "boot-b" }) },
        cluster: cluster({ quorate: false }),
        services: active,
      }),
      expect: { kind: "fail", reason: "QuorumLost" },
    },
    {
      name: "back but services not active yet: waits, the new boot_id recorded",
      ctx: { status: awaiting() },
      obs: obs({
        node: { ok: true, value: node({ bootId: "boot-b" }) },
        cluster: back,
        services: { ok: true, value: { ...active.value, pveproxy: "activating" } },
      }),
      expect: { kind: "wait", reason: "AwaitingReturn" },
      check: (t) => expect(patchOf(t).bootIdAfterReboot).toBe("boot-b"),
    },
    {
      name: "back in service: Verifying",
      ctx: { status: awaiting() },
      obs: obs({ node: { ok: true, value: node({ bootId: "boot-b" }) }, cluster: back, services: active }),
      expect: { kind: "goto", phase: "Verifying" },
    },
  ]);
});

describe("cluster services restarting after the upgrade", () => {
  const IPCC = [
    "ipcc_send_rec[1] failed: Connection refused",
    "ipcc_send_rec[2] failed: Connection refused",
    "ipcc_send_rec[3] failed: Connection refused",
    "Unable to load access control list: Connection refused",
  ];
  const guests = [evacGuest(100)];
  const here = (vmids: number[]) => vmids.map((v) => guest(v, "pve1"));
  table([
    {
      name: "the node is outside the membership (corosync rejoining): no evacuation plan yet, waits NodeRejoining",
      ctx: { status: status({ phase: "Evacuating" }) },
      obs: obs({ cluster: cluster({ guests: [guest(100, "pve1")], online: { pve1: false } }), guests }),
      expect: { kind: "wait", reason: "NodeRejoining" },
      check: (t) => expect(patchOf(t).migrations).toBeUndefined(),
    },
    {
      name: "a migration refused with ipcc_send_rec errors is planned again as try 2, after a pause, not failed",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN })] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: { [migrationJobId(context().hp, 100, false)]: job("exited", 255, IPCC) },
      }),
      expect: { kind: "wait", reason: "Evacuating" },
      check: (t) =>
        expect(patchOf(t).migrations?.[0]).toMatchObject({
          state: "Planned",
          attempt: 2,
          retryAt: new Date(NOW + 15_000).toISOString(),
        }),
    },
    {
      name: "a migration refused with 'cluster not ready - no quorum?' is retried too",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN, attempt: 2 })] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: {
          [migrationJobId(context().hp, 100, false, 2)]: job("exited", 255, [
            "cluster not ready - no quorum?",
          ]),
        },
      }),
      expect: { kind: "wait", reason: "Evacuating" },
      check: (t) => expect(patchOf(t).migrations?.[0]).toMatchObject({ state: "Planned", attempt: 3 }),
    },
    {
      name: "the retry waits for its time, then starts as a new job",
      ctx: {
        status: evacuating({
          migrations: [mig(100, "Planned", { attempt: 2, retryAt: new Date(NOW + 1000).toISOString() })],
        }),
      },
      obs: obs({ cluster: cluster({ guests: here([100]) }) }),
      expect: { kind: "wait", reason: "Evacuating" },
    },
    {
      name: "past its retry time it is started again",
      ctx: {
        status: evacuating({
          migrations: [mig(100, "Planned", { attempt: 2, retryAt: new Date(NOW - 1000).toISOString() })],
        }),
      },
      obs: obs({ cluster: cluster({ guests: here([100]) }) }),
      expect: { kind: "act", commands: ["pve1: qm migrate 100 pve2 --online 1"] },
      check: (t) =>
        expect(t.kind === "act" && t.actions[0]?.type === "run" && t.actions[0].command.job?.id).toBe(
          migrationJobId(context().hp, 100, false, 2),
        ),
    },
    {
      name: "refused on every one of its tries: the host fails MigrationFailed",
      ctx: { status: evacuating({ migrations: [mig(100, "Running", { startedAt: BEGUN, attempt: 5 })] }) },
      obs: obs({
        cluster: cluster({ guests: here([100]) }),
        jobs: { [migrationJobId(context().hp, 100, false, 5)]: job("exited", 255, IPCC) },
      }),
      expect: { kind: "fail", reason: "MigrationFailed" },
    },
  ]);
});

describe("quorum watched while the node is out", () => {
  const lost = cluster({ quorate: false, online: { pve1: false, pve2: false }, local: "pve3" });
  const down = { ok: false as const, reason: "ConnectFailed", message: "refused" };
  const awaiting = status({
    phase: "AwaitingReturn",
    bootIdBeforeReboot: "boot-a",
    rebootIssuedAt: new Date(NOW - 60_000).toISOString(),
  });
  it.each(["Evacuating", "Rebooting", "AwaitingReturn", "Verifying", "Restoring"] as const)(
    "%s reads the cluster on every reconcile",
    (phase) => {
      const ctx = context({ status: status({ phase }) });
      expect(PHASES[phase].needs(ctx)).toMatchObject({ watchQuorum: true });
    },
  );
  it("Upgrading does not (the node is still in service)", () => {
    const ctx = context({ status: status({ phase: "Upgrading" }) });
    expect(PHASES.Upgrading.needs(ctx)).not.toHaveProperty("watchQuorum");
  });
  table([
    {
      name: "another node went down while this one reboots (still down): Failed QuorumLost, naming the votes",
      ctx: { status: awaiting },
      obs: obs({ node: down, cluster: lost }),
      expect: { kind: "fail", reason: "QuorumLost" },
      check: (t) =>
        expect(t.kind === "fail" && t.message).toMatch(
          /cluster lab lost quorum while pve1 was rebooting \(3 of 3 votes, quorum needs 2; offline: pve1, pve2\); no new step/,
        ),
    },
    {
      name: "quorum lost before the reboot is issued: no reboot",
      ctx: { status: status({ phase: "Rebooting" }) },
      obs: obs({ node: { ok: true, value: node({ bootId: "boot-a" }) }, cluster: lost }),
      expect: { kind: "fail", reason: "QuorumLost" },
    },
    {
      name: "quorum lost while guests move back: no further migration",
      ctx: { status: status({ phase: "Restoring", rebootDecision: { required: true, reasons: ["k"] } }) },
      obs: obs({ node: { ok: true, value: node() }, cluster: lost }),
      expect: { kind: "fail", reason: "QuorumLost" },
    },
    {
      name: "read on a node that is itself outside the membership (rejoining): not taken as quorum lost",
      ctx: { status: awaiting },
      obs: obs({
        node: down,
        cluster: cluster({ quorate: false, online: { pve1: false, pve2: false }, local: "pve2" }),
      }),
      expect: { kind: "wait", reason: "AwaitingReturn" },
    },
    {
      name: "the cluster cannot be read from any node: the phase decides (still waiting for the return)",
      ctx: { status: awaiting },
      obs: obs({ node: down }),
      expect: { kind: "wait", reason: "AwaitingReturn" },
    },
    {
      name: "requireQuorum off: the watch is off too",
      ctx: {
        status: awaiting,
        cluster: {
          metadata: { name: "lab" },
          spec: {
            ...context().cluster.spec,
            safety: { ...context().cluster.spec.safety, requireQuorum: false },
          },
        },
      },
      obs: obs({ node: down, cluster: lost }),
      expect: { kind: "wait", reason: "AwaitingReturn" },
    },
  ]);
});

describe("Verifying, Restoring, Blocked", () => {
  const restoring = (over: Parameters<typeof status>[0] = {}) =>
    status({ phase: "Restoring", rebootDecision: { required: true, reasons: ["k"] }, ...over });
  const inMaintenance = cluster({ haNodes: { pve1: "maintenance" }, lrmMode: { pve1: "maintenance" } });
  const rec = {
    requestedAt: "2026-12-01T01:00:00Z",
    cycle: "c1",
    guests: [101],
    enteredAt: "2026-12-01T01:10:00Z",
  };
  table([
    {
      name: "came back on the old kernel: Failed OldKernel",
      ctx: { status: status({ phase: "Verifying", rebootDecision: { required: true, reasons: ["k"] } }) },
      obs: obs({ node: { ok: true, value: node({ boot: "6.8.12-10-pve" }) } }),
      expect: { kind: "fail", reason: "OldKernel" },
    },
    {
      name: "verified: Restoring",
      ctx: { status: status({ phase: "Verifying" }) },
      obs: obs({ node: { ok: true, value: node() } }),
      expect: { kind: "goto", phase: "Restoring" },
    },
    {
      name: "HA maintenance is not left while pve-ha-lrm is not active",
      ctx: { status: restoring({ haMaintenance: rec }) },
      obs: obs({ cluster: inMaintenance, services: { ok: true, value: { "pve-ha-lrm": "activating" } } }),
      expect: { kind: "wait", reason: "Restoring" },
    },
    {
      name: "pve-ha-lrm active: maintenance disabled, the request recorded",
      ctx: { status: restoring({ haMaintenance: rec }) },
      obs: obs({ cluster: inMaintenance, services: { ok: true, value: { "pve-ha-lrm": "active" } } }),
      expect: { kind: "act", commands: ["pve1: ha-manager crm-command node-maintenance disable pve1"] },
      check: (t) => expect(patchOf(t).haMaintenance?.disableRequestedAt).toBe(new Date(NOW).toISOString()),
    },
    {
      name: "disable requested, the node still in maintenance: waits for the mode to read online",
      ctx: {
        status: restoring({
          haMaintenance: { ...rec, disableRequestedAt: new Date(NOW - 1000).toISOString() },
        }),
      },
      obs: obs({ cluster: inMaintenance, services: { ok: true, value: { "pve-ha-lrm": "active" } } }),
      expect: { kind: "wait", reason: "Restoring" },
    },
    {
      name: "the node reads online: maintenance left",
      ctx: {
        status: restoring({
          haMaintenance: { ...rec, disableRequestedAt: new Date(NOW - 1000).toISOString() },
        }),
      },
      obs: obs({
        cluster: cluster({ haNodes: { pve1: "online" }, lrmMode: { pve1: "active" } }),
        services: { ok: true, value: { "pve-ha-lrm": "active" } },
      }),
      expect: { kind: "goto", phase: "Restoring" },
      check: (t) => expect(patchOf(t).haMaintenance?.leftAt).toBe(new Date(NOW).toISOString()),
    },
    {
      name: "guests shut down for the reboot are started again (whatever their onboot)",
      ctx: { status: restoring({ shutdowns: [down(100, "Stopped"), down(200, "Stopped")] }) },
      obs: obs({
        cluster: cluster({
          guests: [guest(100, "pve1", { status: "stopped" }), guest(200, "pve1", { status: "stopped" })],
        }),
      }),
      expect: { kind: "act", commands: ["pve1: qm start 100", "pve1: pct start 200"] },
    },
    {
      name: "every started guest runs: Succeeded",
      ctx: {
        status: restoring({
          shutdowns: [{ ...down(100, "Starting"), startedAgainAt: new Date(NOW).toISOString() }],
        }),
      },
      obs: obs({ cluster: cluster({ guests: [guest(100, "pve1")] }) }),
      expect: { kind: "goto", phase: "Succeeded" },
      check: (t) => expect(patchOf(t).shutdowns?.[0]?.state).toBe("Started"),
    },
    {
      name: "migrations back are driven like the ones out",
      ctx: { status: restoring({ migrationsToUndo: [mig(100, "Planned", { from: "pve2", to: "pve1" })] }) },
      obs: obs({ cluster: cluster({ guests: [guest(100, "pve2")] }) }),
      expect: { kind: "act", commands: [expect.stringMatching(/^pve2: qm migrate 100 pve1 --online 1/)] },
    },
    {
      name: "a migration back is proven by its task on the node it left: running there → not Done",
      ctx: {
        status: restoring({
          migrationsToUndo: [mig(100, "Running", { from: "pve2", to: "pve1", startedAt: BEGUN })],
        }),
      },
      obs: obs({
        cluster: cluster({ guests: [guest(100, "pve1", { lock: "migrate" })] }),
        tasks: tasks({ on: "pve2", vmid: 100, tasks: [task("qmigrate", 100, { on: "pve2" })] }),
      }),
      expect: { kind: "wait" },
      check: (t) => expect(patchOf(t).migrationsToUndo?.[0]?.state).toBe("Running"),
    },
    {
      name: "a migration back whose task ended OK, the guest unlocked at home: Succeeded",
      ctx: {
        status: restoring({
          migrationsToUndo: [mig(100, "Running", { from: "pve2", to: "pve1", startedAt: BEGUN })],
        }),
      },
      obs: obs({
        cluster: cluster({ guests: [guest(100, "pve1")] }),
        tasks: tasks({ on: "pve2", vmid: 100, tasks: [task("qmigrate", 100, { on: "pve2", status: "OK" })] }),
      }),
      expect: { kind: "goto", phase: "Succeeded" },
    },
    {
      name: "Blocked with the kill switch: stays",
      ctx: { status: status({ phase: "Blocked", message: "gates closed" }), halt: HALT },
      expect: { kind: "wait" },
    },
    {
      name: "Blocked: re-checked from Preflight",
      ctx: { status: status({ phase: "Blocked", message: "gates closed" }) },
      expect: { kind: "goto", phase: "Preflight" },
    },
    {
      name: "Succeeded is terminal",
      ctx: { status: status({ phase: "Succeeded" }) },
      expect: { kind: "idle" },
    },
  ]);
});

describe("the applier's status (pure)", () => {
  it("derives the conditions from the phase in one place: Ready always, Reconciling and Stalled only when true", () => {
    const working = statusAfter(
      { phase: "Preflight" },
      { kind: "wait", reason: "WaitingForTurn", message: "pve2 is out" },
      3,
      NOW,
    );
    expect(working.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "False", "WaitingForTurn"],
      ["Reconciling", "True", "WaitingForTurn"],
    ]);
    const failed = statusAfter(
      working,
      { kind: "fail", reason: "NodeDidNotReturn", message: "gone" },
      3,
      NOW,
    );
    expect(failed.conditions?.map((c) => [c.type, c.status])).toEqual([
      ["Ready", "False"],
      ["Stalled", "True"],
    ]);
    expect(failed).toMatchObject({
      phase: "Failed",
      lastError: { reason: "NodeDidNotReturn", retryable: false },
      observedGeneration: 3,
    });
    const done = statusAfter(working, { kind: "goto", phase: "Succeeded", message: "patched" }, 3, NOW);
    expect(done.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([["Ready", "True", "Patched"]]);
  });

  it("removes a field the decision clears and keeps the rest", () => {
    const s = statusAfter(
      { phase: "Upgrading", currentStep: { name: "upgrade", id: "x", startedAt: "t" }, gates: [] },
      { kind: "goto", phase: "Verifying", message: "m", patch: { currentStep: undefined } },
      1,
      NOW,
    );
    expect("currentStep" in s).toBe(false);
    expect(s.gates).toEqual([]);
  });
});
