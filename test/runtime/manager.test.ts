import { writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStore } from "../../controller/runtime/file-store.js";
import {
  Manager,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
} from "../../controller/runtime/manager.js";
import type { ObjectKey } from "../../controller/runtime/store.js";
import { clustersToReobserve } from "../../controller/proxmox-cluster/reobserve.js";
import type { KindName, RefitObjectOf } from "../../src/api/kinds.js";
import { ManualClock } from "../../src/clock.js";
import { RetryableError, TerminalError } from "../../src/errors.js";
import {
  CLUSTER_YAML,
  eventually,
  hostPatch,
  planYaml,
  recordingLogger,
  settle,
  tempDirs,
  write,
  type RecordingLogger,
  type TempDirs,
} from "./support.js";

type Behaviour = (key: ObjectKey, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** A reconciler that records its calls and does what the test tells it. */
class Recorder implements Reconciler {
  readonly calls: string[] = [];
  behaviour: Behaviour = () => Promise.resolve();
  constructor(readonly kind: KindName) {}
  reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    this.calls.push(key.name);
    return this.behaviour(key, ctx);
  }
  async waitCalls(n: number): Promise<void> {
    await eventually(`${n} reconciles of ${this.kind} (have ${this.calls.length})`, () =>
      this.calls.length >= n ? true : undefined,
    );
  }
}

let dirs: TempDirs;
let log: RecordingLogger;
let clock: ManualClock;
let store: FileStore;
let manager: Manager | undefined;
let planFile: string;

beforeEach(async () => {
  dirs = await tempDirs();
  log = recordingLogger();
  clock = new ManualClock();
  await write(dirs.desired, "cluster.yaml", CLUSTER_YAML);
  planFile = await write(dirs.desired, "plan.yaml", planYaml());
  store = await FileStore.open({ desiredDir: dirs.desired, stateDir: dirs.state, log, clock, watch: false });
});

afterEach(async () => {
  await manager?.stop({ abort: true });
  manager = undefined;
  await store.close();
  await dirs.remove();
});

function startManager(...reconcilers: Reconciler[]): Promise<void> {
  // random just below 1: each backoff is its ceiling (499 ms, 999 ms, …), so the test knows when it is due.
  manager = new Manager({ store, clock, log, concurrency: 2, queue: { random: () => 0.999999999 } });
  for (const r of reconcilers) manager.register(r);
  return manager.start();
}

async function thePlan(): Promise<RefitObjectOf<"HostPatchPlan">> {
  const p = await store.get("HostPatchPlan", "", "nodes");
  if (!p) throw new Error("plan missing");
  return p;
}

describe("manager", () => {
  it("start reconciles every existing object of each reconciled kind once", async () => {
    await writeFile(planFile, `${planYaml()}---\n${planYaml({ name: "other" })}`);
    await store.reload();
    const plans = new Recorder("HostPatchPlan");
    await startManager(plans);
    await plans.waitCalls(2);
    await settle();
    expect(plans.calls.sort()).toEqual(["nodes", "other"]);
  });

  it("turns watch events into reconciles; a child's change reconciles its owner; an object's own status write does not", async () => {
    const plans = new Recorder("HostPatchPlan");
    const patches = new Recorder("HostPatch");
    await startManager(plans, patches);
    await plans.waitCalls(1);

    const child = await store.create(hostPatch("nodes-pve1", await thePlan()));
    await patches.waitCalls(1);
    await plans.waitCalls(2);
    await settle();
    expect(patches.calls).toEqual(["nodes-pve1"]);
    expect(plans.calls).toEqual(["nodes", "nodes"]);

    // Status written by the HostPatch reconciler: news to the plan, not a reason to reconcile the child again.
    const withStatus = await store.updateStatus<RefitObjectOf<"HostPatch">>({
      ...child,
      status: { phase: "Upgrading" },
    });
    await plans.waitCalls(3);
    await settle();
    expect(patches.calls).toEqual(["nodes-pve1"]);

    // A spec change is a change of the child itself.
    await store.update({ ...withStatus, spec: { ...withStatus.spec, cycle: "c2" } });
    await patches.waitCalls(2);
    await plans.waitCalls(4);

    // A deleted child is reconciled once more (to clean up), and so is its owner.
    await store.delete("HostPatch", "", "nodes-pve1");
    await patches.waitCalls(3);
    await plans.waitCalls(5);
    await settle();
    expect(patches.calls).toEqual(["nodes-pve1", "nodes-pve1", "nodes-pve1"]);
  });

  it("a reconciler's watches map another kind's events to its keys: a HostPatch that ends has its cluster observed again", async () => {
    const clusters = new Recorder("ProxmoxCluster");
    Object.assign(clusters, { watches: [{ kind: "HostPatch", keys: clustersToReobserve }] });
    await startManager(clusters);
    await clusters.waitCalls(1);
    const child = await store.create({
      ...hostPatch("nodes-pve1", await thePlan()),
      spec: { ...hostPatch("nodes-pve1").spec, clusterRef: { name: "lab" } },
    });
    const upgrading = await store.updateStatus<RefitObjectOf<"HostPatch">>({
      ...child,
      status: { phase: "Upgrading" },
    });
    await settle();
    expect(clusters.calls).toEqual(["lab"]);
    await store.updateStatus<RefitObjectOf<"HostPatch">>({ ...upgrading, status: { phase: "Succeeded" } });
    await clusters.waitCalls(2);
    await settle();
    expect(clusters.calls).toEqual(["lab", "lab"]);
  });

  it("passes a logger bound to the object and the injected clock", async () => {
    const plans = new Recorder("HostPatchPlan");
    let seen: ReconcileContext | undefined;
    plans.behaviour = (_key, ctx) => {
      seen = ctx;
      ctx.log.info({ step: "look" }, "looked at the plan");
      return Promise.resolve();
    };
    await startManager(plans);
    await plans.waitCalls(1);
    expect(seen?.clock).toBe(clock);
    expect(seen?.signal.aborted).toBe(false);
    expect(log.lines.find((l) => l.msg === "looked at the plan")?.fields).toMatchObject({
      kind: "HostPatchPlan",
      name: "nodes",
      step: "look",
    });
  });

  it("retries a RetryableError or an unknown error with growing backoff, and success resets the backoff", async () => {
    const plans = new Recorder("HostPatchPlan");
    const failures: Error[] = [
      new RetryableError("HostUnreachable", "pve1 did not answer"),
      new Error("something unexpected"),
    ];
    plans.behaviour = () => {
      const next = failures.shift();
      return next ? Promise.reject(next) : Promise.resolve();
    };
    await startManager(plans);
    await plans.waitCalls(1);
    await settle();
    const warn = log.lines.filter((l) => l.level === "warn");
    expect(warn.at(-1)?.fields).toMatchObject({ reason: "HostUnreachable", retries: 1, delayMs: 499 });

    clock.advance(498);
    await settle();
    expect(plans.calls.length).toBe(1);
    clock.advance(1);
    await plans.waitCalls(2);
    await settle();
    expect(log.lines.filter((l) => l.level === "warn").at(-1)?.fields).toMatchObject({
      reason: "Unexpected",
      retries: 2,
      delayMs: 999,
    });
    clock.advance(998);
    await settle();
    expect(plans.calls.length).toBe(2);
    clock.advance(1);
    await plans.waitCalls(3);

    // Succeeded: the next failure starts from the first step again.
    failures.push(new RetryableError("HostUnreachable", "again"));
    await writeFile(planFile, planYaml({ nodes: "pve1" }));
    await store.reload();
    await plans.waitCalls(4);
    await settle();
    expect(log.lines.filter((l) => l.level === "warn").at(-1)?.fields).toMatchObject({
      retries: 1,
      delayMs: 499,
    });
  });

  it("a TerminalError is logged and not retried, not even for a child's change, until the object itself changes", async () => {
    const plans = new Recorder("HostPatchPlan");
    plans.behaviour = () => Promise.reject(new TerminalError("InvalidTargets", "no node matches pve*"));
    await startManager(plans);
    await plans.waitCalls(1);
    await settle();
    const line = log.lines.find((l) => l.level === "error");
    expect(line?.msg).toBe("reconcile failed and will not be retried until the object changes");
    expect(line?.fields).toMatchObject({ reason: "InvalidTargets", name: "nodes" });

    clock.advance(60 * 60_000);
    await settle();
    const child = await store.create(hostPatch("nodes-pve1", await thePlan()));
    await store.updateStatus<RefitObjectOf<"HostPatch">>({ ...child, status: { phase: "Pending" } });
    await settle();
    expect(plans.calls).toEqual(["nodes"]);

    plans.behaviour = () => Promise.resolve();
    await writeFile(planFile, planYaml({ nodes: "pve1" }));
    await store.reload();
    await plans.waitCalls(2);
  });

  it("requeueAfter schedules the next reconcile on the injected clock", async () => {
    const plans = new Recorder("HostPatchPlan");
    plans.behaviour = () => Promise.resolve({ requeueAfter: 5 * 60_000 });
    await startManager(plans);
    await plans.waitCalls(1);
    clock.advance(5 * 60_000 - 1);
    await settle();
    expect(plans.calls.length).toBe(1);
    clock.advance(1);
    await plans.waitCalls(2);
    clock.advance(5 * 60_000);
    await plans.waitCalls(3);
  });

  it("stop waits for a reconcile in flight; with abort, the reconcile's signal is aborted first", async () => {
    const plans = new Recorder("HostPatchPlan");
    let release: () => void = () => undefined;
    plans.behaviour = () => new Promise<void>((resolve) => (release = resolve));
    await startManager(plans);
    await plans.waitCalls(1);
    let stopped = false;
    const m = manager;
    manager = undefined;
    const stopping = m?.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);

    // After stop, changes are not reconciled.
    await writeFile(planFile, planYaml({ nodes: "pve1" }));
    await store.reload();
    await settle();
    expect(plans.calls.length).toBe(1);
  });

  it("stop with abort ends a reconcile that waits on the clock", async () => {
    const plans = new Recorder("HostPatchPlan");
    let outcome = "";
    plans.behaviour = async (_key, ctx) => {
      try {
        await ctx.clock.sleep(60 * 60_000, ctx.signal);
        outcome = "slept";
      } catch {
        outcome = "aborted";
      }
    };
    await startManager(plans);
    await plans.waitCalls(1);
    const m = manager;
    manager = undefined;
    await m?.stop({ abort: true });
    expect(outcome).toBe("aborted");
  });
});
