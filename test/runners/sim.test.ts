/**
 * os (apt), pip, npm and dockerCompose against the simulator over SSH, in an unprivileged (210) and
 * a privileged (211) container: list pending, apply (jobs through pct exec), list again.
 */
import { describe, expect, it } from "vitest";
import type { RunnerTarget } from "../../src/runners/contract.js";
import { spec } from "./support.js";
import { cycle, startRunnerLab } from "./sim-run.js";

const TARGETS: RunnerTarget[] = [
  { vmid: 210, ostype: "debian", unprivileged: true },
  { vmid: 211, ostype: "debian", unprivileged: false },
];

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
    const s = spec({ type: "dockerCompose", projects: ["/opt/stack"] });
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
