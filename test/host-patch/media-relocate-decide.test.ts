/**
 * Decisions for ejected CD images and HA relocations of containers, from status alone (so a
 * controller restarted after a crash decides the same): the eject goes out with the migration, the
 * same image goes back in once the migrate-back is Done, exactly once; an HA relocation that HA does
 * not carry out within its bound fails instead of being requested again and again.
 */
import { describe, expect, it } from "vitest";
import { PHASES } from "../../controller/host-patch/flow.js";
import type { Observation, PatchContext } from "../../controller/host-patch/observation.js";
import type { Migration, Transition } from "../../controller/host-patch/transition.js";
import {
  HA_RELOCATE_START_AGAIN_BOUND_MS,
  HA_RELOCATE_START_BOUND_MS,
} from "../../controller/host-patch/ha-relocate.js";
import { migrationJobId } from "../../controller/host-patch/commands.js";
import { MEDIA_RESTORE_BOUND_MS } from "../../controller/host-patch/phases/migrations.js";
import { cluster, context, evacGuest, guest, job, node, NOW, obs, status, task, tasks } from "./support.js";

const ISO = "local:iso/debian-12.iso";
const MEDIA = [{ drive: "ide2", volume: ISO }];
const BEGUN = new Date(NOW - 120_000).toISOString();

function decide(ctx: Partial<PatchContext>, o: Observation): Transition {
  const c = context(ctx);
  return PHASES[c.status.phase ?? "Pending"].decide(c, o);
}
const commands = (t: Transition): string[] =>
  t.kind === "act"
    ? t.actions.flatMap((a) => (a.type === "run" ? [`${a.command.on}: ${a.command.argv.join(" ")}`] : []))
    : [];
const patchOf = (t: Transition) => (t.kind === "idle" ? {} : (t.patch ?? {}));
const mig = (over: Partial<Migration>): Migration => ({
  vmid: 100,
  type: "qemu",
  from: "pve1",
  to: "pve2",
  mode: "online",
  state: "Planned",
  ...over,
});
const evacuating = (migrations: Migration[]) =>
  status({
    phase: "Evacuating",
    currentStep: { name: "evacuate", id: "c1-evacuate", startedAt: "t" },
    rebootDecision: { required: true, reasons: ["kernel"] },
    migrations,
  });
const restoring = (migrationsToUndo: Migration[]) =>
  status({ phase: "Restoring", rebootDecision: { required: true, reasons: ["k"] }, migrationsToUndo });

describe("ejected CD images", () => {
  it("the eject is sent before the migration that was planned with it", () => {
    const t = decide(
      { status: evacuating([mig({ ejectedMedia: MEDIA })]) },
      obs({ cluster: cluster({ guests: [guest(100, "pve1")] }) }),
    );
    expect(commands(t)).toEqual([
      "pve1: qm set 100 --ide2 none,media=cdrom",
      expect.stringMatching(/^pve1: .*qm migrate 100 pve2 --online 1/),
    ]);
  });

  it("crash between recording the move and sending it: the eject is sent again with the migration", () => {
    const t = decide(
      { status: evacuating([mig({ ejectedMedia: MEDIA, state: "Running", startedAt: BEGUN })]) },
      obs({
        cluster: cluster({ guests: [guest(100, "pve1")] }),
        tasks: tasks({ on: "pve1", vmid: 100, tasks: [] }),
        jobs: { [migrationJobId(context().hp, 100, false)]: job("unknown") },
      }),
    );
    expect(commands(t)).toEqual([
      "pve1: qm set 100 --ide2 none,media=cdrom",
      expect.stringMatching(/^pve1: .*qm migrate 100 pve2 --online 1/),
    ]);
  });

  it("after the return the same image goes back in until the config shows it (so also after a crash)", () => {
    const back = mig({ from: "pve2", to: "pve1", state: "Running", startedAt: BEGUN, ejectedMedia: MEDIA });
    const home = (media: typeof MEDIA) =>
      obs({
        cluster: cluster({ guests: [guest(100, "pve1")] }),
        tasks: tasks({ on: "pve2", vmid: 100, tasks: [task("qmigrate", 100, { on: "pve2", status: "OK" })] }),
        guests: [evacGuest(100, { localMedia: media })],
      });
    expect(PHASES.Restoring.needs(context({ status: restoring([back]) }))).toMatchObject({ guests: true });
    const t = decide({ status: restoring([back]) }, home([]));
    expect(commands(t)).toEqual([`pve1: qm set 100 --ide2 ${ISO},media=cdrom`]);
    const done = patchOf(t).migrationsToUndo ?? [];
    expect(done[0]).toMatchObject({ state: "Done" });
    expect(done[0]?.mediaRestored).toBeUndefined();
    // A controller that restarts here, or a qm set that was lost, sends it again: not yet in the config.
    expect(commands(decide({ status: restoring(done) }, home([])))).toEqual([
      `pve1: qm set 100 --ide2 ${ISO},media=cdrom`,
    ]);
    // Seen in the config: recorded, and the patch finishes without sending it again.
    const seen = decide({ status: restoring(done) }, home(MEDIA));
    expect(commands(seen)).toEqual([]);
    expect(patchOf(seen).migrationsToUndo?.[0]?.mediaRestored).toBe(true);
    expect(decide({ status: restoring(patchOf(seen).migrationsToUndo ?? []) }, home(MEDIA))).toMatchObject({
      kind: "goto",
      phase: "Succeeded",
    });
  });

  it("an image not back within the bound is given up on (said so) and the patch goes on", () => {
    const done = mig({
      from: "pve2",
      to: "pve1",
      state: "Done",
      finishedAt: new Date(NOW - MEDIA_RESTORE_BOUND_MS - 1000).toISOString(),
      ejectedMedia: MEDIA,
    });
    const t = decide(
      { status: restoring([done]) },
      obs({ cluster: cluster({ guests: [guest(100, "pve1")] }), guests: [evacGuest(100)] }),
    );
    expect(patchOf(t).migrationsToUndo?.[0]).toMatchObject({ mediaRestored: false });
    expect(patchOf(t).migrationsToUndo?.[0]?.message).toMatch(/could not put back ide2: local:iso/);
  });
});

describe("HA relocation of a container", () => {
  const ct = (startedAt: string) =>
    mig({ vmid: 200, type: "lxc", mode: "ha", restart: true, state: "Running", startedAt });
  const stillHome = obs({
    cluster: cluster({ guests: [guest(200, "pve1", { type: "lxc", hastate: "started" })] }),
    tasks: tasks({ on: "pve1", vmid: 200, tasks: [] }),
  });

  it("within HA's bound, with no move yet: the request is repeated only if HA lost it", () => {
    const t = decide({ status: evacuating([ct(BEGUN)]) }, stillHome);
    expect(t.kind).not.toBe("fail");
  });

  it("past the bound with no move: the evacuation fails, naming HA's shutdown timeout", () => {
    const long = new Date(NOW - HA_RELOCATE_START_BOUND_MS - 1000).toISOString();
    const t = decide({ status: evacuating([ct(long)]) }, stillHome);
    expect(t).toMatchObject({ kind: "fail", reason: "MigrationFailed" });
    expect(patchOf(t).migrations?.[0]?.message).toMatch(/HA did not start moving it within 180 s/);
  });
});

describe("HA relocation off a node to be rebooted: the reboot does not wait for HA's start on the target", () => {
  const ct = mig({ vmid: 200, type: "lxc", mode: "ha", restart: true, state: "Running", startedAt: BEGUN });
  const moved = (status: "stopped" | "running", lock?: string) =>
    obs({
      cluster: cluster({
        guests: [guest(200, "pve2", { type: "lxc", hastate: "started", status, ...(lock ? { lock } : {}) })],
      }),
      tasks: tasks({ on: "pve1", vmid: 200, tasks: [task("vzmigrate", 200, { status: "OK" })] }),
    });

  it("task OK, on its target, unlocked but not started yet: Done, its start owed (the node may reboot)", () => {
    const t = decide({ status: evacuating([ct]) }, moved("stopped"));
    expect(patchOf(t).migrations?.[0]).toMatchObject({ state: "Done", awaitingStart: true });
  });

  it("still locked on its target: not Done", () => {
    const t = decide({ status: evacuating([ct]) }, moved("stopped", "migrate"));
    expect(patchOf(t).migrations?.[0]?.state ?? "Running").toBe("Running");
  });

  it("already running there: Done, nothing owed", () => {
    const t = decide({ status: evacuating([ct]) }, moved("running"));
    expect(patchOf(t).migrations?.[0]).toMatchObject({ state: "Done" });
    expect(patchOf(t).migrations?.[0]?.awaitingStart).toBeUndefined();
  });

  it("going home the container must run at home before the move counts", () => {
    const home = { ...ct, from: "pve2", to: "pve1" };
    const t = decide(
      { status: restoring([home]) },
      obs({
        cluster: cluster({
          guests: [guest(200, "pve1", { type: "lxc", hastate: "started", status: "stopped" })],
        }),
        tasks: tasks({
          on: "pve2",
          vmid: 200,
          tasks: [task("vzmigrate", 200, { on: "pve2", status: "OK" })],
        }),
      }),
    );
    expect(patchOf(t).migrationsToUndo?.[0]?.state ?? "Running").toBe("Running");
  });

  const verifying = (finishedAt: number) =>
    status({
      phase: "Verifying",
      rebootDecision: { required: true, reasons: ["kernel"] },
      migrations: [
        {
          ...ct,
          state: "Done",
          finishedAt: new Date(finishedAt).toISOString(),
          awaitingStart: true,
          to: "pve2",
        },
      ],
    });
  const after = (status: "stopped" | "running") =>
    obs({
      node: { ok: true, value: node() },
      cluster: cluster({ guests: [guest(200, "pve2", { type: "lxc", hastate: "started", status })] }),
    });

  it("Verifying: HA has started it on its target → proven, said so, and the guests go home", () => {
    const t = decide({ status: verifying(NOW - 60_000) }, after("running"));
    expect(t).toMatchObject({ kind: "goto", phase: "Restoring" });
    expect(patchOf(t).migrations?.[0]?.awaitingStart).toBeUndefined();
    expect(t.kind === "goto" && t.notes?.map((n) => n.message)).toContain(
      "lxc 200 runs on pve2 (HA started it)",
    );
  });

  it("Verifying: not started yet, within HA's bound → waits, naming it", () => {
    const t = decide({ status: verifying(NOW - 10_000) }, after("stopped"));
    expect(t.kind).toBe("wait");
    expect(t.kind === "wait" && t.message).toBe("waiting for HA to start 200 on pve2");
  });

  it("Verifying: not started within HA's bound → fails, saying what to check", () => {
    const t = decide({ status: verifying(NOW - HA_RELOCATE_START_AGAIN_BOUND_MS - 1000) }, after("stopped"));
    expect(t).toMatchObject({ kind: "fail", reason: "RelocationFailed" });
    expect(t.kind === "fail" && t.message).toMatch(/not running on its target .* check ha-manager status/);
  });
});
