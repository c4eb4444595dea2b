import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "./ssh-client.js";

/**
 * Guest shutdown as qemu-server and pve-container do it (see src/sim/REFERENCE-ha-shutdown.md):
 * the request reaches the guest at once, the command waits `--timeout` (default 60), then forces or
 * fails; a guest with the `ignoresShutdown` fault never goes down by itself.
 */

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const FLEET: FleetInput = {
  clusters: [
    {
      name: "solo",
      standalone: true,
      nodes: [{ name: "pve9", kernel: { running: "6.8.12-9-pve" } }],
      guests: [
        { vmid: 100, type: "qemu", name: "slowvm", node: "pve9", shutdownSeconds: 60 },
        { vmid: 101, type: "qemu", name: "vm", node: "pve9" },
        { vmid: 200, type: "lxc", name: "slowct", node: "pve9", shutdownSeconds: 60 },
        { vmid: 201, type: "lxc", name: "ct", node: "pve9" },
        { vmid: 202, type: "lxc", name: "off", node: "pve9", status: "stopped" },
        { vmid: 102, type: "qemu", name: "offvm", node: "pve9", status: "stopped" },
      ],
    },
  ],
};

async function start(): Promise<SimHandle> {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(50) });
  return sim;
}

function status(s: SimHandle, vmid: number): string {
  return s.snapshot().guests[String(vmid)]!.status;
}

/** Runs a command and returns its result with the sim seconds it took. */
async function timed(
  s: SimHandle,
  command: string,
): Promise<Awaited<ReturnType<typeof run>> & { seconds: number }> {
  const t0 = s.clock.now();
  const r = await run(s, "pve9", command);
  return { ...r, seconds: (s.clock.now() - t0) / 1000 };
}

function stops(s: SimHandle, vmid: number): string[] {
  return s
    .history()
    .guestEvents.filter((e) => e.vmid === vmid && e.event === "stop")
    .map((e) => e.reason);
}

describe("qm shutdown", () => {
  it("shuts a VM down within the timeout: graceful, reason qm-shutdown", async () => {
    const s = await start();
    const r = await timed(s, "qm shutdown 101 --timeout 60");
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(r.seconds).toBeGreaterThanOrEqual(5);
    expect(r.seconds).toBeLessThan(30);
    expect(stops(s, 101)).toEqual(["qm-shutdown"]);
  });

  it("without --forceStop fails after the timeout with qemu-server's text; the VM still goes down later", async () => {
    const s = await start();
    const r = await timed(s, "qm shutdown 100 --timeout 10");
    expect(r).toMatchObject({ code: 255, stderr: "VM quit/powerdown failed - got timeout\n" });
    expect(r.seconds).toBeGreaterThanOrEqual(10);
    expect(r.seconds).toBeLessThan(40);
    expect(status(s, 100)).toBe("running");
    // The ACPI request was delivered: the guest finishes its own shutdown at 60 s.
    await eventually(() => status(s, 100) === "stopped", "the slow VM to finish its shutdown");
    expect(stops(s, 100)).toEqual(["qm-shutdown"]);
  });

  it("with --forceStop 1 hard-stops at the timeout instead of waiting the guest's shutdown time", async () => {
    const s = await start();
    const r = await timed(s, "qm shutdown 100 --timeout 10 --forceStop 1");
    expect(r).toMatchObject({
      code: 0,
      stdout: "VM still running - terminating now with SIGTERM\n",
      stderr: "",
    });
    expect(r.seconds).toBeGreaterThanOrEqual(10);
    expect(r.seconds).toBeLessThan(40);
    expect(status(s, 100)).toBe("stopped");
    expect(stops(s, 100)).toEqual(["qm-shutdown-forced"]);
  });

  it("ignoresShutdown: the default timeout is 60 s; it fails, or with forceStop kills the VM at 60 s", async () => {
    const s = await start();
    s.faults.add({ kind: "ignoresShutdown", vmid: 101 });
    const failed = await timed(s, "qm shutdown 101");
    expect(failed).toMatchObject({ code: 255, stderr: "VM quit/powerdown failed - got timeout\n" });
    expect(failed.seconds).toBeGreaterThanOrEqual(60);
    expect(failed.seconds).toBeLessThan(90);
    expect(status(s, 101)).toBe("running");
    const rebooted = await timed(s, "qm reboot 101 --timeout 5");
    expect(rebooted).toMatchObject({ code: 255, stderr: "VM quit/powerdown failed - got timeout\n" });
    expect(status(s, 101)).toBe("running");
    const forced = await timed(s, "qm shutdown 101 --forceStop 1");
    expect(forced).toMatchObject({ code: 0, stdout: "VM still running - terminating now with SIGTERM\n" });
    expect(forced.seconds).toBeGreaterThanOrEqual(60);
    expect(forced.seconds).toBeLessThan(90);
    expect(stops(s, 101)).toEqual(["qm-shutdown-forced"]);
  });

  it("returns quietly for a VM that is not running (vm_stop finds no process); qm reboot refuses", async () => {
    const s = await start();
    expect(await run(s, "pve9", "qm shutdown 102")).toMatchObject({ code: 0, stderr: "" });
    expect(await run(s, "pve9", "qm reboot 102")).toMatchObject({
      code: 255,
      stderr: "VM 102 not running\n",
    });
  });
});

describe("pct shutdown", () => {
  it("without --forceStop: lxc-stop --nokill gives up at the timeout, pct waits 5 s more than that again, then fails", async () => {
    const s = await start();
    const r = await timed(s, "pct shutdown 200 --timeout 10");
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("command 'lxc-stop -n 200 --nokill --timeout 10' failed: exit code 1\n");
    expect(r.stderr).toBe("container did not stop\n");
    // 10 s of lxc-stop, then up to 10 + 5 s polling the command socket.
    expect(r.seconds).toBeGreaterThanOrEqual(25);
    expect(r.seconds).toBeLessThan(50);
    expect(status(s, 200)).toBe("running");
    await eventually(() => status(s, 200) === "stopped", "the slow CT to finish its shutdown");
    expect(stops(s, 200)).toEqual(["pct-shutdown"]);
  });

  it("a CT slower than the timeout but within the poll that follows still ends in success", async () => {
    const s = await start();
    // 60 s of shutdown: lxc-stop gives up at 40, pct then polls until 40 + 45 = 85.
    const r = await timed(s, "pct shutdown 200 --timeout 40");
    expect(r).toMatchObject({
      code: 0,
      stdout: "command 'lxc-stop -n 200 --nokill --timeout 40' failed: exit code 1\n",
      stderr: "",
    });
    expect(r.seconds).toBeGreaterThanOrEqual(60);
    expect(r.seconds).toBeLessThan(85);
    expect(stops(s, 200)).toEqual(["pct-shutdown"]);
  });

  it("with --forceStop 1 lxc-stop kills the CT at the timeout", async () => {
    const s = await start();
    const r = await timed(s, "pct shutdown 200 --timeout 10 --forceStop 1");
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(r.seconds).toBeGreaterThanOrEqual(10);
    expect(r.seconds).toBeLessThan(40);
    expect(stops(s, 200)).toEqual(["pct-shutdown-forced"]);
  });

  it("ignoresShutdown: 60 s default, then 65 s more, then 'container did not stop'; pct reboot kills it", async () => {
    const s = await start();
    s.faults.add({ kind: "ignoresShutdown", vmid: 201 });
    const r = await timed(s, "pct shutdown 201");
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("command 'lxc-stop -n 201 --nokill --timeout 60' failed: exit code 1\n");
    expect(r.stderr).toBe("container did not stop\n");
    expect(r.seconds).toBeGreaterThanOrEqual(125);
    expect(r.seconds).toBeLessThan(150);
    expect(status(s, 201)).toBe("running");
    // pct reboot lets lxc-stop kill after the timeout.
    const rb = await timed(s, "pct reboot 201 --timeout 5");
    expect(rb.code).toBe(0);
    expect(stops(s, 201)).toEqual(["pct-reboot-forced"]);
    expect(status(s, 201)).toBe("running");
  });

  it("refuses a CT that is not running, as pct does", async () => {
    const s = await start();
    expect(await run(s, "pve9", "pct shutdown 202")).toMatchObject({
      code: 255,
      stderr: "CT 202 not running\n",
    });
    expect(await run(s, "pve9", "pct reboot 202")).toMatchObject({
      code: 255,
      stderr: "VM 202 not running\n",
    });
  });
});

describe("node shutdown", () => {
  it("stopall gives each guest 180 s, then hard-stops one that ignores the request; the reboot waits for it", async () => {
    const s = await start();
    s.faults.add({ kind: "ignoresShutdown", vmid: 101 });
    const t0 = s.clock.now();
    expect((await run(s, "pve9", "reboot")).code).toBe(0);
    await eventually(() => s.history().reboots.length === 1, "pve9 to reboot", 30_000);
    const events = s.history().guestEvents.filter((e) => e.event === "stop");
    const forced = events.find((e) => e.vmid === 101)!;
    expect(forced.reason).toBe("node-reboot-forced");
    expect((forced.at - t0) / 1000).toBeGreaterThanOrEqual(180);
    expect(events.find((e) => e.vmid === 201)?.reason).toBe("node-reboot");
    // The node went down only after that guest was stopped.
    expect(s.history().reboots[0]!.at - forced.at).toBeGreaterThan(0);
  }, 40_000);

  it("rejects an ignoresShutdown fault without a vmid", async () => {
    const s = await start();
    expect(() => s.faults.add({ kind: "ignoresShutdown" } as never)).toThrow(/vmid/);
  });
});
