import { describe, expect, it } from "vitest";
import { planSync, type InForce } from "../../controller/runtime/desired-sync.js";
import { loadSources } from "../../src/api/loader/load.js";
import { CLUSTER_YAML, planYaml } from "./support.js";

const inForce: InForce[] = [
  { key: { kind: "ProxmoxCluster", namespace: "", name: "lab" }, sourceFile: "cluster.yaml" },
  { key: { kind: "HostPatchPlan", namespace: "", name: "nodes" }, sourceFile: "plans.yaml" },
  { key: { kind: "HostPatchPlan", namespace: "", name: "other" }, sourceFile: "other.yaml" },
];

function names(keys: { name: string }[]): string[] {
  return keys.map((k) => k.name).sort();
}

describe("planSync: what a fresh load means for the objects in force", () => {
  it("an object no file declares any more, with no problem anywhere, is removed", () => {
    const result = loadSources([
      { path: "cluster.yaml", text: CLUSTER_YAML },
      { path: "plans.yaml", text: planYaml() },
    ]);
    const plan = planSync(inForce, result);
    expect(names(plan.present)).toEqual(["lab", "nodes"]);
    expect(plan.kept).toEqual([]);
    expect(names(plan.removed)).toEqual(["other"]);
  });

  it("an object named by an issue is kept at its last valid version", () => {
    const result = loadSources([
      { path: "cluster.yaml", text: CLUSTER_YAML },
      { path: "plans.yaml", text: planYaml().replace("profile: pve", "profile: nope") },
      { path: "other.yaml", text: planYaml({ name: "other" }) },
    ]);
    const plan = planSync(inForce, result);
    expect(names(plan.kept.map((k) => k.key))).toEqual(["nodes"]);
    expect(plan.kept[0]?.issues.map((i) => [i.file, i.line, i.field])).toEqual([
      ["plans.yaml", 8, "spec.profile"],
    ]);
    expect(plan.removed).toEqual([]);
  });

  it("an object whose file has any issue is kept, even if the issue is about another document", () => {
    const result = loadSources([
      { path: "cluster.yaml", text: CLUSTER_YAML },
      // "nodes" was moved out of plans.yaml, and the document left there is broken.
      {
        path: "plans.yaml",
        text: "apiVersion: refit.dev/v1alpha1\nkind: Nonsense\nmetadata: {name: x}\nspec: {}\n",
      },
      { path: "other.yaml", text: planYaml({ name: "other" }) },
    ]);
    const plan = planSync(inForce, result);
    expect(names(plan.kept.map((k) => k.key))).toEqual(["nodes"]);
    expect(plan.removed).toEqual([]);
  });

  it("a document that cannot be attributed to any object (YAML syntax error) keeps every missing object", () => {
    const result = loadSources([
      { path: "cluster.yaml", text: CLUSTER_YAML },
      { path: "broken.yaml", text: "kind: [unclosed\n" },
    ]);
    const plan = planSync(inForce, result);
    expect(names(plan.kept.map((k) => k.key))).toEqual(["nodes", "other"]);
    expect(plan.kept.every((k) => k.issues.every((i) => i.file === "broken.yaml"))).toBe(true);
    expect(plan.removed).toEqual([]);
  });
});
