import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { haltState, KillSwitch, type Suspendable } from "../../controller/runtime/kill-switch.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "refit-kill-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function plan(suspend: boolean): Suspendable {
  return { kind: "HostPatchPlan", metadata: { name: "nodes" }, spec: { suspend } };
}
function cluster(suspend: boolean): Suspendable {
  return { kind: "ProxmoxCluster", metadata: { name: "lab" }, spec: { suspend } };
}

describe("kill switch", () => {
  it("halts while the flag file exists and resumes when it is removed", async () => {
    const path = join(dir, "STOP");
    const ks = new KillSwitch(path);
    expect(await ks.isHalted()).toBe(false);
    await writeFile(path, "");
    expect(await ks.isHalted()).toBe(true);
    await unlink(path);
    expect(await ks.isHalted()).toBe(false);
  });

  it("shows the operator's note from the first line of the file", async () => {
    const path = join(dir, "STOP");
    await writeFile(path, "storage migration until Monday, ask Ana\nsecond line\n");
    const state = await new KillSwitch(path).state();
    expect(state).toEqual({
      halted: true,
      reason: "KillSwitch",
      message: `kill switch ${path} is present (storage migration until Monday, ask Ana); nothing new starts until it is removed`,
    });
  });

  it("defaults to /etc/refit/STOP", () => {
    expect(new KillSwitch().path).toBe("/etc/refit/STOP");
  });

  it("fails closed when the flag cannot be checked (a symlink loop)", async () => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    await symlink(b, a);
    await symlink(a, b);
    const state = await new KillSwitch(a).state();
    expect(state).toMatchObject({ halted: true, reason: "KillSwitch" });
    expect(state.halted && state.message).toContain("cannot check the kill switch");
  });

  it("a flag path below a regular file cannot exist: not halted", async () => {
    const parentFile = join(dir, "file");
    await writeFile(parentFile, "");
    expect(await new KillSwitch(join(parentFile, "STOP")).isHalted()).toBe(false);
  });

  it("a directory at the flag path counts as present", async () => {
    await mkdir(join(dir, "STOP"));
    expect(await new KillSwitch(join(dir, "STOP")).isHalted()).toBe(true);
  });

  it("combines the kill switch, the cluster's suspend and the plan's suspend, in that order", async () => {
    const path = join(dir, "STOP");
    const ks = new KillSwitch(path);
    expect(await haltState(ks, plan(false), cluster(false))).toEqual({ halted: false });
    expect(await haltState(ks, plan(false))).toEqual({ halted: false });

    const planOnly = await haltState(ks, plan(true), cluster(false));
    expect(planOnly).toMatchObject({ halted: true, reason: "PlanSuspended" });
    expect(planOnly.halted && planOnly.message).toContain("HostPatchPlan/nodes has spec.suspend: true");

    const clusterToo = await haltState(ks, plan(true), cluster(true));
    expect(clusterToo).toMatchObject({ halted: true, reason: "ClusterSuspended" });
    expect(clusterToo.halted && clusterToo.message).toContain("ProxmoxCluster/lab");

    await writeFile(path, "");
    expect(await haltState(ks, plan(true), cluster(true))).toMatchObject({
      halted: true,
      reason: "KillSwitch",
    });
    expect(await haltState(ks, plan(false), cluster(false))).toMatchObject({
      halted: true,
      reason: "KillSwitch",
    });
  });
});
