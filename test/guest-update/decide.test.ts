/** The guest update phase decisions, table by table: (spec, status, observation) → transition. */
import { describe, expect, it } from "vitest";
import { jobId, restartJobId, rollbackJobId } from "../../controller/guest-update/commands.js";
import { PHASES } from "../../controller/guest-update/flow.js";
import { decideOperatorRollback } from "../../controller/guest-update/phases/operator-rollback.js";
import { decideStopAgain, stopsAgain } from "../../controller/guest-update/phases/stop-again.js";
import type { GuestContext, Observation } from "../../controller/guest-update/observation.js";
import { plannedSteps } from "../../controller/guest-update/runner-steps.js";
import type { Transition } from "../../controller/guest-update/transition.js";
import { context, disk, fakePlugin, guest, health, iso, job, NOW, obs, policy, summary } from "./support.js";

const decide = (ctx: GuestContext, o: Observation): Transition => PHASES[ctx.status.phase].decide(ctx, o);

const listing = (lines: string): Observation["listing"] => ({
  0: {
    ok: true,
    value: {
      applies: lines !== "",
      pending: lines
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [p, f, t] = l.split(" ");
          return { package: p ?? "", from: f ?? "", to: t ?? "" };
        }),
    },
  },
});
const ready = obs({ guest: guest(), disk: disk(), listing: listing("curl 7.88.1-10 7.88.1-10+deb12u8") });

describe("Pending and Preflight", () => {
  it("Pending records when the update started and moves to Preflight", () => {
    const t = decide(context({ status: { phase: "Pending" } }), obs());
    expect(summary(t)).toBe("goto Preflight");
    expect(t.kind !== "idle" && t.patch?.startedAt).toBe(iso(NOW));
  });

  const pre = { phase: "Preflight" as const };
  it.each<[string, GuestContext, Observation, string]>([
    ["all gates open, updates pending: backup next", context({ status: pre }), ready, "goto BackingUp"],
    [
      "nothing pending: Skipped, no backup",
      context({ status: pre }),
      obs({ guest: guest(), disk: disk(), listing: listing("") }),
      "goto Skipped",
    ],
    [
      "a Proxmox lock waits",
      context({ status: pre }),
      obs({ guest: guest({ lock: "backup" }) }),
      "wait GuestLocked",
    ],
    [
      "a lock beyond timeouts.preflight blocks",
      context({ status: { ...pre, phaseSince: iso(NOW - 6 * 60_000) } }),
      obs({ guest: guest({ lock: "backup" }) }),
      "goto Blocked GuestLocked",
    ],
    [
      "stopped with requireRunning: Blocked",
      context({ status: pre }),
      obs({ guest: guest({ running: false }) }),
      "goto Blocked ContainerStopped",
    ],
    [
      "stopped without requireRunning: started",
      context({ status: pre, policy: policy({ preflight: { requireRunning: false } }) }),
      obs({ guest: guest({ running: false }) }),
      "act start 110",
    ],
    [
      "node load per core above maxLoad waits",
      context({ status: pre, policy: policy({ preflight: { maxLoad: 1 } }) }),
      { ...ready, load: { ok: true, value: { perCore: 2.5, cores: 4 } } },
      "wait NodeBusy",
    ],
    [
      "unreadable load closes the gate",
      context({ status: pre, policy: policy({ preflight: { maxLoad: 1 } }) }),
      { ...ready, load: { ok: false, reason: "Unreachable", message: "timeout" } },
      "wait GateClosed",
    ],
    ["disk nearly full waits", context({ status: pre }), { ...ready, disk: disk(0.5) }, "wait DiskFull"],
    [
      "repository unreachable waits",
      context({ status: pre }),
      {
        ...ready,
        listing: {
          0: {
            ok: false,
            reason: "RepositoryUnreachable",
            message: "Temporary failure resolving deb.debian.org",
          },
        },
      },
      "wait RepositoryUnreachable",
    ],
    [
      "a failing preflight check waits",
      context({
        status: pre,
        policy: policy({ preflight: { checks: [{ type: "http", name: "web", url: "http://10.0.0.5/" }] } }),
      }),
      { ...ready, probes: [health("web", false)] },
      "wait PreflightCheckFailed",
    ],
    [
      "custom commands disabled: Blocked",
      context({
        status: pre,
        policy: policy({
          runners: [{ type: "custom", steps: [{ name: "s", apply: ["/usr/local/bin/upd"] }] }],
        }),
      }),
      ready,
      "goto Blocked CustomCommandRefused",
    ],
    [
      "a hook off the allowlist: Blocked",
      context({
        status: pre,
        policy: policy({
          customCommands: { enabled: true, allowlist: ["/usr/bin/true"] },
          hooks: { preUpdate: [{ name: "drain", argv: ["/usr/local/bin/drain"] }] },
        }),
      }),
      ready,
      "goto Blocked CustomCommandRefused",
    ],
    [
      "an allowed hook: Blocked, this version does not run hooks",
      context({
        status: pre,
        policy: policy({
          customCommands: { enabled: true, allowlist: ["/usr/local/bin/drain"] },
          hooks: { preUpdate: [{ name: "drain", argv: ["/usr/local/bin/drain"] }] },
        }),
      }),
      ready,
      "goto Blocked HooksUnsupported",
    ],
    [
      "a runner type without a plugin: Blocked",
      context({
        status: pre,
        policy: policy({
          runners: [{ type: "custom", steps: [{ name: "s", apply: ["/usr/local/bin/upd"] }] }],
          customCommands: { enabled: true, allowlist: ["/usr/local/bin/upd"] },
        }),
      }),
      ready,
      "goto Blocked RunnerUnavailable",
    ],
    [
      "a halt waits before anything changes",
      context({
        status: pre,
        policy: policy({ preflight: { requireRunning: false } }),
        halt: { reason: "KillSwitch", message: "STOP" },
      }),
      obs({ guest: guest({ running: false }) }),
      "wait KillSwitch",
    ],
  ])("%s", (_name, ctx, o, want) => {
    expect(summary(decide(ctx, o))).toBe(want);
  });

  it("records each runner's pending updates before the backup; a runner that does not apply is Skipped", () => {
    const ctx = context({
      status: pre,
      policy: policy({ runners: [{ type: "os" }, { type: "pip", venvs: ["/opt/app"] }] }),
    });
    const t = decide(ctx, {
      ...ready,
      listing: { ...listing("curl 1 2"), 1: { ok: true, value: { applies: false, pending: [] } } },
    });
    expect(t.kind !== "idle" && t.patch?.runners?.map((r) => [r.name, r.pending.length, r.result])).toEqual([
      ["os", 1, undefined],
      ["pip", 0, "Skipped"],
    ]);
  });
});

describe("BackingUp", () => {
  const snapId = jobId(context().gu, "snapshot");
  const recorded = {
    phase: "BackingUp" as const,
    currentStep: { name: "Snapshot", id: "refit-apps-20261201015900", startedAt: iso(NOW - 60_000) },
  };

  it("records the snapshot's name before it takes it", () => {
    const t = decide(context({ status: { phase: "BackingUp" } }), obs());
    expect(summary(t)).toBe("act snapshot 110");
    expect(t.kind === "act" && t.patch?.currentStep?.id).toBe("refit-apps-20261201020000");
    expect(t.kind === "act" && t.actions[0]?.type === "run" && t.actions[0].command.argv.slice(0, 4)).toEqual(
      ["pct", "snapshot", "110", "refit-apps-20261201020000"],
    );
  });

  it.each<[string, Observation, string]>([
    [
      "the listed snapshot proves it: Baseline",
      obs({
        snapshots: {
          ok: true,
          value: {
            snapshots: [
              { name: "refit-apps-20261201015900", parent: undefined, time: undefined, description: "" },
            ],
            currentParent: undefined,
            hasCurrent: true,
          },
        },
        jobs: { [snapId]: job("exited", 0) },
      }),
      "goto Baseline",
    ],
    [
      "after a crash before the job started: the same snapshot is started",
      obs({
        snapshots: { ok: true, value: { snapshots: [], currentParent: undefined, hasCurrent: true } },
        jobs: { [snapId]: job("unknown") },
      }),
      "act snapshot 110",
    ],
    [
      "job running: poll",
      obs({
        snapshots: { ok: true, value: { snapshots: [], currentParent: undefined, hasCurrent: true } },
        jobs: { [snapId]: job("running") },
      }),
      "wait TakingSnapshot",
    ],
    [
      "job failed: Failed, nothing updated",
      obs({
        snapshots: { ok: true, value: { snapshots: [], currentParent: undefined, hasCurrent: true } },
        jobs: { [snapId]: job("failed", 255, ["snapshot feature is not available"]) },
      }),
      "fail SnapshotFailed",
    ],
  ])("%s", (_n, o, want) => {
    const t = decide(context({ status: recorded }), o);
    expect(summary(t)).toBe(want);
    if (t.kind === "act") expect(t.patch?.currentStep).toBeUndefined(); // the recorded name stays
  });

  it("backup.mode none goes on without a backup", () => {
    expect(
      summary(
        decide(
          context({ status: { phase: "BackingUp" }, policy: policy({ backup: { mode: "none" } }) }),
          obs(),
        ),
      ),
    ).toBe("goto Baseline");
  });
});

describe("Updating", () => {
  const withDeny = policy({ runners: [{ type: "os", packages: { deny: ["nginx"] } }] });
  const status = (p = withDeny, extra = {}) => ({
    phase: "Updating" as const,
    snapshot: { name: "refit-apps-20261201015900", mode: "snapshot" as const, createdAt: iso(NOW) },
    runners: p.runners.map((r) => ({
      name: r.name ?? r.type,
      type: r.type,
      pending: [{ package: "curl", from: "1", to: "2" }],
      applied: false,
    })),
    ...extra,
  });
  const ctxOf = (p = withDeny, extra = {}) => context({ policy: p, status: status(p, extra) });
  const steps = (p = withDeny, i = 0) => {
    const ctx = ctxOf(p);
    return plannedSteps(
      ctx.gu,
      i,
      fakePlugin("os"),
      p.runners[i]!,
      { vmid: 110, ostype: "debian", unprivileged: true },
      [{ package: "curl", from: "1", to: "2" }],
    );
  };
  const [hold, upgrade, release] = steps();

  it.each<[string, Record<string, ReturnType<typeof job>>, string]>([
    ["nothing ran: the hold step starts", {}, "act runner os hold"],
    ["hold done: the upgrade starts", { [hold!.jobId]: job("exited", 0) }, "act runner os upgrade"],
    [
      "upgrade running: poll",
      { [hold!.jobId]: job("exited", 0), [upgrade!.jobId]: job("running") },
      "wait Updating",
    ],
    [
      "upgrade failed: the release still runs",
      { [hold!.jobId]: job("exited", 0), [upgrade!.jobId]: job("failed", 100) },
      "act runner os release",
    ],
    [
      "hold failed: no upgrade, only the release",
      { [hold!.jobId]: job("failed", 1) },
      "act runner os release",
    ],
  ])("%s", (_n, jobs, want) => {
    expect(summary(decide(ctxOf(), obs({ guest: guest(), jobs })))).toBe(want);
  });

  it("records the step (job id) before starting it", () => {
    const t = decide(ctxOf(), obs({ guest: guest() }));
    expect(t.kind === "act" && t.patch?.currentStep?.id).toBe(hold!.jobId);
    expect(t.kind === "act" && t.actions[0]?.type === "run" && t.actions[0].command.argv).toEqual([
      "pct",
      "exec",
      "110",
      "--",
      "hold",
      "nginx",
    ]);
  });

  const allDone = {
    [hold!.jobId]: job("exited", 0),
    [upgrade!.jobId]: job("exited", 0),
    [release!.jobId]: job("exited", 0),
  };
  const failedUpgrade = {
    [hold!.jobId]: job("exited", 0),
    [upgrade!.jobId]: job("failed", 100, ["E: Sub-process /usr/bin/dpkg returned an error code (1)"]),
    [release!.jobId]: job("exited", 0),
  };
  const installed: Observation["installed"] = { ok: true, value: [{ package: "curl", from: "1", to: "2" }] };

  it("a runner done is Succeeded with what it changed; with every runner done, Restarting", () => {
    const t = decide(ctxOf(), obs({ guest: guest(), jobs: allDone, installed }));
    expect(summary(t)).toBe("goto Updating");
    expect(t.kind !== "idle" && t.patch?.runners?.[0]?.result).toBe("Succeeded");
    const done = context({
      policy: withDeny,
      status: {
        ...status(),
        runners: [{ name: "os", type: "os", pending: [], applied: true, result: "Succeeded" }],
      },
    });
    expect(summary(decide(done, obs({ guest: guest() })))).toBe("goto Restarting");
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["Auto: the snapshot is restored", {}, "goto RollingBack"],
    [
      "Manual: Failed, the backup kept for refit rollback",
      { rollback: { policy: "Manual" } },
      "fail RunnerFailed",
    ],
    ["Never: Failed", { rollback: { policy: "Never" } }, "fail RunnerFailed"],
    [
      "Auto, RunnerFailed not a trigger: Failed",
      { rollback: { triggers: ["HealthCheckFailed"] } },
      "fail RunnerFailed",
    ],
  ])("a critical runner fails — %s", (_n, over, want) => {
    const p = policy({ runners: [{ type: "os", packages: { deny: ["nginx"] } }], ...over });
    const t = decide(ctxOf(p), obs({ guest: guest(), jobs: failedUpgrade, installed }));
    expect(summary(t)).toBe(want);
  });

  it("Manual keeps the backup and says how to restore it", () => {
    const p = policy({
      runners: [{ type: "os", packages: { deny: ["nginx"] } }],
      rollback: { policy: "Manual" },
    });
    const t = decide(ctxOf(p), obs({ guest: guest(), jobs: failedUpgrade, installed }));
    expect(t.kind === "fail" && t.message).toMatch(
      /backup refit-apps-20261201015900 is kept: run `refit rollback apps 110`/,
    );
  });

  it("continueOnError records the failure and goes on with the next runner", () => {
    const p = policy({ runners: [{ type: "os", packages: { deny: ["nginx"] }, continueOnError: true }] });
    const t = decide(ctxOf(p), obs({ guest: guest(), jobs: failedUpgrade, installed }));
    expect(summary(t)).toBe("goto Updating");
    expect(t.kind !== "idle" && t.patch?.runners?.[0]?.result).toBe("Failed");
  });

  it("beyond timeouts.update: Timeout, rolled back", () => {
    const ctx = context({
      policy: withDeny,
      status: status(withDeny, { phaseSince: iso(NOW - 3 * 3600_000) }),
    });
    expect(summary(decide(ctx, obs({ guest: guest() })))).toBe("goto RollingBack");
  });
});

describe("Restarting, Verifying, rollback", () => {
  const snapshot = { name: "refit-apps-20261201015900", mode: "snapshot" as const, createdAt: iso(NOW) };
  const checks = [{ type: "http", name: "web", url: "http://10.0.0.5/" }];
  const rid = restartJobId(context().gu);

  it.each<[string, Record<string, unknown>, Observation, string]>([
    ["None: straight to Verifying", { policy: "None" }, obs(), "goto Verifying"],
    [
      "Services: restarts them as a job",
      { policy: "Services", services: ["app.service"] },
      obs(),
      "act restart app.service in CT 110",
    ],
    [
      "IfRequired with reboot-required: pct reboot",
      { policy: "IfRequired" },
      obs({ rebootRequired: { ok: true, value: true } }),
      "act pct reboot 110",
    ],
    [
      "IfRequired without it, no services: nothing",
      { policy: "IfRequired" },
      obs({ rebootRequired: { ok: true, value: false } }),
      "goto Verifying",
    ],
    [
      "IfRequired, unreadable: waits",
      { policy: "IfRequired" },
      obs({ rebootRequired: { ok: false, reason: "Unreachable", message: "x" } }),
      "wait GateClosed",
    ],
  ])("restart %s", (_n, restart, o, want) => {
    expect(
      summary(decide(context({ policy: policy({ restart }), status: { phase: "Restarting", snapshot } }), o)),
    ).toBe(want);
  });

  it.each<[string, ReturnType<typeof job>, string]>([
    ["done: Verifying", job("exited", 0), "goto Verifying"],
    ["failed: rolled back", job("failed", 1), "goto RollingBack"],
    ["not started after a crash: started", job("unknown"), "act Restart/services"],
  ])("a recorded restart job %s", (_n, j, want) => {
    const ctx = context({
      policy: policy({ restart: { policy: "Services", services: ["app.service"] } }),
      status: {
        phase: "Restarting",
        snapshot,
        currentStep: { name: "Restart/services", id: rid, startedAt: iso(NOW) },
      },
    });
    expect(summary(decide(ctx, obs({ jobs: { [rid]: j } })))).toBe(want);
  });

  it.each<[string, Record<string, unknown>, Observation, string]>([
    ["healthy: on to pruning old snapshots", {}, obs({ probes: [health("web", true)] }), "goto Verifying"],
    ["unhealthy: rolled back", {}, obs({ probes: [health("web", false)] }), "goto RollingBack"],
    [
      "unhealthy, also in the baseline: pre-existing, on to pruning",
      { baseline: true },
      obs({ probes: [health("web", false)] }),
      "goto Verifying",
    ],
  ])("verify %s", (_n, o2, o, want) => {
    const ctx = context({
      policy: policy({ healthChecks: checks }),
      status: {
        phase: "Verifying",
        snapshot,
        ...(o2.baseline ? { healthBaseline: [health("web", false)] } : {}),
      },
    });
    expect(summary(decide(ctx, o))).toBe(want);
  });

  it("waits out the warm-up before probing", () => {
    const ctx = context({
      policy: policy({ healthChecks: [{ ...checks[0], warmUp: "30s" }] }),
      status: { phase: "Verifying", snapshot, phaseSince: iso(NOW - 10_000) },
    });
    expect(PHASES.Verifying.needs(ctx)).toEqual({});
    const t = decide(ctx, obs());
    expect(t.kind === "wait" && [t.reason, t.requeue]).toEqual(["WarmingUp", { ms: 20_000 }]);
  });

  const rb = (attempts: number, started = true) => ({
    phase: "RollingBack" as const,
    snapshot,
    rollback: { done: false, reason: "HealthCheckFailed", attempts },
    ...(started
      ? { currentStep: { name: "Rollback", id: rollbackJobId(context().gu, attempts), startedAt: iso(NOW) } }
      : {}),
  });
  it.each<[string, ReturnType<typeof rb>, Observation, string]>([
    ["starts attempt 1", rb(0, false), obs(), "act rollback 110"],
    [
      "job done and container running: VerifyingRollback",
      rb(1),
      obs({ guest: guest(), jobs: { [rollbackJobId(context().gu, 1)]: job("exited", 0) } }),
      "goto VerifyingRollback",
    ],
    [
      "job done, container not yet running: poll",
      rb(1),
      obs({ guest: guest({ running: false }), jobs: { [rollbackJobId(context().gu, 1)]: job("exited", 0) } }),
      "wait RollingBack",
    ],
    [
      "attempt failed, attempts left: a new attempt",
      rb(1),
      obs({ guest: guest(), jobs: { [rollbackJobId(context().gu, 1)]: job("failed", 255) } }),
      "act rollback 110",
    ],
  ])("rollback %s", (_n, status, o, want) => {
    const ctx = context({ policy: policy({ healthChecks: checks, rollback: { maxAttempts: 2 } }), status });
    expect(summary(decide(ctx, o))).toBe(want);
  });

  it("the last attempt failed: Failed, the snapshot kept, loud", () => {
    const ctx = context({ policy: policy({ healthChecks: checks }), status: rb(1) });
    const t = decide(
      ctx,
      obs({ guest: guest(), jobs: { [rollbackJobId(context().gu, 1)]: job("failed", 255) } }),
    );
    expect(summary(t)).toBe("fail RollbackFailed");
    expect(t.kind === "fail" && t.notices?.[0]?.notice.severity).toBe("critical");
  });

  it.each<[string, boolean, string]>([
    ["healthy again: RolledBack, with a notice saying what was restored", true, "goto RolledBack"],
    ["still unhealthy: Failed", false, "fail RollbackUnhealthy"],
  ])("after the rollback %s", (_n, healthy, want) => {
    const ctx = context({
      policy: policy({ healthChecks: checks }),
      status: {
        phase: "VerifyingRollback",
        snapshot,
        rollback: { done: true, attempts: 1, reason: "HealthCheckFailed" },
      },
    });
    const t = decide(ctx, obs({ probes: [health("web", healthy)] }));
    expect(summary(t)).toBe(want);
    if (healthy)
      expect(t.kind !== "idle" && t.notices?.[0]?.notice.summary).toMatch(
        /rolled back to refit-apps-20261201015900/,
      );
  });
});

describe("retention after a verified update", () => {
  const snapshot = { name: "refit-apps-20261201015900", mode: "snapshot" as const, createdAt: iso(NOW) };
  const entry = (name: string) => ({ name, parent: undefined, time: undefined, description: "" });
  const list = (...names: string[]): Observation["snapshots"] => ({
    ok: true,
    value: { snapshots: names.map(entry), currentParent: undefined, hasCurrent: true },
  });
  const all = list(
    "before-upgrade",
    "refit-apps-20261101010000",
    "refit-apps-20261115010000",
    "refit-other-20261001010000",
    snapshot.name,
  );
  const prune = (proof?: Record<string, string>) =>
    context({
      policy: policy({ backup: { retention: { keepLast: 2 } } }),
      status: {
        phase: "Verifying",
        snapshot,
        healthResults: [health("web", true)],
        currentStep: {
          name: "Prune",
          id: proof?.ref ?? "retention",
          startedAt: iso(NOW),
          ...(proof ? { proof } : {}),
        },
      },
    });
  const deleted = (t: Transition) =>
    t.kind === "act" ? t.actions.map((a) => (a.type === "run" ? a.command.argv.join(" ") : "")) : [];

  it("deletes Refit's oldest snapshot of this plan beyond keepLast, as a job; never another's", () => {
    const t = decide(prune(), obs({ guest: guest(), snapshots: all }));
    expect(deleted(t)).toEqual(["pct delsnapshot 110 refit-apps-20261101010000"]);
    expect(t.kind === "act" && t.actions[0]?.type === "run" && t.actions[0].command.job).toBeDefined();
    expect(t.kind === "act" && t.patch?.currentStep?.proof?.ref).toBe("refit-apps-20261101010000");
  });

  it("nothing beyond retention: Succeeded, the other snapshots untouched", () => {
    const t = decide(
      prune(),
      obs({ guest: guest(), snapshots: list("before-upgrade", "refit-apps-20261115010000", snapshot.name) }),
    );
    expect(summary(t)).toBe("goto Succeeded");
  });

  it("someone else's lock waits", () => {
    expect(summary(decide(prune(), obs({ guest: guest({ lock: "backup" }), snapshots: all })))).toBe(
      "wait Pruning",
    );
  });

  it("the container left locked by Refit's own interrupted delete is unlocked and the delete finished", () => {
    const ref = "refit-apps-20261101010000";
    const ctx = prune({ ref, job: jobId(context().gu, `prune-${ref}-a1`), attempt: "1" });
    const t = decide(ctx, obs({ guest: guest({ lock: "snapshot-delete" }), snapshots: all }));
    expect(deleted(t)).toEqual(["pct unlock 110", `pct delsnapshot 110 ${ref} --force 1`]);
  });
});

describe("an operator's rollback request (refit rollback)", () => {
  const snapshot = { name: "refit-apps-20261201015900", mode: "snapshot" as const, createdAt: iso(NOW) };
  const at = iso(NOW - 5000);
  const request = (over: Partial<GuestContext> = {}, status: Record<string, unknown> = {}) => ({
    ...context({ status: { phase: "Failed", snapshot, ...status } }),
    rollbackRequest: { requestedAt: at },
    ...over,
  });

  it.each<[string, GuestContext, string | undefined]>([
    ["a new request on a failed update: RollingBack to its snapshot", request(), "goto RollingBack"],
    ["already handled: nothing", request({}, { lastHandledRequestAt: at }), undefined],
    ["an update in flight finishes first", request({}, { phase: "Updating" }), undefined],
    ["no backup and no --to: recorded, nothing changed", request({}, { snapshot: undefined }), "goto Failed"],
  ])("%s", (_n, ctx, want) => {
    const t = decideOperatorRollback(ctx);
    expect(t && summary(t)).toBe(want);
    if (t) expect(t.kind !== "idle" && t.patch?.lastHandledRequestAt).toBe(at);
  });

  it("--to names another of Refit's snapshots, which becomes the one restored", () => {
    const t = decideOperatorRollback({
      ...request(),
      rollbackRequest: { requestedAt: at, to: "refit-apps-20261101010000" },
    });
    expect(t?.kind !== "idle" && t?.patch?.snapshot?.name).toBe("refit-apps-20261101010000");
  });
});

describe("a container started for the update is stopped again", () => {
  const started = (phase: "Succeeded" | "Failed") => context({ status: { phase, startedForUpdate: true } });

  it.each<[string, GuestContext, Observation, string]>([
    [
      "still running after the update: shut down as a job",
      started("Succeeded"),
      obs({ guest: guest() }),
      "act shutdown 110",
    ],
    ["also after a failure", started("Failed"), obs({ guest: guest() }), "act shutdown 110"],
    [
      "stopped: the flag is cleared, the phase stays",
      started("Succeeded"),
      obs({ guest: guest({ running: false }) }),
      "goto Succeeded",
    ],
  ])("%s", (_n, ctx, o, want) => {
    expect(stopsAgain(ctx)).toBe(true);
    const t = decideStopAgain(ctx, o);
    expect(summary(t)).toBe(want);
    if (t.kind === "goto") expect(Object.hasOwn(t.patch ?? {}, "startedForUpdate")).toBe(true);
  });

  it("Preflight records startedForUpdate before it starts a stopped container", () => {
    const ctx = context({
      status: { phase: "Preflight" },
      policy: policy({ preflight: { requireRunning: false } }),
    });
    const t = decide(ctx, obs({ guest: guest({ running: false }) }));
    expect(t.kind === "act" && t.patch?.startedForUpdate).toBe(true);
  });
});
