import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue, loadDesiredState, loadSources } from "../../src/api/loader/load.js";
import { copyExample, writeYaml } from "../support/desired.js";

/** Loads the example fleet plus one extra file and returns the formatted issues. */
async function withExtraFile(name: string, text: string) {
  const dir = copyExample();
  writeYaml(dir, name, text);
  const result = await loadDesiredState(dir);
  const rel = (s: string) => s.replaceAll(`${dir}/`, "");
  return { result, lines: result.issues.map((i) => rel(formatIssue(i))), dir };
}

const EXAMPLE_OBJECTS = 10;

const window = (name: string, extra = "") => `
apiVersion: refit.dev/v1alpha1
kind: MaintenanceWindow
metadata:
  name: ${name}
spec:
  schedule: "0 2 * * 0"
  duration: 2h${extra}
`;

const guestPlan = (name: string, vmids: string, extra = "") => `
apiVersion: refit.dev/v1alpha1
kind: GuestUpdatePlan
metadata:
  name: ${name}
spec:
  clusterRef:
    name: pve-lab
  selector:
    vmids: ${vmids}
  runners:
    - type: os${extra}
`;

describe("desired-state loader", () => {
  it("accepts the example desired state", async () => {
    const dir = copyExample();
    const result = await loadDesiredState(dir);
    expect(result.issues.map(formatIssue)).toEqual([]);
    expect(result.objects.length).toBe(EXAMPLE_OBJECTS);
    const kinds = new Set(result.objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual(
      [
        "GuestUpdatePlan",
        "GuestUpdatePolicy",
        "HostPatchPlan",
        "MaintenanceWindow",
        "NotificationChannel",
        "ProxmoxCluster",
      ].sort(),
    );
  });

  it("applies defaults to loaded objects", async () => {
    const { result } = await withExtraFile("w.yaml", window("sunday"));
    const w = result.objects.find((o) => o.kind === "MaintenanceWindow" && o.name === "sunday");
    expect(w?.object.spec).toMatchObject({ timeZone: "UTC", schedule: "0 2 * * 0", duration: "2h" });
  });

  it("reports a YAML syntax error with its position and keeps other files valid", async () => {
    const { result, lines } = await withExtraFile(
      "broken.yaml",
      "apiVersion: refit.dev/v1alpha1\nkind: MaintenanceWindow\nspec:\n\tschedule: x\n",
    );
    expect(lines).toEqual(["broken.yaml:4:1: YAML syntax error: Tabs are not allowed as indentation"]);
    expect(result.objects.length).toBe(EXAMPLE_OBJECTS);
  });

  it("reports an unknown field at the key, with a suggestion", async () => {
    const { result, lines } = await withExtraFile("w.yaml", window("w1", "\n  timezone: UTC"));
    expect(lines).toEqual([
      expect.stringMatching(
        /^w\.yaml:8:3: MaintenanceWindow\/w1 spec\.timezone: unknown field \(did you mean timeZone\?\) \(expected one of: schedule, duration, timeZone, description\)$/,
      ),
    ]);
    expect(result.objects.some((o) => o.name === "w1")).toBe(false);
    expect(result.objects.length).toBe(EXAMPLE_OBJECTS);
  });

  it("reports a wrong type with what was expected and what was found", async () => {
    const { lines } = await withExtraFile(
      "w.yaml",
      window("w2").replace("duration: 2h", "duration: 2h\n  description:\n    - a list"),
    );
    expect(lines).toEqual([
      "w.yaml:9:5: MaintenanceWindow/w2 spec.description: wrong type (expected string, got a list)",
    ]);
  });

  it("reports a bad enum value", async () => {
    const { lines } = await withExtraFile(
      "p.yaml",
      `
apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata:
  name: extra
spec:
  clusterRef: {name: pve-lab}
  targets: {nodes: [pve9]}
  reboot:
    policy: Sometimes
`,
    );
    expect(lines).toEqual([
      'p.yaml:9:13: HostPatchPlan/extra spec.reboot.policy: invalid value (expected one of Always, IfRequired, Never, got "Sometimes")',
    ]);
  });

  it("reports a bad vmid range", async () => {
    const { lines } = await withExtraFile("g.yaml", guestPlan("bad-range", '["300-200"]'));
    expect(lines).toEqual([
      'g.yaml:9:13: GuestUpdatePlan/bad-range spec.selector.vmids[0]: range start 300 is above its end 200 (got "300-200")',
    ]);
    const { lines: l2 } = await withExtraFile("g.yaml", guestPlan("bad-range", '["1-5x"]'));
    expect(l2).toHaveLength(1);
    expect(l2[0]).toMatch(/^g\.yaml:9:13: GuestUpdatePlan\/bad-range spec\.selector\.vmids\[0\]: .*"1-5x"/);
  });

  it("reports a dangling reference at the reference", async () => {
    const { lines, result } = await withExtraFile(
      "g.yaml",
      guestPlan("dangling", "[900]") + "  windowRefs:\n    - name: no-such-window\n",
    );
    expect(lines).toEqual([
      "g.yaml:13:13: GuestUpdatePlan/dangling spec.windowRefs[0].name: refers to MaintenanceWindow/no-such-window, which does not exist in the desired state",
    ]);
    expect(result.objects.some((o) => o.name === "dangling")).toBe(false);
  });

  it("reports both copies of a duplicate object", async () => {
    const { lines, result } = await withExtraFile("dup.yaml", window("weekly-night"));
    expect(lines).toEqual([
      expect.stringMatching(
        /^dup\.yaml:4:9: MaintenanceWindow\/weekly-night metadata\.name: duplicate object: MaintenanceWindow\/weekly-night is also defined at .*windows\.yaml:\d+:9$/,
      ),
      expect.stringMatching(
        /^windows\.yaml:\d+:9: MaintenanceWindow\/weekly-night metadata\.name: duplicate object: .* also defined at dup\.yaml:4:9$/,
      ),
    ]);
    expect(result.objects.filter((o) => o.kind === "MaintenanceWindow").map((o) => o.name)).toEqual([
      "dns-blackout",
    ]);
  });

  it("reports two plans that claim the same vmid", async () => {
    const { lines } = await withExtraFile(
      "claims.yaml",
      guestPlan("first", '["500-599"]') + "---\n" + guestPlan("second", "[550]"),
    );
    expect(lines).toEqual([
      "claims.yaml:9:13: GuestUpdatePlan/first spec.selector.vmids[0]: vmid 550 is also selected by GuestUpdatePlan/second; a guest may belong to one plan only (exclude it from one of them)",
      "claims.yaml:22:13: GuestUpdatePlan/second spec.selector.vmids[0]: vmid 550 is also selected by GuestUpdatePlan/first; a guest may belong to one plan only (exclude it from one of them)",
    ]);
  });

  it("does not report plans whose overlap is excluded or depends on the fleet", async () => {
    const a = guestPlan("first", '["500-599"]').replace(
      "  runners:",
      "    exclude:\n      vmids: [550]\n  runners:",
    );
    const b = guestPlan("second", "[550]");
    const narrowed = guestPlan("third", '["500-599"]').replace(
      "  selector:\n",
      "  selector:\n    tags: [db]\n",
    );
    const { lines } = await withExtraFile("ok.yaml", [a, b, narrowed].join("---\n"));
    expect(lines).toEqual([]);
  });

  it("reports an after cycle and a plan ordered after itself", async () => {
    const { lines } = await withExtraFile(
      "cycle.yaml",
      guestPlan("a", "[801]") +
        "  after:\n    - {kind: GuestUpdatePlan, name: b}\n---\n" +
        guestPlan("b", "[802]") +
        "  after:\n    - {kind: GuestUpdatePlan, name: a}\n---\n" +
        guestPlan("c", "[803]") +
        "  after:\n    - {kind: GuestUpdatePlan, name: c}\n",
    );
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^cycle\.yaml:13:5: GuestUpdatePlan\/a spec\.after: ordering cycle: GuestUpdatePlan\/a -> GuestUpdatePlan\/b -> GuestUpdatePlan\/a$/,
    );
    expect(lines[1]).toMatch(/^cycle\.yaml:28:5: GuestUpdatePlan\/b spec\.after: ordering cycle/);
    expect(lines[2]).toMatch(
      /GuestUpdatePlan\/c spec\.after\[0\]\.name: a plan cannot be ordered after itself$/,
    );
  });

  it("refuses child kinds, unknown kinds and other API versions", async () => {
    const { lines } = await withExtraFile(
      "misc.yaml",
      `
apiVersion: refit.dev/v1alpha1
kind: HostPatch
metadata: {name: made-by-hand}
spec: {}
---
apiVersion: refit.dev/v1alpha1
kind: Deployment
metadata: {name: d}
---
apiVersion: refit.dev/v1
kind: MaintenanceWindow
metadata: {name: v1}
spec: {schedule: "0 1 * * *", duration: 1h}
---
- just a list
`,
    );
    expect(lines).toEqual([
      "misc.yaml:2:7: HostPatch/made-by-hand kind: HostPatch objects are made by the controller, one per target of a plan; declare the plan instead",
      expect.stringMatching(
        /^misc\.yaml:7:7: Deployment\/d kind: unknown kind \(expected one of ProxmoxCluster, HostPatchPlan, GuestUpdatePlan, GuestUpdatePolicy, MaintenanceWindow, NotificationChannel, got "Deployment"\)$/,
      ),
      'misc.yaml:10:13: MaintenanceWindow/v1 apiVersion: unsupported apiVersion (expected refit.dev/v1alpha1, got "refit.dev/v1")',
      "misc.yaml:15:1: expected an object with apiVersion, kind, metadata and spec, got a list",
    ]);
  });

  it("reports a missing required field at its parent", async () => {
    const { lines } = await withExtraFile("w.yaml", window("w3").replace('  schedule: "0 2 * * 0"\n', ""));
    expect(lines).toEqual([
      "w.yaml:5:1: MaintenanceWindow/w3 spec.schedule: required field is missing (expected string)",
    ]);
  });

  it("reports every problem of a file at once", async () => {
    const { lines } = await withExtraFile(
      "many.yaml",
      window("m1", "\n  timeZone: Mars/Olympus") + "---\n" + window("m2").replace("2h", "two hours"),
    );
    expect(lines).toEqual([
      'many.yaml:8:13: MaintenanceWindow/m1 spec.timeZone: must be an IANA time zone such as Europe/Berlin or UTC (got "Mars/Olympus")',
      'many.yaml:17:13: MaintenanceWindow/m2 spec.duration: must be a duration such as 30s, 5m, 1h30m or 2d (got "two hours")',
    ]);
  });

  it("reports a directory that does not exist", async () => {
    const result = await loadDesiredState(join("/nonexistent", "desired"));
    expect(result.issues.map(formatIssue)).toEqual([
      "/nonexistent/desired:1:1: not a directory: give the desired-state directory (e.g. desired-state/)",
    ]);
  });

  it("refuses alias bombs instead of expanding them", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    const result = loadSources([{ path: "bomb.yaml", text: lines.join("\n") }]);
    expect(result.issues).toHaveLength(1);
    expect(formatIssue(result.issues[0]!)).toMatch(/^bomb\.yaml:1:1: .*alias/i);
  });
});
