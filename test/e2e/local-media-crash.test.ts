/**
 * evacuation.ejectLocalMedia across a controller crash: the controller (a real process) is killed
 * (SIGKILL) once the ejected image is recorded and its VM is on the move, or once the node is
 * rebooting, and started again on the same state directory. The image still goes back in once the VM
 * is home, the VM moves once each way, and the node reboots once.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { spawnController } from "../support/controller-process.js";
import { rollingPlan, simDesiredState } from "../support/sim-desired.js";
import { run } from "../sim/ssh-client.js";

const FLEET = join(import.meta.dirname, "fleets", "local-resources.yaml");
const TIMING = { pollMs: 2_000, waitMs: 5_000, idleMs: 60_000, rebootGraceMs: 180_000 };
const ISO = "local:iso/debian-12.7.0-amd64-netinst.iso";

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode);
    else child.once("exit", (code) => done(code));
  });
}

async function pve1Status(state: string): Promise<Record<string, unknown> | undefined> {
  const objects = await readState(state).catch(() => []);
  return objects.find((o) => o.kind === "HostPatch" && o.spec.host === "pve1")?.status;
}

async function crashWhen(killAt: (s: Record<string, unknown>) => boolean): Promise<void> {
  const clock = new ScaledClock(60);
  let sim: SimHandle | undefined;
  const children: ChildProcess[] = [];
  try {
    sim = await startSimulator({ fleet: FLEET, clock });
    const desired = simDesiredState(sim, rollingPlan("  evacuation: { ejectLocalMedia: true }\n"));
    const state = mkdtempSync(join(tmpdir(), "refit-crash-media-"));
    const first = spawnController(desired, state, clock, TIMING);
    children.push(first);
    const deadline = Date.now() + 90_000;
    let hit = false;
    while (Date.now() < deadline && first.exitCode === null) {
      const s = await pve1Status(state);
      if (s && killAt(s)) {
        hit = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill("SIGKILL");
    await exited(first);
    expect(hit, "the controller was killed at the point").toBe(true);

    const second = spawnController(desired, state, clock, TIMING);
    children.push(second);
    let stderr = "";
    second.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await exited(second);
    const s = await pve1Status(state);
    expect({ code, phase: s?.phase, stderr: stderr.slice(-500) }).toMatchObject({
      code: 0,
      phase: "Succeeded",
    });

    const h = sim.history();
    // Once away and once back, neither refused (it never moved with the image in).
    const moves = h.migrations.filter((m) => m.vmid === 300).map((m) => [m.from, m.to, m.ok]);
    expect(moves).toEqual([
      ["pve1", moves[0]?.[1], true],
      [moves[0]?.[1], "pve1", true],
    ]);
    expect(h.bootIds.pve1?.length).toBe(2);
    expect((await run(sim, "pve1", "qm config 300")).stdout).toContain(`ide2: ${ISO},media=cdrom`);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await sim?.stop();
  }
}

type Mig = { vmid: number; state: string; ejectedMedia?: unknown };
const migrating = (s: Record<string, unknown>): boolean =>
  ((s.migrations as Mig[] | undefined) ?? []).some(
    (m) => m.vmid === 300 && m.ejectedMedia && m.state === "Running",
  );

describe("ejected CD images across a controller crash", () => {
  it(
    "killed while the VM moves away with its image ejected: put back after the return",
    () => crashWhen(migrating),
    240_000,
  );

  it(
    "killed while the node reboots: put back after the return",
    () => crashWhen((s) => s.phase === "AwaitingReturn"),
    240_000,
  );
});
