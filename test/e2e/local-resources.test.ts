/**
 * Local resources end to end: a VM with a local CD image cannot be migrated (qemu-server refuses
 * it), so the plan reports it before anything moves; with evacuation.ejectLocalMedia the image is
 * ejected before the move and put back once the VM is home again.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { planCommand } from "../../controller/cli/commands/plan.js";
import type { PlanPreview } from "../../controller/host-patch/dry-run.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { runOnce } from "../support/run-once.js";
import { run } from "../sim/ssh-client.js";

const FLEET = join(import.meta.dirname, "fleets", "local-resources.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const ISO = "local:iso/debian-12.7.0-amd64-netinst.iso";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("a local CD image", () => {
  it("refit plan reports the VM as unmovable and the node as blocked, before anything moves", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(20) });
    const desired = simDesiredState(sim, rollingPlan());
    const out: string[] = [];
    const code = await planCommand(
      { desired, json: true },
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    const { plans } = JSON.parse(out.join("\n")) as { plans: PlanPreview[] };
    const pve1 = plans[0]!.nodes.find((n) => n.node === "pve1");
    expect(pve1).toMatchObject({ action: "blocked" });
    expect(pve1?.why).toContain(
      `VM 300 (installer) has a local CD image (ide2: ${ISO}); eject it or set evacuation.ejectLocalMedia`,
    );
    expect(sim.history().migrations).toEqual([]);
  }, 60_000);

  it("with ejectLocalMedia: ejected before the move, the VM patched around, the same image back in after", async () => {
    const clock = new ScaledClock(50);
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, rollingPlan("  evacuation: { ejectLocalMedia: true }\n"));
    const { code, out, patches } = await runOnce({ desired, clock, timing: TIMING });
    const pve1 = patches.find((p) => p.spec.host === "pve1");
    expect({ code, phase: pve1?.status?.phase, out }).toMatchObject({ code: 0, phase: "Succeeded" });

    const history = sim.history();
    const at = (re: RegExp): number => {
      const c = history.commands.find((x) => re.test(x.command));
      expect(c, String(re)).toBeDefined();
      return c!.at;
    };
    const eject = at(/qm set 300 --ide2 none,media=cdrom/);
    const away = history.migrations.find((m) => m.vmid === 300 && m.from === "pve1" && m.ok);
    const home = history.migrations.find((m) => m.vmid === 300 && m.to === "pve1" && m.ok);
    expect(away && home, "VM 300 moved away and back").toBeTruthy();
    expect(eject).toBeLessThan(away!.startedAt);
    const reinsert = at(new RegExp(`qm set 300 --ide2 ${ISO.replace(/[.]/g, "\\.")},media=cdrom`));
    expect(reinsert).toBeGreaterThanOrEqual(home!.endedAt);
    // No migration of it was refused: it never moved with the image in.
    expect(history.migrations.filter((m) => m.vmid === 300 && !m.ok)).toEqual([]);

    expect((await run(sim, "pve1", "qm config 300")).stdout).toContain(`ide2: ${ISO},media=cdrom`);
    const migrations = pve1?.status?.migrations as { vmid: number; ejectedMedia?: unknown }[] | undefined;
    expect(migrations?.find((m) => m.vmid === 300)?.ejectedMedia).toEqual([{ drive: "ide2", volume: ISO }]);
    const undo = pve1?.status?.migrationsToUndo as { vmid: number; mediaRestored?: boolean }[] | undefined;
    expect(undo?.find((m) => m.vmid === 300)?.mediaRestored).toBe(true);
  }, 240_000);
});
