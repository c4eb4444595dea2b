/**
 * Target selection, per-container policies and conflicts, as tables over a small fleet. Pure.
 */
import { describe, expect, it } from "vitest";
import { guestSelector } from "../../src/api/guest-selector.js";
import { guestUpdatePlan, type GuestUpdatePlan } from "../../src/api/guest-update-plan.js";
import { guestUpdatePolicy, type GuestUpdatePolicy } from "../../src/api/guest-update-policy.js";
import { effectivePolicy, effectivePolicyOf } from "../../controller/guest-update-plan/policy.js";
import { selectContainers, type GuestView } from "../../controller/guest-update-plan/select.js";
import { planSelection } from "../../controller/guest-update-plan/selection.js";
import { policyState } from "../../controller/guest-update-plan/policy-status.js";

const g = (vmid: number, extra: Partial<GuestView> = {}): GuestView => ({
  vmid,
  type: "lxc",
  node: "pve1",
  name: `ct${vmid}`,
  tags: [],
  template: false,
  status: "running",
  ...extra,
});

const FLEET: GuestView[] = [
  g(100, { name: "web-1", tags: ["apps", "prod"], pool: "prod" }),
  g(101, { name: "web-2", tags: ["apps"], node: "pve2" }),
  g(102, { name: "db-1", tags: ["db", "prod"], pool: "prod", node: "pve2" }),
  g(103, { name: "tmpl", tags: ["apps"], template: true }),
  g(104, { name: "vm-apps", tags: ["apps"], type: "qemu" }),
  g(200, { name: "stack-1", tags: ["compose"], node: "pve3" }),
  g(250, { name: "stack-2", tags: ["compose", "canary"], node: "pve3" }),
];

const sel = (s: Record<string, unknown>) => guestSelector.parse(s);
const vmids = (s: Record<string, unknown>): number[] => selectContainers(sel(s), FLEET).map((x) => x.vmid);

describe("selectContainers", () => {
  it.each([
    ["any tag", { tags: ["apps"] }, [100, 101]],
    ["every tag", { allTags: ["apps", "prod"] }, [100]],
    ["name glob", { names: ["web-*"] }, [100, 101]],
    ["vmid range and single", { vmids: ["200-299", 100] }, [100, 200, 250]],
    ["pool", { pools: ["prod"] }, [100, 102]],
    ["node glob", { nodes: ["pve[23]"] }, [101, 102, 200, 250]],
    ["fields are ANDed", { tags: ["apps"], nodes: ["pve2"] }, [101]],
    ["everything", { names: ["*"] }, [100, 101, 102, 200, 250]],
    ["exclude by vmid", { names: ["*"], exclude: { vmids: [101] } }, [100, 102, 200, 250]],
    [
      "exclude by any criterion",
      { names: ["*"], exclude: { tags: ["canary"], pools: ["prod"] } },
      [101, 200],
    ],
  ])("%s", (_name, selector, want) => {
    expect(vmids(selector)).toEqual(want);
  });

  it("never selects templates or VMs, even by vmid", () => {
    expect(vmids({ vmids: [103, 104] })).toEqual([]);
  });
});

function plan(
  name: string,
  selector: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): GuestUpdatePlan {
  return guestUpdatePlan.parse({
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdatePlan",
    metadata: { name },
    spec: { clusterRef: { name: "lab" }, selector, runners: [{ type: "os" }], ...extra },
  });
}

function policy(name: string, spec: Record<string, unknown>): GuestUpdatePolicy {
  return guestUpdatePolicy.parse({
    apiVersion: "refit.dev/v1alpha1",
    kind: "GuestUpdatePolicy",
    metadata: { name },
    spec,
  });
}

describe("effectivePolicy", () => {
  const apps = plan(
    "apps",
    { tags: ["apps"] },
    {
      healthChecks: [{ type: "tcp", name: "ssh", port: 22 }],
      timeouts: { update: "1h" },
      customCommands: { enabled: true, allowlist: ["/usr/local/bin/migrate"] },
    },
  );

  it("is the plan's sections when no policy applies", () => {
    const p = effectivePolicy(apps, undefined);
    expect(p.healthChecks.map((c) => c.name)).toEqual(["ssh"]);
    expect(p.timeouts.update).toBe("1h");
  });

  it("replaces each section a policy sets, whole, and keeps the others", () => {
    const web1 = policy("web-1", {
      selector: { vmids: [100] },
      runners: [{ type: "os" }, { type: "pip", venvs: ["/opt/app/venv"] }],
      timeouts: { verify: "30m" },
    });
    const r = effectivePolicyOf(apps, [web1], FLEET[0] as GuestView);
    if (!("policy" in r)) throw new Error("refused");
    expect(r.from).toBe("web-1");
    expect(r.policy.runners.map((x) => x.type)).toEqual(["os", "pip"]);
    // The policy's timeouts replace the plan's whole: update is back to its default.
    expect(r.policy.timeouts).toMatchObject({ verify: "30m", update: "2h" });
    expect(r.policy.healthChecks.map((c) => c.name)).toEqual(["ssh"]);
    // Custom commands stay the plan's decision.
    expect(r.policy.customCommands.allowlist).toEqual(["/usr/local/bin/migrate"]);
  });

  it("a policy for another plan does not apply", () => {
    const other = policy("web-1", { planRef: { name: "other" }, selector: { vmids: [100] }, timeouts: {} });
    const r = effectivePolicyOf(apps, [other], FLEET[0] as GuestView);
    expect(r).toEqual({ policy: effectivePolicy(apps, undefined) });
  });

  it("refuses a container two policies select, naming both", () => {
    const a = policy("a", { selector: { vmids: [100] } });
    const b = policy("b", { selector: { tags: ["prod"] } });
    expect(effectivePolicyOf(apps, [b, a], FLEET[0] as GuestView)).toEqual({
      refused: "conflict",
      by: ["a", "b"],
    });
  });

  it("rejects a policy that drops the backup but keeps a rollback policy", () => {
    const r = guestUpdatePolicy.safeParse({
      apiVersion: "refit.dev/v1alpha1",
      kind: "GuestUpdatePolicy",
      metadata: { name: "x" },
      spec: { selector: { vmids: [100] }, backup: { mode: "none" } },
    });
    expect(r.success).toBe(false);
  });
});

describe("planSelection", () => {
  it("leaves a container two plans select to neither, and each names the other", () => {
    const apps = plan("apps", { tags: ["apps"] });
    const web = plan("web", { names: ["web-2"] });
    const a = planSelection(apps, [apps, web], [], FLEET);
    const w = planSelection(web, [apps, web], [], FLEET);
    expect(a.targets.map((x) => x.vmid)).toEqual([100]);
    expect(a.conflicts).toEqual([{ vmid: 101, with: ["GuestUpdatePlan/web"] }]);
    expect(w.targets).toEqual([]);
    expect(w.conflicts).toEqual([{ vmid: 101, with: ["GuestUpdatePlan/apps"] }]);
  });

  it("a plan on another cluster is no conflict", () => {
    const apps = plan("apps", { tags: ["apps"] });
    const elsewhere = plan("web", { names: ["web-2"] });
    elsewhere.spec.clusterRef.name = "other";
    expect(planSelection(apps, [apps, elsewhere], [], FLEET).conflicts).toEqual([]);
  });

  it("an excluding policy takes the container out of the plan, so it is no conflict either", () => {
    const apps = plan("apps", { tags: ["apps"] });
    const web = plan("web", { names: ["web-2"] });
    const hands = policy("hands-off", {
      planRef: { name: "apps" },
      selector: { vmids: [101] },
      exclude: true,
    });
    const a = planSelection(apps, [apps, web], [hands], FLEET);
    expect(a.excluded).toEqual([{ vmid: 101, policy: "hands-off" }]);
    expect(a.conflicts).toEqual([]);
    expect(planSelection(web, [apps, web], [hands], FLEET).targets.map((x) => x.vmid)).toEqual([101]);
  });

  it("records the policy of each target, and two policies on one container make a conflict", () => {
    const apps = plan("apps", { tags: ["apps"] });
    const p1 = policy("web-1", { selector: { vmids: [100] } });
    const p2 = policy("web-any", { selector: { names: ["web-*"] } });
    const s = planSelection(apps, [apps], [p1, p2], FLEET);
    expect(s.targets).toEqual([{ vmid: 101, node: "pve2", name: "web-2", policy: "web-any" }]);
    expect(s.conflicts).toEqual([
      { vmid: 100, with: ["GuestUpdatePolicy/web-1", "GuestUpdatePolicy/web-any"] },
    ]);
  });
});

describe("policyState", () => {
  it("says Conflict naming the other policy, or where it applies", () => {
    const apps = plan("apps", { tags: ["apps"] });
    apps.status = {
      phase: "Progressing",
      counts: {
        targets: 1,
        pending: 1,
        inProgress: 0,
        succeeded: 0,
        failed: 0,
        rolledBack: 0,
        blocked: 0,
        skipped: 0,
        notStarted: 0,
        conflicts: 1,
      },
      cycleTargets: [{ vmid: 101, node: "pve2", policy: "web-any", notBefore: "2026-03-07T02:00:00.000Z" }],
      conflicts: [{ vmid: 100, with: ["GuestUpdatePolicy/web-1", "GuestUpdatePolicy/web-any"] }],
    };
    const one = policyState(policy("web-1", { selector: { vmids: [100] } }), [apps]);
    expect(one.ready).toMatchObject({ status: "False", reason: "Conflict" });
    expect(one.ready.message).toContain("GuestUpdatePolicy/web-any");
    const any = policyState(policy("web-any", { selector: { names: ["web-*"] } }), [apps]);
    expect(any.ready.status).toBe("False");
    expect(any.applied).toEqual([{ plan: "apps", vmid: 101 }]);
    expect(any.ready.message).toContain("GuestUpdatePolicy/web-1");
  });
});
