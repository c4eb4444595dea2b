/**
 * os (apt), pip, npm and dockerCompose against the simulator over SSH, in an unprivileged (210) and
 * a privileged (211) container: list pending, apply (jobs through pct exec), list again.
 */
import { describe, expect, it } from "vitest";
import type { RunnerTarget } from "../../src/runners/contract.js";
import { spec } from "./support.js";
import { pluginFor } from "../../src/runners/registry.js";
import { cycle, runSteps, startRunnerLab } from "./sim-run.js";

const TARGETS: RunnerTarget[] = [
  { vmid: 210, ostype: "debian", unprivileged: true },
  { vmid: 211, ostype: "debian", unprivileged: false },
];

const s0 = spec({ type: "os" });

describe.each(TARGETS)("runners in CT $vmid (unprivileged: $unprivileged)", (target) => {
  it("the container's config says what it is", async () => {
    const lab = await startRunnerLab();
    const cfg = await lab.exec.exec(["pct", "config", String(target.vmid)], { timeoutMs: 30_000 });
    expect(cfg.stdout.includes("unprivileged: 1")).toBe(target.unprivileged);
  });

  it("os (apt): lists the published updates, upgrades them with the denied package held, releases the hold", async () => {
    const lab = await startRunnerLab();
    const s = spec({ type: "os", packages: { deny: ["curl", "not-installed-*"] } });
    const r = await cycle(lab, s, target);
    expect(r.applies).toBe(true);
    expect(r.pending).toEqual([{ package: "nginx", from: "1.22.1-9", to: "1.22.1-9+deb12u1" }]);
    expect(r.changes).toEqual([{ package: "nginx", from: "1.22.1-9", to: "1.22.1-9+deb12u1" }]);
    expect(r.after).toEqual([]);
    const held = await lab.exec.exec(["pct", "exec", String(target.vmid), "--", "apt-mark", "showhold"], {
      timeoutMs: 30_000,
    });
    expect(held.stdout).toBe("");
    // curl was held during the run and is still pending for the next one.
    const all = await cycle(lab, spec({ type: "os" }), target);
    expect(all.changes).toEqual([{ package: "curl", from: "7.88.1-10+deb12u8", to: "7.88.1-10+deb12u12" }]);
  });

  it("os (apt): a package held by hand before the run stays held after it", async () => {
    const lab = await startRunnerLab();
    const ct = (...argv: string[]) =>
      lab.exec.exec(["pct", "exec", String(target.vmid), "--", ...argv], { timeoutMs: 30_000 });
    expect((await ct("apt-mark", "hold", "nginx")).exitCode).toBe(0);
    const r = await cycle(lab, spec({ type: "os", packages: { deny: ["nginx", "curl"] } }), target);
    expect(r.changes).toEqual([]);
    expect((await ct("apt-mark", "showhold")).stdout).toBe("nginx\n");
    // Releasing again (as after a crash) changes nothing.
    const p = pluginFor(s0);
    await runSteps(lab, s0, target.vmid, p.release(s0, target));
    expect((await ct("apt-mark", "showhold")).stdout).toBe("nginx\n");
  });

  it("os (apt) with an allow list: upgrades only the allowed packages", async () => {
    const lab = await startRunnerLab();
    const r = await cycle(lab, spec({ type: "os", packages: { allow: ["cur*"] } }), target);
    expect(r.changes).toEqual([{ package: "curl", from: "7.88.1-10+deb12u8", to: "7.88.1-10+deb12u12" }]);
    expect(r.after).toEqual([]);
    const rest = await cycle(lab, spec({ type: "os" }), target);
    expect(rest.changes.map((c) => c.package)).toEqual(["nginx"]);
  });

  it("pip: upgrades the venv's outdated packages, except a denied one", async () => {
    const lab = await startRunnerLab();
    const r = await cycle(
      lab,
      spec({ type: "pip", venvs: ["/opt/app/venv"], packages: { deny: ["requests"] } }),
      target,
    );
    expect(r.pending).toEqual([{ package: "/opt/app/venv:flask", from: "3.0.3", to: "3.1.0" }]);
    expect(r.changes).toEqual(r.pending);
    expect(r.after).toEqual([]);
    const again = await cycle(lab, spec({ type: "pip", venvs: ["/opt/app/venv"] }), target);
    expect(again.changes).toEqual([{ package: "/opt/app/venv:requests", from: "2.31.0", to: "2.32.3" }]);
  });

  it("npm: updates the project's outdated dependencies within their ranges, except a denied one", async () => {
    const lab = await startRunnerLab();
    const r = await cycle(
      lab,
      spec({ type: "npm", projects: ["/srv/app"], packages: { deny: ["lodash"] } }),
      target,
    );
    expect(r.pending).toEqual([{ package: "/srv/app:express", from: "4.21.1", to: "4.21.2" }]);
    expect(r.changes).toEqual(r.pending);
    expect(r.after).toEqual([]);
  });

  it("dockerCompose: pulls, recreates only the service whose image changed, records the digests", async () => {
    const lab = await startRunnerLab();
    const s = spec({ type: "dockerCompose", projects: ["/opt/stack"], prune: true });
    const r = await cycle(lab, s, target);
    expect(r.pending.map((p) => p.package).sort()).toEqual([
      "/opt/stack:stack-redis-1",
      "/opt/stack:stack-web-1",
    ]);
    expect(r.changes).toEqual([
      {
        package: "/opt/stack:stack-redis-1",
        from: r.pending.find((p) => p.package.endsWith("redis-1"))!.from,
        to: "111111111111",
      },
    ]);
    const second = await cycle(lab, s, target);
    expect(second.changes).toEqual([]);
  });
});

describe("the os runner on other distributions", () => {
  it.each([
    [220, "alpine", "busybox", { package: "libcrypto3", from: "3.1.4-r5", to: "3.1.7-r1" }],
    [221, "fedora", "kernel-*", { package: "curl", from: "8.2.1-4.fc39", to: "8.2.1-5.fc39" }],
    [222, "archlinux", "jq", { package: "git", from: "2.50.0-1", to: "2.51.1-1" }],
  ])("CT %i (%s): upgrades everything but the denied package", async (vmid, ostype, deny, change) => {
    const lab = await startRunnerLab();
    const target = { vmid, ostype, unprivileged: true };
    const r = await cycle(lab, spec({ type: "os", packages: { deny: [deny] } }), target);
    expect(r.pending).toEqual([change]);
    expect(r.changes).toEqual([change]);
    expect(r.after).toEqual([]);
    // The denied package was left alone and is pending for a run that allows it.
    const all = await cycle(lab, spec({ type: "os" }), target);
    expect(all.changes).toHaveLength(1);
    expect(all.changes[0]!.package).not.toBe(change.package);
  });
});

describe("a dry run", () => {
  it("detects and lists every simulated runner without changing any container", async () => {
    const lab = await startRunnerLab();
    const contents = (): unknown =>
      Object.fromEntries(Object.values(lab.sim.snapshot().guests).map((g) => [g.vmid, g.contents]));
    const before = JSON.stringify(contents());
    const runs: [RunnerTarget, ReturnType<typeof spec>][] = [
      [TARGETS[0]!, spec({ type: "os" })],
      [TARGETS[0]!, spec({ type: "pip", venvs: ["/opt/app/venv"] })],
      [TARGETS[0]!, spec({ type: "npm", projects: ["/srv/app"] })],
      [TARGETS[0]!, spec({ type: "dockerCompose", projects: ["/opt/stack"] })],
      [{ vmid: 220, ostype: "alpine", unprivileged: true }, spec({ type: "os" })],
      [{ vmid: 221, ostype: "fedora", unprivileged: true }, spec({ type: "os" })],
      [{ vmid: 222, ostype: "archlinux", unprivileged: true }, spec({ type: "os" })],
    ];
    for (const [target, s] of runs) {
      const p = pluginFor(s);
      expect(p.applies(s, target, await runSteps(lab, s, target.vmid, p.detect(s, target)))).toBe(true);
      p.pending(s, target, await runSteps(lab, s, target.vmid, p.list(s, target)));
    }
    expect(JSON.stringify(contents())).toBe(before);
  });
});
