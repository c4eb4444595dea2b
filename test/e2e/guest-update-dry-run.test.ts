/**
 * The guest update dry run against the simulator over SSH: per runner the pending updates and the
 * exact commands the run would send, the backup, restart and rollback commands, and the simulator's
 * state unchanged (the listings run without their index refresh).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { effectiveGuestPolicy } from "../../src/api/guest-policy.js";
import { ScaledClock } from "../../src/clock.js";
import { runProbe } from "../../src/health/index.js";
import { RUNNERS } from "../../src/runners/index.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { Controller } from "../../controller/app.js";
import { ClusterAccess } from "../../controller/fleet/cluster-access.js";
import { previewGuestUpdate } from "../../controller/guest-update/dry-run.js";
import { recordingLogger } from "../support/recording.js";
import { simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "..", "sim", "fleets", "three-node.yaml");

let sim: SimHandle | undefined;
let access: ClusterAccess | undefined;
afterEach(async () => {
  access?.close();
  await sim?.stop();
  sim = undefined;
  access = undefined;
});

/**
 * What a dry run could change: every guest (config, contents, snapshots, locks) and each node's
 * packages and units. (The cluster's own background life, HA rounds and the command record, goes on.)
 */
const world = (s: SimHandle): string => {
  const w = s.snapshot();
  return JSON.stringify({
    guests: w.guests,
    hosts: Object.values(w.hosts).map((h) => ({ apt: h.apt, units: h.units })),
  });
};

describe("guest update dry run (simulator over SSH)", () => {
  it("lists every runner's pending updates and the exact commands, and changes nothing", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, "");
    const c = await Controller.open({
      desiredDir: desired,
      stateDir: mkdtempSync(join(tmpdir(), "refit-e2e-state-")),
      clock,
      log: recordingLogger(),
      watch: false,
    });
    const cluster = (await c.store.list("ProxmoxCluster"))[0];
    await c.stop();
    if (!cluster) throw new Error("no ProxmoxCluster in the desired state");
    access = new ClusterAccess(cluster, { baseDir: desired });
    const before = world(sim);
    const commandsBefore = sim.history().commands.length;

    const preview = await previewGuestUpdate(
      {
        metadata: { name: "apps-200" },
        spec: {
          planRef: { name: "apps" },
          clusterRef: { name: "pve-lab" },
          vmid: 200,
          node: "pve1",
          type: "lxc",
          cycle: "dry",
          policy: effectiveGuestPolicy.parse({
            runners: [{ type: "os" }, { type: "pip", venvs: ["/opt/app/venv"] }],
            restart: { policy: "Services", services: ["nginx.service"] },
          }),
        },
      },
      { access, clock, runners: (t) => RUNNERS[t], runProbe },
    );

    expect(
      preview.runners.map((r) => [r.name, r.pending.map((p) => `${p.package} ${p.from} → ${p.to}`)]),
    ).toEqual([
      ["os", ["nginx 1.22.1-9 → 1.22.1-9+deb12u1"]],
      ["pip", ["/opt/app/venv:flask 3.0.3 → 3.1.0"]],
    ]);
    expect(preview.nothingToDo).toBe(false);
    const os = preview.runners[0]?.commands ?? [];
    expect(
      os.some(
        (l) =>
          l.startsWith("systemd-run --unit refit-gu-") &&
          l.includes("pct exec 200 --") &&
          l.includes("dist-upgrade"),
      ),
    ).toBe(true);
    expect(preview.backup.command).toMatch(
      /^systemd-run .*pct snapshot 200 refit-apps-\d{14} --description /,
    );
    expect(preview.restart.command).toMatch(/pct exec 200 -- systemctl restart nginx.service/);
    expect(preview.rollback.command).toMatch(/pct rollback 200 refit-apps-\d{14} --start 1/);
    // Nothing changed, and nothing but reads ran.
    expect(world(sim)).toBe(before);
    const ran = sim
      .history()
      .commands.slice(commandsBefore)
      .map((x) => x.command);
    expect(ran.filter((l) => /systemd-run|apt-get update|install|snapshot /.test(l))).toEqual([]);
  }, 60_000);
});
