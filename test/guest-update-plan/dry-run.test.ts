/**
 * `refit plan`'s look inside a container, against the simulator over SSH: every runner's pending
 * updates (from → to) and the exact commands, in an unprivileged container, with nothing changed.
 */
import { describe, expect, it } from "vitest";
import { guestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { dryRunContainer, parsePctConfig } from "../../controller/guest-update-plan/dry-run.js";
import { effectivePolicy } from "../../controller/guest-update-plan/policy.js";
import { pluginFor } from "../../src/runners/registry.js";
import { planCommand } from "../../controller/cli/commands/plan.js";
import type { GuestPlanPreview } from "../../controller/guest-update-plan/preview.js";
import { runSteps, startRunnerLab } from "../runners/sim-run.js";
import { cliIo } from "../support/recording.js";
import { simDesiredState } from "../support/sim-desired.js";

const plan = (runners: unknown[], extra: Record<string, unknown> = {}) =>
  guestUpdatePlan.parse({
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdatePlan",
    metadata: { name: "apps" },
    spec: { clusterRef: { name: "lab" }, selector: { vmids: [210] }, runners, ...extra },
  });

describe("dryRunContainer", () => {
  it("lists apt, pip and compose pending updates and the commands a run would issue, changing nothing", async () => {
    const lab = await startRunnerLab();
    const contents = (): string =>
      JSON.stringify(Object.values(lab.sim.snapshot().guests).map((g) => [g.vmid, g.contents]));
    const p = plan([
      { type: "os", packages: { deny: ["curl"] } },
      { type: "pip", venvs: ["/opt/app/venv"] },
      { type: "dockerCompose", projects: ["/opt/stack"] },
      { type: "npm", name: "absent", projects: ["/srv/none"] },
    ]);
    // The container's own index refresh (apt's daily timer) ran before; the dry run never refreshes.
    const target = { vmid: 210, ostype: "debian", unprivileged: true };
    const apt = p.spec.runners[0]!;
    await runSteps(lab, apt, 210, pluginFor(apt).refresh?.(apt, target) ?? []);
    const before = contents();
    const r = await dryRunContainer(lab.exec, 210, effectivePolicy(p, undefined));
    expect(r.error).toBeUndefined();
    expect(r.target).toEqual({ vmid: 210, ostype: "debian", unprivileged: true });
    const [os, pip, compose, absent] = r.runners;
    // curl is denied: not pending, held for the run.
    expect(os?.pending).toEqual([{ package: "nginx", from: "1.22.1-9", to: "1.22.1-9+deb12u1" }]);
    // Every command is an argv through pct exec; curl is held for the run and released after it.
    expect(os?.commands.every((c) => c.slice(0, 4).join(" ") === "pct exec 210 --")).toBe(true);
    const [hold, upgrade, release] = os?.commands ?? [];
    expect(os?.commands).toHaveLength(3);
    expect(hold?.slice(-2)).toEqual(["refit-apt-mark", "curl"]);
    expect(upgrade?.slice(-1)).toEqual(["dist-upgrade"]);
    expect(release?.join(" ")).toContain("apt-mark unhold");
    expect(pip?.pending.map((x) => x.package).sort()).toEqual([
      "/opt/app/venv:flask",
      "/opt/app/venv:requests",
    ]);
    expect(pip?.commands).toEqual([
      [
        "pct",
        "exec",
        "210",
        "--",
        "env",
        "PIP_DISABLE_PIP_VERSION_CHECK=1",
        "PIP_NO_INPUT=1",
        "/opt/app/venv/bin/pip",
        "install",
        "--upgrade",
        "--upgrade-strategy=only-if-needed",
        "flask",
        "requests",
      ],
    ]);
    expect(compose?.commands.map((c) => c.slice(4).join(" "))).toEqual([
      "docker compose --project-directory /opt/stack pull --quiet",
      "docker compose --project-directory /opt/stack up -d",
    ]);
    // A runner that cannot look says why; the others are still previewed.
    expect(absent?.error).toMatch(/npm outdated .* exited 254/);
    expect(contents()).toBe(before);
  });

  it("a custom runner not allowed by the plan is refused without running anything", async () => {
    const lab = await startRunnerLab();
    const p = plan([
      {
        type: "custom",
        steps: [
          {
            name: "migrate",
            apply: ["/usr/local/bin/migrate"],
            checkPending: ["/usr/local/bin/migrate", "--check"],
          },
        ],
      },
    ]);
    const r = await dryRunContainer(lab.exec, 210, effectivePolicy(p, undefined));
    expect(r.runners[0]?.error).toMatch(/refused: custom commands are disabled/);
  });

  it("a container that does not exist says so", async () => {
    const lab = await startRunnerLab();
    const r = await dryRunContainer(lab.exec, 299, effectivePolicy(plan([{ type: "os" }]), undefined));
    expect(r.error).toMatch(/pct config 299/);
  });

  it("reads ostype and unprivileged from pct config", () => {
    expect(parsePctConfig(1, "arch: amd64\nostype: alpine\nunprivileged: 1\n")).toEqual({
      vmid: 1,
      ostype: "alpine",
      unprivileged: true,
    });
    expect(parsePctConfig(1, "ostype: debian\n")).toEqual({ vmid: 1, ostype: "debian", unprivileged: false });
  });
});

describe("refit plan against the simulator", () => {
  it("lists each container's pending updates and commands over SSH, and the simulator is unchanged", async () => {
    const lab = await startRunnerLab();
    const contents = (): string =>
      JSON.stringify(Object.values(lab.sim.snapshot().guests).map((g) => [g.vmid, g.status, g.contents]));
    const desired = simDesiredState(
      lab.sim,
      `apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePlan
metadata: { name: apps }
spec:
  clusterRef: { name: lab }
  selector: { vmids: [210, 211] }
  runners:
    - { type: pip, venvs: [/opt/app/venv] }
    - { type: npm, projects: [/srv/app] }
`,
      "lab",
    );
    const before = contents();
    const { io, out, err } = cliIo();
    const code = await planCommand({ desired, json: true, plan: "apps", vmid: "210" }, io);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(out.join("\n")) as { guestPlans: GuestPlanPreview[] };
    const [ct] = json.guestPlans[0]?.containers ?? [];
    expect(ct?.vmid).toBe(210);
    expect(ct?.inside?.target).toEqual({ vmid: 210, ostype: "debian", unprivileged: true });
    expect(ct?.inside?.runners.map((r) => [r.name, r.pending.length, r.error])).toEqual([
      ["pip", 2, undefined],
      ["npm", 2, undefined],
    ]);
    expect(contents()).toBe(before);
  });
});
