import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { run } from "./ssh-client.js";

/** apt-mark holds, kept-back packages, the dpkg lock and dpkg --audit, as apt 2.6 / dpkg 1.21 print them. */

const FLEET = new URL("../e2e/fleets/apt-packages.yaml", import.meta.url).pathname;
const SIM = "LC_ALL=C apt-get -s dist-upgrade";
const UPGRADE = "apt-get -y dist-upgrade";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(scale = 100): Promise<SimHandle> {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(scale) });
  return sim;
}

const LOCK_ERR =
  "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (unattended-upgr)\nN: Be aware that removing the lock file is not a solution and may break your system.\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n";

describe("apt: kept-back packages and holds", () => {
  it("dist-upgrade keeps back a held package and one with an unsatisfiable dependency", async () => {
    const s = await start();
    const r = await run(s, "pve2", SIM);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n" +
        "The following packages have been kept back:\n  proxmox-ve zfsutils-linux\n" +
        "0 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.\n",
    );
    expect((await run(s, "pve2", "apt-mark showhold")).stdout).toBe("zfsutils-linux\n");
    expect((await run(s, "pve2", "dpkg -l zfsutils-linux")).stdout).toMatch(/^hi {2}zfsutils-linux /m);
  });

  it("apt-mark hold/unhold print what apt-mark prints, and a held package is kept back", async () => {
    const s = await start();
    const hold = await run(s, "pve1", "apt-mark hold pve-manager");
    expect(hold).toMatchObject({ code: 0, stdout: "pve-manager set on hold.\n" });
    expect((await run(s, "pve1", "apt-mark hold pve-manager")).stdout).toBe(
      "pve-manager was already set on hold.\n",
    );
    const r = await run(s, "pve1", SIM);
    expect(r.stdout).toContain("The following packages have been kept back:\n  pve-manager\n");
    expect(r.stdout).toContain("1 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.\n");
    expect(r.stdout).not.toMatch(/^Inst pve-manager /m);
    expect(await run(s, "pve1", "apt-mark unhold pve-manager")).toMatchObject({
      code: 0,
      stdout: "Canceled hold on pve-manager.\n",
    });
    expect((await run(s, "pve1", "apt-mark unhold pve-manager")).stdout).toBe(
      "pve-manager was already not on hold.\n",
    );
    expect((await run(s, "pve1", "apt-mark showhold")).stdout).toBe("");
    const unknown = await run(s, "pve1", "apt-mark hold no-such-package");
    expect(unknown).toMatchObject({
      code: 100,
      stderr: "E: Unable to locate package no-such-package\nE: No packages found\n",
    });
  });
});

describe("apt: the dpkg lock", () => {
  it("root's simulation takes the lock too, and fails while another process holds it", async () => {
    const s = await start();
    s.faults.add({ kind: "aptLock", host: "pve1", pid: 1234 });
    const r = await run(s, "pve1", SIM);
    expect(r).toMatchObject({ code: 100, stderr: LOCK_ERR });
    const mark = await run(s, "pve1", "apt-mark hold pve-manager");
    expect(mark.code).toBe(100);
    expect(mark.stderr).toBe(
      "dpkg: error: dpkg frontend lock was locked by another process with pid 1234\nNote: removing the lock file is always wrong, can damage the locked area\nand the entire system. See <https://wiki.debian.org/Teams/Dpkg/FAQ#db-lock>.\nE: Executing dpkg failed. Are you root?\n",
    );
    expect((await run(s, "pve1", "apt-mark showhold")).stdout).toBe("");
  });

  it("a lock held for N seconds: DPkg::Lock::Timeout waits it out, without it apt fails at once", async () => {
    const s = await start(200);
    s.faults.add({ kind: "aptLock", host: "pve1", pid: 1234, forSeconds: 30 });
    expect((await run(s, "pve1", UPGRADE)).code).toBe(100);
    expect((await run(s, "pve1", "apt-get -y -o DPkg::Lock::Timeout=5 dist-upgrade")).stderr).toBe(LOCK_ERR);
    const waited = await run(s, "pve1", "apt-get -y -o DPkg::Lock::Timeout=120 dist-upgrade");
    expect(waited.code).toBe(0);
    expect(waited.stdout).toContain("Setting up pve-manager (8.4.2) ...\n");
    expect(s.faults.list()).toEqual([]);
  });
});

describe("dpkg --audit", () => {
  it("is empty on a healthy node and names packages a cut-off run left unpacked", async () => {
    const s = await start(20);
    expect(await run(s, "pve1", "dpkg --audit")).toMatchObject({ code: 0, stdout: "" });
    s.faults.add({
      kind: "dropConnection",
      host: "pve1",
      match: "dist-upgrade",
      afterSeconds: 2.5,
      times: 1,
    });
    expect((await run(s, "pve1", UPGRADE)).cut).toBe(true);
    const a = await run(s, "pve1", "dpkg --audit");
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(
      /^The following packages have been unpacked but not yet configured\.\nThey must be configured using dpkg --configure or the configure\nmenu option in dselect for them to work:\n( \S+ +.+\n)+\n$/,
    );
    // Root's simulation checks dpkg's journal when it takes the lock: it refuses too.
    expect(await run(s, "pve1", SIM)).toMatchObject({
      code: 100,
      stderr:
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
    });
    expect((await run(s, "pve1", "dpkg --configure -a")).code).toBe(0);
    expect((await run(s, "pve1", "dpkg --audit")).stdout).toBe("");
    expect((await run(s, "pve1", SIM)).code).toBe(0);
  });
});

describe("apt (not apt-get)", () => {
  it("waits up to 120 s for the dpkg lock without a terminal, as apt 2.x does", async () => {
    const s = await start(200);
    s.faults.add({ kind: "aptLock", host: "pve1", pid: 1234, forSeconds: 60 });
    const r = await run(s, "pve1", "apt -y dist-upgrade");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Setting up pve-manager (8.4.2) ...\n");
  });
});
