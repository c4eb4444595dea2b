/**
 * The GuestUpdatePlan reconciler over a real FileStore, with the cluster's containers given by a test
 * inventory and the children's phases set directly (as the GuestUpdate flow would write them).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_TIMING, type Deps, type PlanNotice } from "../../controller/context.js";
import type { Fleet } from "../../controller/fleet/cluster-access.js";
import {
  GuestUpdatePlanReconciler,
  type GuestPlanOptions,
} from "../../controller/guest-update-plan/reconciler.js";
import { GuestUpdatePolicyReconciler } from "../../controller/guest-update-plan/policy-status.js";
import type { GuestCycleReport } from "../../controller/guest-update-plan/report.js";
import { writeRollbackRequest } from "../../controller/guest-update-plan/rollback-request.js";
import type { GuestView } from "../../controller/guest-update-plan/select.js";
import { History } from "../../controller/reports/history.js";
import { FileStore } from "../../controller/runtime/file-store.js";
import { KillSwitch } from "../../controller/runtime/kill-switch.js";
import type { ReconcileContext } from "../../controller/runtime/manager.js";
import type { ObjectStore } from "../../controller/runtime/store.js";
import type { GuestUpdate, GuestUpdatePhase } from "../../src/api/guest-update.js";
import { ManualClock } from "../../src/clock.js";
import { MutexTable } from "../../src/schedule/index.js";
import { recordingLogger } from "../support/recording.js";

const NOW = Date.parse("2026-03-07T02:00:00Z");
const KEY = { kind: "GuestUpdatePlan", namespace: "", name: "apps" } as const;

const CLUSTER = `apiVersion: refit.dev/v1alpha1
kind: ProxmoxCluster
metadata: { name: lab }
spec:
  endpoints:
    - { node: pve1, host: 127.0.0.1 }
    - { node: pve2, host: 127.0.0.2 }
  ssh:
    user: root
    privateKey: { file: /etc/refit/id }
    knownHosts: { file: /etc/refit/known_hosts }
  observeInterval: 1h
`;

const PLAN = `apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePlan
metadata: { name: apps }
spec:
  clusterRef: { name: lab }
  selector: { tags: [apps] }
  runners: [{ type: os }]
  healthChecks: [{ type: tcp, name: ssh, port: 22 }]
  concurrency: { maxParallel: 2, maxParallelPerNode: 1, maxFailures: 1 }
`;

const OTHER_PLAN = `apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePlan
metadata: { name: web }
spec:
  clusterRef: { name: lab }
  selector: { names: ["web-3"] }
  runners: [{ type: os }]
`;

const POLICY = `# one small file per container
apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePolicy
metadata: { name: ct-111 }
spec:
  planRef: { name: apps }
  selector: { vmids: [111] }
  runners: [{ type: os }, { type: pip, venvs: [/opt/app/venv] }]
  healthChecks: [{ type: http, name: web, port: 8000, path: /healthz }]
`;

const HANDS_OFF = `apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePolicy
metadata: { name: ct-114 }
spec:
  selector: { vmids: [114] }
  exclude: true
`;

const FLEET: GuestView[] = [
  { vmid: 110, type: "lxc", node: "pve1", name: "web-1", tags: ["apps"], template: false, status: "running" },
  { vmid: 111, type: "lxc", node: "pve1", name: "web-2", tags: ["apps"], template: false, status: "running" },
  { vmid: 112, type: "lxc", node: "pve2", name: "web-3", tags: ["apps"], template: false, status: "running" },
  { vmid: 113, type: "lxc", node: "pve2", name: "web-4", tags: ["apps"], template: false, status: "running" },
  { vmid: 114, type: "lxc", node: "pve2", name: "web-5", tags: ["apps"], template: false, status: "running" },
  { vmid: 120, type: "lxc", node: "pve1", name: "db", tags: ["db"], template: false, status: "running" },
];

let root: string;
let desired: string;
let state: string;
let store: FileStore;
let clock: ManualClock;
let notices: PlanNotice[];
const log = recordingLogger();

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "refit-gplan-"));
  desired = join(root, "desired");
  state = join(root, "state");
  await mkdir(desired);
  await writeFile(join(desired, "cluster.yaml"), CLUSTER);
  await writeFile(join(desired, "apps.yaml"), PLAN);
  await writeFile(join(desired, "web.yaml"), OTHER_PLAN);
  await writeFile(join(desired, "ct-111.yaml"), POLICY);
  await writeFile(join(desired, "ct-114.yaml"), HANDS_OFF);
  clock = new ManualClock(NOW);
  notices = [];
  store = await FileStore.open({ desiredDir: desired, stateDir: state, log, clock, watch: false });
});

afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

function deps(s: ObjectStore = store): Deps {
  return {
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
}

function reconciler(options: GuestPlanOptions = {}, s: ObjectStore = store): GuestUpdatePlanReconciler {
  return new GuestUpdatePlanReconciler(deps(s), { inventory: () => Promise.resolve(FLEET), ...options });
}

const ctx = (): ReconcileContext => ({ signal: new AbortController().signal, log, clock });

async function children(): Promise<GuestUpdate[]> {
  return (await store.list("GuestUpdate")).sort((a, b) => a.spec.vmid - b.spec.vmid);
}

async function setPhase(
  vmid: number,
  phase: GuestUpdatePhase,
  extra: Partial<NonNullable<GuestUpdate["status"]>> = {},
): Promise<void> {
  const c = (await children()).find((x) => x.spec.vmid === vmid);
  if (!c) throw new Error(`no GuestUpdate for ${vmid}`);
  c.status = {
    runners: [],
    healthBaseline: [],
    healthResults: [],
    ...(c.status ?? {}),
    phase,
    observedGeneration: c.metadata.generation ?? 1,
    ...extra,
  };
  await store.updateStatus(c);
}

async function step(r: GuestUpdatePlanReconciler = reconciler()): Promise<void> {
  clock.advance(1_000);
  await r.reconcile(ctx(), KEY);
}

const plan = () => store.get("GuestUpdatePlan", "", "apps");

describe("a cycle end to end (children's phases set by hand)", () => {
  it("selects, starts within the limits, carries each container's policy, reports per vmid", async () => {
    await step(); // starts the cycle: targets recorded, no GuestUpdate yet
    let p = await plan();
    expect(p?.status?.phase).toBe("Progressing");
    // 112 is also selected by GuestUpdatePlan/web; 114 is excluded by its policy.
    expect(p?.status?.cycleTargets?.map((x) => x.vmid)).toEqual([110, 111, 113]);
    expect(p?.status?.conflicts).toEqual([{ vmid: 112, with: ["GuestUpdatePlan/web"] }]);
    expect(p?.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "Conflict",
    });
    expect(await children()).toEqual([]);

    await step(); // maxParallel 2, per node 1: 110 (pve1) and 113 (pve2); 111 waits for pve1
    expect((await children()).map((c) => c.spec.vmid)).toEqual([110, 113]);
    const [c110] = await children();
    expect(c110?.spec).toMatchObject({
      planRef: { name: "apps" },
      clusterRef: { name: "lab" },
      vmid: 110,
      node: "pve1",
      type: "lxc",
    });
    expect(c110?.spec.policy.healthChecks.map((h) => h.name)).toEqual(["ssh"]);
    expect(c110?.metadata.labels?.["refit.dev/plan"]).toBe("apps");
    expect(c110?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "GuestUpdatePlan",
      name: "apps",
      controller: true,
    });

    await setPhase(110, "Updating");
    await step();
    expect((await children()).map((c) => c.spec.vmid)).toEqual([110, 113]);

    await setPhase(110, "Succeeded", {
      runners: [
        {
          name: "os",
          type: "os",
          pending: [{ package: "curl", from: "7.88.1-10", to: "7.88.1-10+deb12u5" }],
          applied: true,
          result: "Succeeded",
        },
      ],
      snapshot: {
        name: "refit-apps-20260307020000",
        mode: "snapshot",
        createdAt: new Date(NOW).toISOString(),
      },
    });
    await step();
    const c111 = (await children()).find((c) => c.spec.vmid === 111);
    // The per-container policy replaced runners and health checks for 111 only.
    expect(c111?.spec.policy.runners.map((r) => r.type)).toEqual(["os", "pip"]);
    expect(c111?.spec.policy.healthChecks.map((h) => h.name)).toEqual(["web"]);

    await setPhase(113, "RolledBack", {
      runners: [
        {
          name: "os",
          type: "os",
          pending: [],
          applied: false,
          result: "Failed",
          logTail: "line1\nE: broken\n",
        },
      ],
    });
    await setPhase(111, "Skipped");
    await step();
    p = await plan();
    expect(p?.status?.phase).toBe("Succeeded");
    expect(p?.status?.counts).toMatchObject({
      targets: 3,
      succeeded: 1,
      skipped: 1,
      rolledBack: 1,
      conflicts: 1,
    });
    // Still Conflict: a person must fix the overlap with GuestUpdatePlan/web.
    expect(p?.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "Conflict",
    });

    const report = JSON.parse(
      await readFile(p?.status?.lastCycle?.reportPath ?? "", "utf8"),
    ) as GuestCycleReport;
    expect(report.outcome).toBe("Degraded");
    expect(Object.keys(report.containers)).toEqual(["110", "111", "113"]);
    expect(report.containers["110"]).toMatchObject({
      outcome: "Succeeded",
      backup: { name: "refit-apps-20260307020000", mode: "snapshot" },
      runners: [{ name: "os", changes: [{ package: "curl", from: "7.88.1-10", to: "7.88.1-10+deb12u5" }] }],
    });
    expect(report.containers["111"]).toMatchObject({ outcome: "Skipped", policy: "ct-111" });
    expect(report.conflicts).toEqual([{ vmid: 112, with: ["GuestUpdatePlan/web"] }]);

    const done = notices.find((n) => n.event === "PlanSucceeded");
    expect(done?.severity).toBe("warning");
    expect(done?.summary).toContain("failing: 113");
    expect(done?.details?.failing).toMatchObject({
      "113": { phase: "RolledBack", log: ["line1", "E: broken"] },
    });
  });

  it("the other plan says Conflict too, naming this one, and leaves the container alone", async () => {
    const web = new GuestUpdatePlanReconciler(deps(), { inventory: () => Promise.resolve(FLEET) });
    clock.advance(1_000);
    await web.reconcile(ctx(), { ...KEY, name: "web" });
    const w = await store.get("GuestUpdatePlan", "", "web");
    expect(w?.status?.cycleTargets).toEqual([]);
    const ready = w?.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "Conflict" });
    expect(ready?.message).toContain("GuestUpdatePlan/apps");
  });

  it("policies report where they apply", async () => {
    await step();
    const pr = new GuestUpdatePolicyReconciler(deps());
    await pr.reconcile(ctx(), { kind: "GuestUpdatePolicy", namespace: "", name: "ct-111" });
    const pol = await store.get("GuestUpdatePolicy", "", "ct-111");
    expect(pol?.status?.applied).toEqual([{ plan: "apps", vmid: 111 }]);
    expect(pol?.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      reason: "Applied",
    });
  });

  it("over maxFailures the plan stalls: no further start, one PlanStalled", async () => {
    await step();
    await step();
    await setPhase(110, "Failed");
    await setPhase(113, "Failed");
    await step();
    const p = await plan();
    expect(p?.status?.phase).toBe("Stalled");
    expect((await children()).map((c) => c.spec.vmid)).toEqual([110, 113]);
    expect(p?.status?.counts).toMatchObject({ failed: 2, notStarted: 1 });
    await step();
    expect(notices.filter((n) => n.event === "PlanStalled")).toHaveLength(1);
    expect(notices.find((n) => n.event === "PlanStalled")?.severity).toBe("error");
  });

  it("a crash after recording the start: the GuestUpdate is made by the next controller, once", async () => {
    await step();
    let creates = 0;
    const dying = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "create")
          return async (obj: GuestUpdate) => {
            if (++creates === 2) throw new Error("killed");
            return target.create(obj);
          };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    await expect(reconciler({}, dying).reconcile(ctx(), KEY)).rejects.toThrow("killed");
    expect((await plan())?.status?.cycleTargets?.filter((x) => x.startedAt).map((x) => x.vmid)).toEqual([
      110, 113,
    ]);
    expect((await children()).map((c) => c.spec.vmid)).toEqual([110]);
    await step();
    expect((await children()).map((c) => c.spec.vmid)).toEqual([110, 113]);
    await step();
    expect((await children()).map((c) => c.spec.vmid)).toEqual([110, 113]);
  });

  it("a partial run starts only the asked container, skipping its plan's others", async () => {
    const r = reconciler({
      partial: { plan: "apps", vmids: [111], requestedAt: new Date(NOW).toISOString() },
    });
    await step(r);
    await step(r);
    expect((await children()).map((c) => c.spec.vmid)).toEqual([111]);
    await setPhase(111, "Succeeded");
    await step(r);
    await step(r);
    const p = await plan();
    expect(p?.status?.phase).toBe("Succeeded");
    expect(p?.status?.lastCycle?.partial).toBe(true);
    expect((await children()).map((c) => c.spec.vmid)).toEqual([111]);
    // Other plans are not touched by a partial run.
    await r.reconcile(ctx(), { ...KEY, name: "web" });
    expect((await store.get("GuestUpdatePlan", "", "web"))?.status).toBeUndefined();
  });
});

describe("notices", () => {
  it("a cycle where every container was up to date sends none", async () => {
    await step();
    await step();
    await setPhase(110, "Skipped");
    await setPhase(113, "Skipped");
    await step();
    await setPhase(111, "Skipped");
    await step();
    expect((await plan())?.status?.phase).toBe("Succeeded");
    expect(notices.map((n) => n.event)).toEqual(["PlanStarted"]);
  });

  it("a successful cycle is one info summary", async () => {
    await step();
    await step();
    await setPhase(110, "Succeeded");
    await setPhase(113, "Skipped");
    await step();
    await setPhase(111, "Succeeded");
    await step();
    const done = notices.filter((n) => n.event === "PlanSucceeded");
    expect(done.map((n) => [n.severity, n.summary])).toEqual([
      ["info", "GuestUpdatePlan/apps: 2 updated, 1 up to date, 0 rolled back, 0 failed, 1 in conflict"],
    ]);
  });
});

describe("refit rollback requests", () => {
  it("become the rollback annotations on the container's latest GuestUpdate", async () => {
    await step();
    await step();
    await setPhase(110, "Succeeded");
    await writeRollbackRequest(state, "", "apps", {
      vmid: 110,
      to: "refit-apps-20260307020000",
      requestedAt: new Date(NOW).toISOString(),
    });
    await step();
    const c = (await children()).find((x) => x.spec.vmid === 110);
    expect(c?.metadata.annotations).toMatchObject({
      "refit.dev/rollback-requested-at": new Date(NOW).toISOString(),
      "refit.dev/rollback-to": "refit-apps-20260307020000",
    });
    await expect(
      readFile(join(state, "requests", "GuestUpdatePlan", "_", "apps", "rollback-110.json"), "utf8"),
    ).rejects.toThrow();
  });
});
