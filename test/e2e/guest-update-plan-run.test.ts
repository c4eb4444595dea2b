/**
 * A GuestUpdatePlan end to end through `refit run --once` (the plan controller makes the GuestUpdate
 * child, the guest update flow carries it out) against the simulator over SSH: CT 200 of the
 * three-node fleet updated (apt + pip) and verified; the run settles on the plan's outcome.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { runOnce } from "../support/run-once.js";
import { simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "..", "sim", "fleets", "three-node.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const plan = (web: string) => `apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePlan
metadata:
  name: apps
spec:
  clusterRef: { name: pve-lab }
  selector:
    vmids: ["200"]
  runners:
    - { type: os }
    - { type: pip, venvs: [/opt/app/venv] }
  healthChecks:
    - { type: http, name: web, url: "${web}", interval: 5s, retries: 2 }
  restart: { policy: Services, services: [nginx.service, app.service] }
`;

describe("GuestUpdatePlan through refit run --once (simulator over SSH)", () => {
  it("the plan's child for CT 200 is updated and verified, and the run ends with the plan's outcome", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const web = sim.healthEndpoints().find((e) => e.vmid === 200)?.url ?? "";
    const run = await runOnce({ desired: simDesiredState(sim, plan(web)), clock, timing: TIMING });
    const children = run.objects.filter((o) => o.kind === "GuestUpdate");
    expect(
      children.map((c) => [c.spec.vmid, c.status?.phase]),
      run.log.join("\n"),
    ).toEqual([[200, "Succeeded"]]);
    const ct = sim.snapshot().guests["200"];
    expect(ct?.contents?.os.apt?.installed.nginx?.version).toBe("1.22.1-9+deb12u1");
    expect(ct?.contents?.pip["/opt/app/venv"]?.flask?.installed).toBe("3.1.0");
    expect(run.code).toBe(0);
  }, 180_000);
});
