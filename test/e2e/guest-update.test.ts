/**
 * The guest update flow end to end against the simulator over SSH: the controller (file mode, the
 * GuestUpdate reconciler) updates CT 200 of the three-node fleet (apt + pip) with a snapshot before
 * and the health check after; a broken update (the app fails when restarted) is rolled back to the
 * snapshot, with the old versions back and the app healthy. The GuestUpdate objects are created
 * directly in the store, as the plan controller would.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { effectiveGuestPolicy } from "../../src/api/guest-policy.js";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import type { Notifier, PlanNotice } from "../../controller/context.js";
import { isFinal } from "../../controller/guest-update/flow.js";
import { simDesiredState } from "../support/sim-desired.js";
import { recordingLogger } from "../support/recording.js";

const FLEET = join(import.meta.dirname, "..", "sim", "fleets", "three-node.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const VENV = "/opt/app/venv";
const TWO = join(import.meta.dirname, "fleets", "guest-update.yaml");

let sim: SimHandle | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.stop();
  await sim?.stop();
  controller = undefined;
  sim = undefined;
});

function recordingNotifier(): Notifier & { notices: PlanNotice[] } {
  const notices: PlanNotice[] = [];
  return {
    notices,
    notify: (n) => {
      notices.push(n);
      return Promise.resolve();
    },
  };
}

async function start(clock: ScaledClock, fleet = FLEET) {
  sim = await startSimulator({ fleet, clock });
  const desired = simDesiredState(sim, "");
  const state = mkdtempSync(join(tmpdir(), "refit-e2e-state-"));
  const notifier = recordingNotifier();
  const log = recordingLogger();
  controller = await Controller.open({
    desiredDir: desired,
    stateDir: state,
    clock,
    log,
    timing: TIMING,
    notifier,
    watch: false,
  });
  await controller.start();
  return { sim, controller, state, notifier, log };
}

function guestUpdate(namespace: string, policy: Record<string, unknown>, vmid = 200): GuestUpdate {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdate",
    metadata: {
      name: `apps-${vmid}`,
      ...(namespace ? { namespace } : {}),
      labels: { "refit.dev/plan": "apps" },
    },
    spec: {
      planRef: { name: "apps" },
      clusterRef: { name: "pve-lab" },
      vmid,
      node: "pve1",
      type: "lxc",
      cycle: "c1",
      policy: effectiveGuestPolicy.parse(policy),
    },
  };
}

/** Waits (real time) until the update reaches a final phase, and returns it. */
async function finalOf(
  c: Controller,
  namespace: string,
  log: string[],
  vmid = 200,
  ms = 90_000,
): Promise<GuestUpdate> {
  const until = Date.now() + ms;
  for (;;) {
    const gu = await c.store.get("GuestUpdate", namespace, `apps-${vmid}`);
    if (gu && isFinal(gu.status?.phase)) return gu;
    if (Date.now() > until)
      throw new Error(
        `GuestUpdate still ${gu?.status?.phase ?? "absent"} after ${ms} ms:\n${JSON.stringify(gu?.status, null, 1)}\n${log.join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits (real time, bounded) for `cond`. */
async function eventually(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

function versions(s: SimHandle) {
  const c = s.snapshot().guests["200"]?.contents;
  return {
    nginx: c?.os.apt?.installed.nginx?.version,
    flask: c?.pip[VENV]?.flask?.installed,
    app: c?.services.app?.active,
  };
}

const policyOf = (webUrl: string) => ({
  runners: [{ type: "os" }, { type: "pip", venvs: [VENV] }],
  healthChecks: [{ type: "http", name: "web", url: webUrl, interval: "5s", retries: 2 }],
  restart: { policy: "Services", services: ["nginx.service", "app.service"] },
});

describe("guest update (simulator over SSH)", () => {
  it("updates apt and pip packages behind a snapshot, restarts the services, verifies health: Succeeded", async () => {
    const clock = new ScaledClock(50);
    const { sim: s, controller: c, notifier, log, state } = await start(clock);
    const web = s.healthEndpoints().find((e) => e.vmid === 200)?.url ?? "";
    const namespace = (await c.store.list("ProxmoxCluster"))[0]?.metadata.namespace ?? "";
    expect(versions(s)).toEqual({ nginx: "1.22.1-9", flask: "3.0.3", app: "active" });

    await c.store.create(guestUpdate(namespace, policyOf(web)));
    const gu = await finalOf(c, namespace, log.lines);

    expect(gu.status?.phase).toBe("Succeeded");
    expect(versions(s)).toEqual({ nginx: "1.22.1-9+deb12u1", flask: "3.1.0", app: "active" });
    expect(
      gu.status?.runners.map((r) => [
        r.name,
        r.result,
        r.pending.map((p) => `${p.package} ${p.from} → ${p.to}`),
      ]),
    ).toEqual([
      ["os", "Succeeded", ["nginx 1.22.1-9 → 1.22.1-9+deb12u1"]],
      ["pip", "Succeeded", [`${VENV}:flask 3.0.3 → 3.1.0`]],
    ]);
    const snap = gu.status?.snapshot?.name ?? "";
    expect(snap).toMatch(/^refit-apps-\d{14}$/);
    expect(s.snapshot().guests["200"]?.snapshots.map((x) => x.name)).toContain(snap);
    expect(s.snapshot().guests["200"]?.lock).toBeUndefined();
    expect(gu.status?.healthBaseline.map((h) => [h.name, h.healthy])).toEqual([["web", true]]);
    expect(gu.status?.healthResults.map((h) => [h.name, h.healthy])).toEqual([["web", true]]);
    expect(gu.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
      status: "True",
      reason: "Updated",
    });
    expect(gu.status?.currentStep).toBeUndefined();
    expect(notifier.notices).toEqual([]);
    // Each step ran once, inside the container, as a transient unit on the node.
    const runs = s.history().commands.filter((x) => x.host === "pve1" && x.command.includes("systemd-run"));
    expect(runs.filter((x) => x.command.includes("dist-upgrade"))).toHaveLength(1);
    expect(runs.filter((x) => x.command.includes("pct snapshot"))).toHaveLength(1);
    const history = readFileSync(join(state, "history", "GuestUpdate", "pve-lab-200.jsonl"), "utf8");
    expect(history).toMatch(/nginx 1.22.1-9 → 1.22.1-9\+deb12u1/);
  }, 120_000);

  it("a broken update (the new app fails when restarted, its endpoint answers 503) is rolled back: old versions, healthy, loud", async () => {
    const clock = new ScaledClock(50);
    const { sim: s, controller: c, notifier, log } = await start(clock);
    const web = s.healthEndpoints().find((e) => e.vmid === 200)?.url ?? "";
    const namespace = (await c.store.list("ProxmoxCluster"))[0]?.metadata.namespace ?? "";
    // The new version of the app does not come up: its next restart fails (systemctl exits 1).
    s.faults.add({ kind: "serviceFailed", vmid: 200, service: "app", onRestart: true, times: 1 });

    await c.store.create(guestUpdate(namespace, policyOf(web)));
    const gu = await finalOf(c, namespace, log.lines);

    expect(gu.status?.phase).toBe("RolledBack");
    expect(versions(s)).toEqual({ nginx: "1.22.1-9", flask: "3.0.3", app: "active" });
    const snap = gu.status?.snapshot?.name ?? "?";
    expect(gu.status?.rollback).toMatchObject({
      done: true,
      result: "Succeeded",
      reason: "RestartFailed",
      attempts: 1,
    });
    expect(gu.status?.lastError?.message).toMatch(/Restart\/services of CT 200 failed with exit code 1/);
    expect(gu.status?.healthResults.map((h) => [h.name, h.healthy])).toEqual([["web", true]]);
    expect(gu.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
      status: "False",
      reason: "RolledBack",
    });
    expect((await fetch(web)).status).toBe(200);
    expect(s.snapshot().guests["200"]?.lock).toBeUndefined();
    expect(s.snapshot().guests["200"]?.status).toBe("running");
    await eventually(() => notifier.notices.length > 0);
    expect(notifier.notices.map((n) => [n.event, n.severity])).toEqual([["RolledBack", "error"]]);
    expect(notifier.notices[0]?.summary).toMatch(
      new RegExp(`CT 200 rolled back to ${snap} after: .*app.*; it runs the old versions and is healthy`),
    );
  }, 120_000);

  it("with rollback policy Manual a broken update is left Failed, the snapshot kept and named for refit rollback", async () => {
    const clock = new ScaledClock(50);
    const { sim: s, controller: c, notifier, log } = await start(clock);
    const web = s.healthEndpoints().find((e) => e.vmid === 200)?.url ?? "";
    const namespace = (await c.store.list("ProxmoxCluster"))[0]?.metadata.namespace ?? "";
    s.faults.add({ kind: "serviceFailed", vmid: 200, service: "app", onRestart: true, times: 1 });

    await c.store.create(guestUpdate(namespace, { ...policyOf(web), rollback: { policy: "Manual" } }));
    const gu = await finalOf(c, namespace, log.lines);

    expect(gu.status?.phase).toBe("Failed");
    expect(versions(s)).toEqual({ nginx: "1.22.1-9+deb12u1", flask: "3.1.0", app: "failed" });
    const snap = gu.status?.snapshot?.name ?? "?";
    expect(s.snapshot().guests["200"]?.snapshots.map((x) => x.name)).toContain(snap);
    expect(gu.status?.lastError?.message).toContain(
      `backup ${snap} is kept: run \`refit rollback apps 200\``,
    );
    expect(gu.status?.conditions?.find((x) => x.type === "Stalled")).toMatchObject({
      status: "True",
      reason: "RestartFailed",
    });
    // The notice goes out right after the final status is written.
    await eventually(() => notifier.notices.length > 0);
    expect(notifier.notices.map((n) => [n.event, n.severity])).toEqual([["TargetFailed", "error"]]);

    // `refit rollback apps 200` (the plan turns it into these annotations): the kept snapshot is restored.
    const failed = await c.store.get("GuestUpdate", namespace, "apps-200");
    if (!failed) throw new Error("GuestUpdate apps-200 is gone");
    const requestedAt = new Date(clock.now()).toISOString();
    await c.store.update({
      ...failed,
      metadata: { ...failed.metadata, annotations: { "refit.dev/rollback-requested-at": requestedAt } },
    });
    const until = Date.now() + 60_000;
    let back = await c.store.get("GuestUpdate", namespace, "apps-200");
    while (back?.status?.phase !== "RolledBack" && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      back = await c.store.get("GuestUpdate", namespace, "apps-200");
    }
    expect(back?.status?.phase).toBe("RolledBack");
    expect(back?.status?.lastHandledRequestAt).toBe(requestedAt);
    expect(back?.status?.rollback).toMatchObject({
      done: true,
      result: "Succeeded",
      reason: "OperatorRequested",
    });
    expect(versions(s)).toEqual({ nginx: "1.22.1-9", flask: "3.0.3", app: "active" });
    expect((await fetch(web)).status).toBe(200);
    expect(
      s
        .history()
        .commands.filter(
          (x) => x.via === "ssh" && x.command.startsWith("systemd-run") && x.command.includes("pct rollback"),
        ),
    ).toHaveLength(1);
  }, 120_000);

  it("three ecosystems (apt, pip, compose) in an unprivileged and a privileged container: updated, restarted, healthy, backups pruned to keepLast", async () => {
    const clock = new ScaledClock(50);
    const { sim: s, controller: c, notifier, log } = await start(clock, TWO);
    const namespace = (await c.store.list("ProxmoxCluster"))[0]?.metadata.namespace ?? "";
    for (const vmid of [210, 211]) {
      const web = s.healthEndpoints().find((e) => e.vmid === vmid)?.url ?? "";
      await c.store.create(
        guestUpdate(
          namespace,
          {
            ...policyOf(web),
            runners: [
              { type: "os" },
              { type: "pip", venvs: [VENV] },
              { type: "dockerCompose", projects: ["/opt/stack"] },
            ],
            backup: { retention: { keepLast: 2 } },
          },
          vmid,
        ),
      );
    }
    for (const vmid of [210, 211]) {
      const gu = await finalOf(c, namespace, log.lines, vmid);
      const label = `CT ${vmid}`;
      expect(gu.status?.phase, label).toBe("Succeeded");
      const ct = s.snapshot().guests[String(vmid)];
      expect(ct?.contents?.os.apt?.installed.nginx?.version, label).toBe("1.22.1-9+deb12u1");
      expect(ct?.contents?.pip[VENV]?.flask?.installed, label).toBe("3.1.0");
      expect(ct?.contents?.compose["/opt/stack/compose.yaml"]?.services.redis?.digest, label).toMatch(
        /^sha256:1{64}$/,
      );
      expect(
        gu.status?.runners.map((r) => [r.name, r.result]),
        label,
      ).toEqual([
        ["os", "Succeeded"],
        ["pip", "Succeeded"],
        ["dockerCompose", "Succeeded"],
      ]);
      expect(
        gu.status?.healthResults.map((h) => [h.name, h.healthy]),
        label,
      ).toEqual([["web", true]]);
      // Retention keeps the newest two of Refit's own snapshots and never touches the one taken by hand.
      expect(ct?.snapshots.map((x) => x.name).sort(), label).toEqual(
        ["before-upgrade", "refit-apps-20261115010000", gu.status?.snapshot?.name ?? "?"].sort(),
      );
      expect(ct?.lock, label).toBeUndefined();
      const restarts = s
        .history()
        .commands.filter((x) => x.via === "pct-exec" && x.command.startsWith("systemctl restart"));
      expect(restarts.length, label).toBeGreaterThanOrEqual(2);
    }
    expect(notifier.notices).toEqual([]);
  }, 120_000);

  it("preflight gates: an unreachable repository, a Proxmox lock and a stopped container each end Blocked after the bound, with no backup and nothing changed", async () => {
    const clock = new ScaledClock(200);
    const { sim: s, controller: c, log } = await start(clock, TWO);
    const namespace = (await c.store.list("ProxmoxCluster"))[0]?.metadata.namespace ?? "";
    s.faults.add({ kind: "repoFailure", host: "ct210" });
    const policy = { runners: [{ type: "os" }], timeouts: { preflight: "2m" } };
    for (const vmid of [210, 212, 213]) await c.store.create(guestUpdate(namespace, policy, vmid));
    const seen = [];
    for (const vmid of [210, 212, 213]) {
      const gu = await finalOf(c, namespace, log.lines, vmid);
      seen.push([vmid, gu.status?.phase, gu.status?.conditions?.find((x) => x.type === "Ready")?.reason]);
      expect(gu.status?.snapshot, `CT ${vmid}`).toBeUndefined();
      const ct = s.snapshot().guests[String(vmid)];
      // No snapshot was taken: only the fleet's own remain.
      expect(
        ct?.snapshots.map((x) => x.name),
        `CT ${vmid}`,
      ).toEqual(
        vmid === 210 ? ["before-upgrade", "refit-apps-20261101010000", "refit-apps-20261115010000"] : [],
      );
      expect(ct?.contents?.os.apt?.installed.nginx?.version, `CT ${vmid}`).toBe("1.22.1-9");
    }
    expect(seen).toEqual([
      [210, "Blocked", "RepositoryUnreachable"],
      [212, "Blocked", "GuestLocked"],
      [213, "Blocked", "ContainerStopped"],
    ]);
    const ran = s.history().commands.filter((x) => x.via === "ssh" && x.command.startsWith("systemd-run"));
    expect(ran).toEqual([]);
  }, 120_000);

  it("a stopped container with requireRunning false is started, updated and shut down again", async () => {
    const clock = new ScaledClock(100);
    const { sim: s, controller: c, log } = await start(clock, TWO);
    const namespace = (await c.store.list("ProxmoxCluster"))[0]?.metadata.namespace ?? "";
    const policy = { runners: [{ type: "os" }], preflight: { requireRunning: false } };
    await c.store.create(guestUpdate(namespace, policy, 213));
    let gu = await finalOf(c, namespace, log.lines, 213);
    const until = Date.now() + 30_000;
    while (gu.status?.startedForUpdate && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      gu = (await c.store.get("GuestUpdate", namespace, "apps-213")) ?? gu;
    }
    expect(gu.status?.phase).toBe("Succeeded");
    expect(gu.status?.startedForUpdate).toBeUndefined();
    const ct = s.snapshot().guests["213"];
    expect(ct?.contents?.os.apt?.installed.nginx?.version).toBe("1.22.1-9+deb12u1");
    expect(ct?.status).toBe("stopped");
    expect(
      s
        .history()
        .guestEvents.filter((e) => e.vmid === 213)
        .map((e) => e.event),
    ).toEqual(["start", "stop"]);
  }, 120_000);
});
