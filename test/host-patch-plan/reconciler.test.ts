/**
 * The HostPatchPlan reconciler over a real FileStore (no simulator): what a crash between the cycle's
 * intent and its children leaves behind, and what the next reconcile makes of it.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_TIMING, type Deps, type PlanNotice } from "../../controller/context.js";
import type { Fleet } from "../../controller/fleet/cluster-access.js";
import { HostPatchPlanReconciler } from "../../controller/host-patch-plan/reconciler.js";
import type { CycleReport } from "../../controller/reports/cycle-report.js";
import { History } from "../../controller/reports/history.js";
import { FileStore } from "../../controller/runtime/file-store.js";
import { KillSwitch } from "../../controller/runtime/kill-switch.js";
import type { ReconcileContext } from "../../controller/runtime/manager.js";
import type { ObjectStore, WatchEvent } from "../../controller/runtime/store.js";
import type { HostPatch, HostPatchPhase } from "../../src/api/host-patch.js";
import { ManualClock } from "../../src/clock.js";
import { MutexTable } from "../../src/schedule/index.js";
import { recordingLogger } from "../support/recording.js";

const NOW = Date.parse("2026-03-07T02:00:00Z");
const KEY = { kind: "HostPatchPlan", namespace: "", name: "nodes" } as const;

const CLUSTER = `apiVersion: refit.dev/v1alpha1
kind: ProxmoxCluster
metadata: { name: lab }
spec:
  endpoints:
    - { node: pve1, host: 127.0.0.1 }
    - { node: pve2, host: 127.0.0.2 }
    - { node: pve3, host: 127.0.0.3 }
  ssh:
    user: root
    privateKey: { file: /etc/refit/id }
    knownHosts: { file: /etc/refit/known_hosts }
  observeInterval: 1h
`;

const PLAN = `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata: { name: nodes }
spec:
  clusterRef: { name: lab }
  profile: pve
  targets: { nodes: ["pve*"] }
`;

let root: string;
let state: string;
let store: FileStore;
let clock: ManualClock;
let notices: PlanNotice[];
const log = recordingLogger();

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "refit-plan-"));
  const desired = join(root, "desired");
  state = join(root, "state");
  await mkdir(desired);
  await writeFile(join(desired, "cluster.yaml"), CLUSTER);
  await writeFile(join(desired, "plan.yaml"), PLAN);
  clock = new ManualClock(NOW);
  notices = [];
  store = await FileStore.open({ desiredDir: desired, stateDir: state, log, clock, watch: false });
});

afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** A fresh controller process on the same state: its own reconciler, mutex table and memory. */
function reconciler(s: ObjectStore = store): HostPatchPlanReconciler {
  const deps: Deps = {
    store: s,
    clock,
    log,
    fleet: {} as Fleet,
    notifier: { notify: (n) => Promise.resolve(void notices.push(n)) },
    killSwitch: new KillSwitch(join(root, "STOP")),
    history: new History(join(state, "history")),
    mutexes: new MutexTable(),
    timing: DEFAULT_TIMING,
    stateDir: state,
  };
  return new HostPatchPlanReconciler(deps);
}

const ctx = (): ReconcileContext => ({ signal: new AbortController().signal, log, clock });

/** The store, except that the `n`th create (1-based) dies the way a killed process would. */
function dyingAtCreate(n: number): ObjectStore {
  let creates = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "create")
        return async (obj: HostPatch) => {
          if (++creates === n) throw new Error("killed");
          return target.create(obj);
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function children(): Promise<HostPatch[]> {
  return (await store.list("HostPatch")).sort((a, b) => a.spec.host.localeCompare(b.spec.host));
}

/** What the HostPatch reconciler would write: a phase for the child's current spec. */
async function finishChild(host: string, phase: HostPatchPhase): Promise<void> {
  const c = await store.get("HostPatch", "", `nodes-${host}`);
  if (!c) throw new Error(`no HostPatch for ${host}`);
  c.status = { ...(c.status ?? {}), phase, observedGeneration: c.metadata.generation ?? 1 };
  await store.updateStatus(c);
}

async function reports(): Promise<string[]> {
  return readdir(join(state, "reports")).catch(() => []);
}

describe("a crash between a cycle's intent and its children", () => {
  it("the next reconcile creates the missing children and does not finish the cycle early", async () => {
    // The first controller records the cycle, creates pve1's HostPatch, and dies creating pve2's.
    await expect(reconciler(dyingAtCreate(2)).reconcile(ctx(), KEY)).rejects.toThrow("killed");
    const cycle = (await store.get("HostPatchPlan", "", "nodes"))?.status?.cycle;
    expect(cycle).toBeDefined();
    expect((await children()).map((c) => c.spec.host)).toEqual(["pve1"]);
    // pve1 is up to date; its patch ends before anyone looks at the plan again.
    await finishChild("pve1", "Skipped");

    // A restarted controller.
    clock.advance(60_000);
    await reconciler().reconcile(ctx(), KEY);

    let plan = await store.get("HostPatchPlan", "", "nodes");
    expect(plan?.status?.phase).toBe("Progressing");
    expect(plan?.status?.outcome?.state).toBe("Progressing");
    expect(plan?.status?.lastCycle?.finishedAt).toBeUndefined();
    expect((await children()).map((c) => [c.spec.host, c.spec.cycle])).toEqual([
      ["pve1", cycle],
      ["pve2", cycle],
      ["pve3", cycle],
    ]);
    expect(await reports()).toEqual([]);
    expect(notices.filter((n) => n.event === "PlanSucceeded")).toEqual([]);

    // Only when every host of the cycle has ended does the cycle end, with all three in its report.
    await finishChild("pve2", "Succeeded");
    clock.advance(60_000);
    await reconciler().reconcile(ctx(), KEY);
    expect((await store.get("HostPatchPlan", "", "nodes"))?.status?.phase).toBe("Progressing");
    await finishChild("pve3", "Skipped");
    clock.advance(60_000);
    await reconciler().reconcile(ctx(), KEY);
    plan = await store.get("HostPatchPlan", "", "nodes");
    expect(plan?.status?.phase).toBe("Succeeded");
    const report = JSON.parse(
      await readFile(plan?.status?.lastCycle?.reportPath ?? "", "utf8"),
    ) as CycleReport;
    expect(report.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ["pve1", "Skipped"],
      ["pve2", "Succeeded"],
      ["pve3", "Skipped"],
    ]);
  });

  it("records the cycle's hosts in the same write as the cycle, before any child exists", async () => {
    const events: WatchEvent[] = [];
    const stop = store.watch((e) => events.push(e));
    await reconciler().reconcile(ctx(), KEY);
    stop();
    const started = events.findIndex((e) => e.object.kind === "HostPatchPlan" && e.object.status?.cycle);
    const firstChild = events.findIndex((e) => e.object.kind === "HostPatch");
    expect(started).toBeGreaterThanOrEqual(0);
    expect(started).toBeLessThan(firstChild);
    const status =
      events[started]?.object.kind === "HostPatchPlan" ? events[started].object.status : undefined;
    expect(status).toMatchObject({ phase: "Progressing", cycleHosts: ["pve1", "pve2", "pve3"] });
    expect(status?.outcome).toMatchObject({ state: "Progressing", cycle: status?.cycle, generation: 1 });
  });

  it("a recorded cycle whose children are missing or on the last cycle: made whole, never finished early", async () => {
    // The state a crash leaves: the cycle's intent and hosts recorded; pve1 of this cycle has ended,
    // pve2's HostPatch still belongs to the last cycle (its Succeeded is that cycle's), pve3 has none.
    const uid = (await store.get("HostPatchPlan", "", "nodes"))?.metadata.uid ?? "";
    const owner = {
      apiVersion: "refit.dev/v1alpha1",
      kind: "HostPatchPlan",
      name: "nodes",
      uid,
      controller: true,
    };
    for (const [host, cycle] of [
      ["pve1", "c2"],
      ["pve2", "c1"],
    ] as const) {
      await store.create({
        apiVersion: "refit.dev/v1alpha1",
        kind: "HostPatch",
        metadata: { name: `nodes-${host}`, labels: { "refit.dev/plan": "nodes" }, ownerReferences: [owner] },
        spec: { planRef: { name: "nodes" }, clusterRef: { name: "lab" }, host, profile: "pve", cycle },
      });
      await finishChild(host, host === "pve1" ? "Skipped" : "Succeeded");
    }
    const plan = await store.get("HostPatchPlan", "", "nodes");
    if (!plan) throw new Error("no plan");
    plan.status = {
      phase: "Progressing",
      cycle: "c2",
      cycleHosts: ["pve1", "pve2", "pve3"],
      lastCycle: { startedAt: new Date(NOW - 60_000).toISOString() },
      observedGeneration: 1,
    };
    await store.updateStatus(plan);

    await reconciler().reconcile(ctx(), KEY);
    expect((await children()).map((c) => [c.spec.host, c.spec.cycle])).toEqual([
      ["pve1", "c2"],
      ["pve2", "c2"],
      ["pve3", "c2"],
    ]);
    // pve2's status is still the last cycle's until its own reconciler has looked at it.
    clock.advance(60_000);
    await reconciler().reconcile(ctx(), KEY);
    await finishChild("pve3", "Skipped");
    clock.advance(60_000);
    await reconciler().reconcile(ctx(), KEY);
    expect((await store.get("HostPatchPlan", "", "nodes"))?.status).toMatchObject({
      phase: "Progressing",
      outcome: { state: "Progressing", cycle: "c2" },
    });
    expect(await reports()).toEqual([]);

    await finishChild("pve2", "Succeeded");
    clock.advance(60_000);
    await reconciler().reconcile(ctx(), KEY);
    expect((await store.get("HostPatchPlan", "", "nodes"))?.status).toMatchObject({
      phase: "Succeeded",
      succeeded: 1,
      skipped: 2,
      outcome: { state: "Converged", cycle: "c2" },
    });
    expect(notices.map((n) => n.event)).toEqual(["PlanSucceeded"]);
  });
});
