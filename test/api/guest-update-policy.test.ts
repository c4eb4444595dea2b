import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { guestUpdatePolicy, POLICY_OVERRIDES } from "../../src/api/guest-update-policy.js";
import { guestPolicyShape } from "../../src/api/guest-policy.js";
import { formatIssue, loadDesiredState } from "../../src/api/loader/load.js";

type Json = Record<string, unknown>;

const fixture = (): Json =>
  parse(readFileSync(new URL("./fixtures/guest-update-policy.full.yaml", import.meta.url), "utf8")) as Json;

const minimal = (spec: Json = {}): Json => ({
  apiVersion: "refit.dev/v1alpha1",
  kind: "GuestUpdatePolicy",
  metadata: { name: "ct-110" },
  spec: { selector: { vmids: [110] }, ...spec },
});

function schemaPaths(schema: unknown, prefix: string, out: Set<string>): Set<string> {
  const s = schema as Json;
  for (const [key, sub] of Object.entries((s.properties as Json | undefined) ?? {})) {
    out.add(`${prefix}.${key}`);
    schemaPaths(sub, `${prefix}.${key}`, out);
  }
  if (s.items) schemaPaths(s.items, `${prefix}[]`, out);
  for (const v of [...((s.anyOf as unknown[]) ?? []), ...((s.oneOf as unknown[]) ?? [])])
    schemaPaths(v, prefix, out);
  return out;
}

function dataPaths(value: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) dataPaths(v, `${prefix}[]`, out);
  else if (value !== null && typeof value === "object")
    for (const [key, sub] of Object.entries(value)) {
      out.add(`${prefix}.${key}`);
      dataPaths(sub, `${prefix}.${key}`, out);
    }
  return out;
}

const issuesOf = (obj: unknown): string[] => {
  const r = guestUpdatePolicy.safeParse(obj);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("GuestUpdatePolicy", () => {
  it("the full example parses", () => {
    expect(issuesOf(fixture())).toEqual([]);
  });

  it("the full example sets every field the schema declares", () => {
    const schema = z.toJSONSchema(guestUpdatePolicy, {
      io: "input",
      reused: "inline",
      unrepresentable: "throw",
    });
    // Preflight checks share the health check schema (spec.healthChecks covers it); minFreeDisk takes gib or percent.
    const declared = [...schemaPaths(schema, "", new Set())]
      .filter((p) => p.startsWith(".spec") || p.startsWith(".status"))
      .filter((p) => !p.startsWith(".spec.preflight.checks[].") && p !== ".spec.preflight.minFreeDisk.gib");
    const used = dataPaths(fixture(), "", new Set());
    expect(declared.filter((p) => !used.has(p))).toEqual([]);
  });

  it("one small file per container: a selector is all it needs, and nothing is overridden", () => {
    const p = guestUpdatePolicy.parse(minimal());
    expect(p.spec).toEqual({ selector: { vmids: [110], names: [], tags: [] }, exclude: false });
  });

  it("overrides every per-container section of a plan except customCommands", () => {
    expect([...POLICY_OVERRIDES, "customCommands"].sort()).toEqual(Object.keys(guestPolicyShape).sort());
    expect(issuesOf(minimal({ customCommands: { enabled: true } }))).toEqual([
      expect.stringMatching(/^spec: Unrecognized key: "customCommands"/),
    ]);
  });

  it.each<[string, Json, RegExp]>([
    ["an empty selector", { selector: {} }, /^spec\.selector: selector selects nothing/],
    [
      "a pool criterion (plans select by pool; a policy names containers)",
      { selector: { pools: ["prod"] } },
      /Unrecognized key/,
    ],
    ["a bad vmid range", { selector: { vmids: ["120-110"] } }, /range start 120 is above its end 110/],
    [
      "backup none with a rollback policy left to the plan",
      { backup: { mode: "none" } },
      /set rollback.policy to Never/,
    ],
    ["no runner in a runners override", { runners: [] }, /spec\.runners/],
  ])("rejects %s", (_what, spec, want) => {
    expect(issuesOf(minimal(spec)).join("\n")).toMatch(want);
  });

  it("accepts backup none together with rollback Never", () => {
    expect(issuesOf(minimal({ backup: { mode: "none" }, rollback: { policy: "Never" } }))).toEqual([]);
  });
});

describe("GuestUpdatePolicy in a desired-state directory", () => {
  it("a planRef to a plan that does not exist is refused, naming the file and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "refit-policy-"));
    try {
      writeFileSync(
        join(dir, "ct-110.yaml"),
        "apiVersion: refit.dev/v1alpha1\nkind: GuestUpdatePolicy\nmetadata: {name: ct-110}\nspec:\n  planRef: {name: apps}\n  selector: {vmids: [110]}\n",
      );
      const r = await loadDesiredState(dir);
      expect(r.issues.map(formatIssue)).toEqual([
        expect.stringMatching(
          /ct-110\.yaml:5:19: GuestUpdatePolicy\/ct-110 spec\.planRef\.name: refers to GuestUpdatePlan\/apps, which does not exist/,
        ),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
