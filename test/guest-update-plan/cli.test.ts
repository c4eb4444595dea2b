/**
 * The CLI for guest plans: `refit plan` per container (and --plan/--vmid), `refit rollback`, and the
 * GuestUpdate lines of `refit status`. The cluster's containers come from a test inventory.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planCommand } from "../../controller/cli/commands/plan.js";
import { parseVmidList, runController } from "../../controller/cli/commands/run.js";
import { rollbackCommand } from "../../controller/cli/commands/rollback.js";
import { guestUpdateSummary, renderStatus } from "../../controller/cli/commands/status.js";
import { DEFAULT_TIMING, type Deps } from "../../controller/context.js";
import type { Fleet } from "../../controller/fleet/cluster-access.js";
import type { GuestPlanPreview } from "../../controller/guest-update-plan/preview.js";
import { GuestUpdatePlanReconciler } from "../../controller/guest-update-plan/reconciler.js";
import type { GuestView } from "../../controller/guest-update-plan/select.js";
import { History } from "../../controller/reports/history.js";
import { FileStore } from "../../controller/runtime/file-store.js";
import { KillSwitch } from "../../controller/runtime/kill-switch.js";
import { readStateSnapshot } from "../../controller/runtime/state-reader.js";
import { ManualClock } from "../../src/clock.js";
import { MutexTable } from "../../src/schedule/index.js";
import { EXAMPLE_DIR } from "../support/desired.js";
import type { HostExec } from "../../src/ssh/index.js";
import { cliIo, recordingLogger } from "../support/recording.js";

/** The example fleet's containers (test/sim/fleets/example.yaml), as /cluster/resources lists them. */
const FLEET: GuestView[] = [
  { vmid: 102, type: "lxc", node: "pve1", name: "ci-runner", tags: [], template: false, status: "running" },
  {
    vmid: 110,
    type: "lxc",
    node: "pve1",
    name: "paperless",
    tags: ["apps"],
    template: false,
    status: "running",
  },
  {
    vmid: 111,
    type: "lxc",
    node: "pve2",
    name: "homeassistant",
    tags: ["apps"],
    template: false,
    status: "running",
  },
  {
    vmid: 113,
    type: "lxc",
    node: "pve2",
    name: "by-hand",
    tags: ["apps"],
    template: false,
    status: "running",
  },
  { vmid: 300, type: "lxc", node: "pve3", name: "stack-dns", tags: [], template: false, status: "running" },
];
const inventory = (): Promise<GuestView[]> => Promise.resolve(FLEET);

/** A node that answers `pct config` and nothing else (no runner can look inside). */
const node: HostExec = {
  host: "pve1",
  exec: (argv) =>
    Promise.resolve(
      argv[0] === "pct" && argv[1] === "config"
        ? { exitCode: 0, stdout: "ostype: debian\nunprivileged: 1\n", stderr: "" }
        : { exitCode: 127, stdout: "", stderr: `${argv[0] ?? ""}: not simulated here` },
    ) as ReturnType<HostExec["exec"]>,
};
const access =
  (list = inventory) =>
  () => ({ list, node: () => node, close: () => undefined });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "refit-gcli-"));
  cpSync(EXAMPLE_DIR, join(dir, "desired"), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function plan(
  args: { plan?: string; vmid?: string } = {},
): Promise<{ code: number; out: string[]; err: string[]; json?: unknown }> {
  const { io, out, err } = cliIo();
  const code = await planCommand(
    { desired: join(dir, "desired"), json: false, access: access(), ...args },
    io,
  );
  return { code, out, err };
}

describe("refit plan for guest plans", () => {
  it("lists each plan's containers with the policy each would run under", async () => {
    const apps = await plan({ plan: "apps" });
    const compose = await plan({ plan: "compose-stacks" });
    expect([apps.err, compose.err]).toEqual([[], []]);
    expect([apps.code, compose.code]).toEqual([0, 0]);
    const text = [...apps.out, ...compose.out].join("\n");
    expect(text).toContain("GuestUpdatePlan/apps on ProxmoxCluster/pve-lab: 2 container(s)");
    // 111 has its own GuestUpdatePolicy (desired-state/guest-policy-homeassistant.yaml); 113 is excluded by the plan.
    expect(text).toMatch(/ {2}110 paperless on pve1\n {4}runners: os \[os, 30m\], app-venvs \[pip, 20m\]/);
    expect(text).toMatch(
      / {2}111 homeassistant on pve2 \(GuestUpdatePolicy\/homeassistant\)\n {4}runners: os \[os, 30m\], app-venvs \[pip, 40m\]/,
    );
    expect(text).toContain("    backup: snapshot refit-apps-<yyyyMMddHHmmss>, keep 3 for 30d");
    expect(text).toContain("    restart: IfRequired (homeassistant.service); rollback: Auto");
    expect(text).toContain("GuestUpdatePlan/compose-stacks on ProxmoxCluster/pve-lab: 1 container(s)");
    expect(text).toContain("    backup: vzdump refit-compose-stacks-<yyyyMMddHHmmss> to pbs-store, keep 2");
    expect(text).not.toContain("not previewed");
    // What the runners find inside comes from the node; here every runner's look fails, and says so.
    expect(text).toMatch(/ {4}os: cannot be previewed: .*exited 127/);
  });

  it("--plan apps --vmid 111 shows that container only, and says which asked vmid is not the plan's", async () => {
    const { io, out } = cliIo();
    const code = await planCommand(
      { desired: join(dir, "desired"), json: true, access: access(), plan: "apps", vmid: "111,300" },
      io,
    );
    expect(code).toBe(0);
    const json = JSON.parse(out.join("\n")) as { plans: unknown[]; guestPlans: GuestPlanPreview[] };
    expect(json.plans).toEqual([]);
    expect(json.guestPlans.map((p) => [p.plan, p.containers.map((c) => c.vmid), p.notTargets])).toEqual([
      ["apps", [111], [300]],
    ]);
    expect(json.guestPlans[0]?.containers[0]?.healthChecks).toEqual([{ name: "web", type: "http" }]);
  });

  it.each([
    ["--vmid without --plan", { vmid: "110" }],
    ["a vmid list that is not one", { plan: "apps", vmid: "110;111" }],
    ["an unknown plan", { plan: "nope" }],
  ])("refuses %s (exit 2)", async (_what, args) => {
    const r = await plan(args);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toMatch(/refit plan: /);
  });

  it("says when the cluster cannot list its containers (exit 1)", async () => {
    const { io, err } = cliIo();
    const code = await planCommand(
      {
        desired: join(dir, "desired"),
        json: false,
        plan: "apps",
        access: access(() => Promise.reject(new Error("no node answered"))),
      },
      io,
    );
    expect(code).toBe(1);
    expect(err).toEqual(["GuestUpdatePlan/apps: cannot be previewed: no node answered"]);
  });
});

describe("refit run --plan/--vmid", () => {
  it.each([
    ["110,111", [110, 111]],
    ["200-203, 110", [110, 200, 201, 202, 203]],
    ["111,111", [111]],
  ])("reads the vmid list %s", (text, want) => {
    expect(parseVmidList(text)).toEqual(want);
  });

  it.each(["", "110;111", "99", "300-200", "abc"])("refuses the vmid list %j", (text) => {
    expect(parseVmidList(text)).toBeUndefined();
  });

  it.each([
    [
      "an unknown plan",
      { plan: "nope" },
      /--plan nope: there is no GuestUpdatePlan of that name \(there are: apps, compose-stacks\)/,
    ],
    ["--vmid without --plan", { vmids: [110] }, /--vmid selects containers of one plan: add --plan NAME/],
  ])("refuses %s before anything starts (exit 2)", async (_what, args, want) => {
    const { io, err } = cliIo();
    const state = join(dir, "state-never");
    const code = await runController(
      { desired: join(dir, "desired"), state, once: true, killSwitch: join(dir, "STOP"), ...args },
      io,
    );
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(want);
    expect(existsSync(state)).toBe(false);
  });
});

describe("refit rollback and refit status", () => {
  const NOW = Date.parse("2026-03-07T02:00:00Z");

  /** A controller's state after apps has started 110 and 111, with 110 updated and then failed. */
  async function stateWithUpdates(): Promise<string> {
    const state = join(dir, "state");
    const clock = new ManualClock(NOW);
    const log = recordingLogger();
    const store = await FileStore.open({
      desiredDir: join(dir, "desired"),
      stateDir: state,
      log,
      clock,
      watch: false,
    });
    const deps: Deps = {
      store,
      clock,
      log,
      fleet: {} as Fleet,
      notifier: { notify: () => Promise.resolve() },
      killSwitch: new KillSwitch(join(dir, "STOP")),
      history: new History(join(state, "history")),
      mutexes: new MutexTable(),
      timing: DEFAULT_TIMING,
      stateDir: state,
    };
    // The example plan is ordered after pve-nodes and has a window: a partial run skips `after`, force skips the window.
    const r = new GuestUpdatePlanReconciler(deps, {
      inventory,
      partial: { plan: "apps", requestedAt: new Date(NOW).toISOString() },
    });
    const ctx = { signal: new AbortController().signal, log, clock };
    const key = { kind: "GuestUpdatePlan", namespace: "", name: "apps" } as const;
    for (let i = 0; i < 3; i++) {
      clock.advance(5 * 60_000);
      await r.reconcile(ctx, key);
    }
    const c = (await store.list("GuestUpdate")).find((x) => x.spec.vmid === 110);
    if (c) {
      c.status = {
        phase: "Failed",
        observedGeneration: 1,
        node: "pve1",
        snapshot: {
          name: "refit-apps-20260307020500",
          mode: "snapshot",
          createdAt: new Date(NOW).toISOString(),
        },
        runners: [
          {
            name: "os",
            type: "os",
            applied: true,
            result: "Succeeded",
            pending: [{ package: "curl", from: "7.88.1-10", to: "7.88.1-10+deb12u5" }],
          },
        ],
        healthBaseline: [],
        healthResults: [
          { name: "web", type: "http", healthy: false, at: new Date(NOW).toISOString(), message: "HTTP 502" },
        ],
      };
      await store.updateStatus(c);
    }
    await store.close();
    return state;
  }

  describe("with the window forced", () => {
    beforeEach(async () => {
      const path = join(dir, "desired", "guest-apps.yaml");
      const text = await readFile(path, "utf8");
      const { writeFile } = await import("node:fs/promises");
      await writeFile(
        path,
        text.replace(
          "metadata:\n  name: apps\n",
          'metadata:\n  name: apps\n  annotations: { refit.dev/force: "all" }\n',
        ),
      );
    });

    it("status shows each GuestUpdate's container, backup, runner changes and health", async () => {
      const state = await stateWithUpdates();
      const { objects } = await readStateSnapshot(state);
      const lines = renderStatus(objects, NOW + HOUR);
      const c110 = lines.find((l) => l.includes("GuestUpdate/apps-110-"));
      expect(c110).toContain("Failed");
      expect(c110).toContain(
        "vmid 110 on pve1; backup snapshot refit-apps-20260307020500; os: Succeeded (curl 7.88.1-10→7.88.1-10+deb12u5); health 0/1",
      );
      expect(lines.some((l) => l.startsWith("GuestUpdatePolicy/homeassistant"))).toBe(true);
      const gu = objects.find((o) => o.kind === "GuestUpdate" && o.spec.vmid === 111);
      expect(gu && guestUpdateSummary(gu)).toBe("vmid 111 on pve2");
    });

    it("rollback records a request for the container's latest GuestUpdate, naming the backup", async () => {
      const state = await stateWithUpdates();
      const { io, out } = cliIo();
      expect(await rollbackCommand({ plan: "apps", vmid: "110", state, now: NOW }, io)).toBe(0);
      expect(out[0]).toMatch(
        /^rollback of 110 to refit-apps-20260307020500 requested \(GuestUpdate\/apps-110-c\d{14}/,
      );
      const req = JSON.parse(
        await readFile(join(state, "requests", "GuestUpdatePlan", "_", "apps", "rollback-110.json"), "utf8"),
      ) as unknown;
      expect(req).toEqual({ vmid: 110, requestedAt: new Date(NOW).toISOString() });
    });

    it.each([
      ["a container the plan never updated", { vmid: "300" }, /has not updated container 300/],
      ["a container whose update took no backup yet", { vmid: "111" }, /took no backup/],
      ["a snapshot Refit did not take", { vmid: "110", to: "before-upgrade" }, /not a backup Refit took/],
      ["an unknown plan", { plan: "nope", vmid: "110" }, /no GuestUpdatePlan\/nope/],
    ])("rollback refuses %s (exit 2)", async (_what, args, want) => {
      const state = await stateWithUpdates();
      const { io, err } = cliIo();
      expect(await rollbackCommand({ plan: "apps", state, now: NOW, ...args }, io)).toBe(2);
      expect(err.join("\n")).toMatch(want);
    });
  });
});

const HOUR = 3_600_000;
