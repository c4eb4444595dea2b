import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { withRules } from "../../src/api/cel.js";
import { condition, objectMeta } from "../../src/api/meta.js";
import {
  argv,
  cron,
  duration,
  objectName,
  objectRef,
  parseDuration,
  parseVmidRange,
  percent,
  secretSource,
  timeZone,
  vmid,
  vmidOrRange,
} from "../../src/api/primitives.js";

type Path = (string | number)[];

interface IssueExpectation {
  path: Path;
  code?: string;
  message?: RegExp;
}

/**
 * Parses `input`, expects it to fail, and checks that every issue is about `path` (so the value was
 * rejected for the reason under test, not by accident) and that one of them has the expected code and
 * message.
 */
function expectRejected(schema: z.ZodType, input: unknown, want: IssueExpectation): z.core.$ZodIssue[] {
  const result = schema.safeParse(input);
  expect(result.success, `expected ${JSON.stringify(input)} to be rejected`).toBe(false);
  const issues = result.error?.issues ?? [];
  expect(issues.map((i) => i.path)).toEqual(issues.map(() => want.path));
  expect(issues).toContainEqual(
    expect.objectContaining({
      ...(want.code === undefined ? {} : { code: want.code }),
      ...(want.message === undefined ? {} : { message: expect.stringMatching(want.message) as unknown }),
    }),
  );
  return issues;
}

function validations(schema: z.ZodType): unknown {
  return schema.meta()?.["x-kubernetes-validations"];
}

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["2d", 172_800_000],
    ["0s", 0],
    ["5m", 300_000],
    ["1.5h", 5_400_000],
    ["1d2h3m4s5ms", 86_400_000 + 7_200_000 + 180_000 + 4_000 + 5],
    ["1m1ms", 60_001],
  ])("%s is %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "5 m", "1x", "m", "-5m", "5M", "1h 30m", " 5m", "5m ", "1.5.5s", "5mm", "1h30", "ms"])(
    "throws a RangeError on %j",
    (text) => {
      expect(() => parseDuration(text)).toThrow(RangeError);
      expect(() => parseDuration(text)).toThrow(/not a duration/);
    },
  );

  it("names the bad input in its error", () => {
    expect(() => parseDuration("5 m")).toThrow('not a duration: "5 m"');
  });

  it("accepts exactly the strings the duration schema accepts", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.msdhx -]{0,8}$/), (text) => {
        let parsed = true;
        try {
          parseDuration(text);
        } catch {
          parsed = false;
        }
        expect(parsed).toBe(duration.safeParse(text).success);
      }),
      { numRuns: 2000 },
    );
  });

  it("sums every component of a generated duration", () => {
    const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    const part = fc.tuple(
      fc.nat({ max: 10_000 }),
      fc.constantFrom<keyof typeof unitMs>("ms", "s", "m", "h", "d"),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join("");
        expect(duration.safeParse(text).success).toBe(true);
        expect(parseDuration(text)).toBe(parts.reduce((sum, [n, u]) => sum + n * unitMs[u], 0));
      }),
    );
  });
});

describe("duration schema", () => {
  it.each(["90s", "1h30m", "500ms", "2d", "0s", "1.5h"])("accepts %s", (text) => {
    expect(duration.parse(text)).toBe(text);
  });

  it.each(["", "5", "5 m", "1x", "1h 30m", "five minutes", "5min"])(
    "rejects %j with invalid_format",
    (text) => {
      expectRejected(duration, text, { path: [], code: "invalid_format", message: /duration/ });
    },
  );

  it("rejects a number", () => {
    expectRejected(duration, 30, { path: [], code: "invalid_type" });
  });
});

describe("parseVmidRange", () => {
  it.each([
    ["100-199", { from: 100, to: 199 }],
    [105, { from: 105, to: 105 }],
    ["105", { from: 105, to: 105 }],
    ["100", { from: 100, to: 100 }],
    [999_999_999, { from: 999_999_999, to: 999_999_999 }],
    ["100-999999999", { from: 100, to: 999_999_999 }],
    ["150-150", { from: 150, to: 150 }],
  ])("%j is %j", (value, range) => {
    expect(parseVmidRange(value)).toEqual(range);
  });

  it.each([
    ["99", /vmids run from 100 to 999999999, got 99/],
    [99, /vmids run from 100/],
    ["99-150", /vmids run from 100/],
    ["100-1000000000", /vmids run from 100/],
    [1_000_000_000, /vmids run from 100/],
    ["200-100", /range start 200 is above its end 100/],
    ["abc", /expected a vmid or a range like 100-199, got "abc"/],
    ["100-", /expected a vmid or a range/],
    ["-100", /expected a vmid or a range/],
    ["100 - 199", /expected a vmid or a range/],
    ["100-199-300", /expected a vmid or a range/],
    ["", /expected a vmid or a range/],
    [100.5, /expected a vmid or a range/],
  ])("%j is refused with a message", (value, message) => {
    const result = parseVmidRange(value);
    expect(typeof result).toBe("string");
    expect(result).toMatch(message);
  });
});

describe("vmid and vmidOrRange", () => {
  it.each([100, 105, 999_999_999])("vmid accepts %i", (v) => {
    expect(vmid.parse(v)).toBe(v);
  });

  it.each([
    [99, "too_small"],
    [1_000_000_000, "too_big"],
    [100.5, "invalid_type"],
    ["105", "invalid_type"],
  ])("vmid rejects %j (%s)", (v, code) => {
    expectRejected(vmid, v, { path: [], code });
  });

  it.each([105, "105", "100-199", "999999999"])("vmidOrRange accepts %j unchanged", (v) => {
    expect(vmidOrRange.parse(v)).toBe(v);
  });

  it.each([
    ["99", "custom", /vmids run from 100/],
    ["200-100", "custom", /range start 200 is above its end 100/],
    ["100-1000000000", "custom", /vmids run from 100/],
    ["abc", "invalid_format", /vmid or a range/],
  ])("vmidOrRange rejects %j (%s)", (v, code, message) => {
    expectRejected(vmidOrRange, v, { path: [], code, message });
  });

  it.each([
    [99, "too_small"],
    [100.5, "invalid_union"],
    [true, "invalid_union"],
  ])("vmidOrRange rejects the number-ish %j (%s)", (v, code) => {
    expectRejected(vmidOrRange, v, { path: [], code });
  });
});

describe("objectName", () => {
  it.each(["a", "pve1", "node-1.lan.example", "0", "a".repeat(253)])("accepts %s", (name) => {
    expect(objectName.parse(name)).toBe(name);
  });

  it.each([
    ["PVE1", "invalid_format"],
    ["-pve", "invalid_format"],
    ["pve-", "invalid_format"],
    ["pve_1", "invalid_format"],
    ["pve 1", "invalid_format"],
    ["pve1.", "invalid_format"],
    ["a".repeat(254), "too_big"],
  ])("rejects %j (%s)", (name, code) => {
    expectRejected(objectName, name, { path: [], code });
  });

  it("rejects the empty name", () => {
    expectRejected(objectName, "", { path: [], code: "too_small" });
  });

  // The schema claims DNS-1123 subdomains, which forbid empty labels and labels that start or end with
  // '-'; Kubernetes refuses these names, so Refit must refuse them in file mode too.
  it.each(["a..b", "a.-b", "a-.b"])("rejects %j, which is not a DNS-1123 subdomain", (name) => {
    expectRejected(objectName, name, { path: [], code: "invalid_format" });
  });
});

describe("objectRef, argv, percent", () => {
  it("objectRef takes a name and nothing else", () => {
    expect(objectRef.parse({ name: "homelab" })).toEqual({ name: "homelab" });
    expectRejected(objectRef, { name: "homelab", namespace: "x" }, { path: [], code: "unrecognized_keys" });
    expectRejected(objectRef, {}, { path: ["name"], code: "invalid_type" });
    expectRejected(objectRef, { name: "Home Lab" }, { path: ["name"], code: "invalid_format" });
  });

  it("argv is a non-empty array of strings, never a shell string", () => {
    expect(argv.parse(["apt-get", "update"])).toEqual(["apt-get", "update"]);
    expectRejected(argv, [], { path: [], code: "too_small" });
    expectRejected(argv, "apt-get update", { path: [], code: "invalid_type" });
    expectRejected(argv, ["apt-get", 1], { path: [1], code: "invalid_type" });
  });

  it.each([
    [-1, "too_small"],
    [100.1, "too_big"],
  ])("percent rejects %d", (v, code) => {
    expectRejected(percent, v, { path: [], code });
  });

  it.each([0, 12.5, 100])("percent accepts %d", (v) => {
    expect(percent.parse(v)).toBe(v);
  });
});

describe("secretSource", () => {
  it.each([
    { file: "/etc/refit/key" },
    { env: "REFIT_KEY" },
    { env: "_x1" },
    { secretKeyRef: { name: "refit-ssh", key: "id_ed25519" } },
    { secretKeyRef: { name: "refit-ssh", key: "id_ed25519", namespace: "refit" } },
  ])("accepts %j", (source) => {
    expect(secretSource.parse(source)).toEqual(source);
  });

  it.each([
    ["nothing", {}],
    ["file and env", { file: "/k", env: "K" }],
    ["file and secretKeyRef", { file: "/k", secretKeyRef: { name: "s", key: "k" } }],
    ["env and secretKeyRef", { env: "K", secretKeyRef: { name: "s", key: "k" } }],
    ["all three", { file: "/k", env: "K", secretKeyRef: { name: "s", key: "k" } }],
  ])("rejects %s: exactly one of file, env or secretKeyRef", (_label, source) => {
    expectRejected(secretSource, source, {
      path: [],
      code: "custom",
      message: /^exactly one of file, env or secretKeyRef must be set$/,
    });
  });

  it("refuses an inline secret value", () => {
    const issues = expectRejected(
      secretSource,
      { value: "hunter2" },
      { path: [], code: "unrecognized_keys" },
    );
    expect(issues).toContainEqual(expect.objectContaining({ code: "custom" }));
    expect(JSON.stringify(issues)).not.toContain("hunter2");
  });

  it.each([
    [{ file: "" }, ["file"], "too_small"],
    [{ env: "1KEY" }, ["env"], "invalid_format"],
    [{ env: "REFIT-KEY" }, ["env"], "invalid_format"],
    [{ env: "$HOME" }, ["env"], "invalid_format"],
    [{ env: 5 }, ["env"], "invalid_type"],
    [{ secretKeyRef: { name: "s" } }, ["secretKeyRef", "key"], "invalid_type"],
    [{ secretKeyRef: { name: "s", key: "" } }, ["secretKeyRef", "key"], "too_small"],
    [{ secretKeyRef: { name: "Refit_SSH", key: "k" } }, ["secretKeyRef", "name"], "invalid_format"],
    [
      { secretKeyRef: { name: "s", key: "k", namespace: "Refit" } },
      ["secretKeyRef", "namespace"],
      "invalid_format",
    ],
    [{ secretKeyRef: { name: "s", key: "k", optional: true } }, ["secretKeyRef"], "unrecognized_keys"],
  ])("rejects %j at %j (%s)", (source, path, code) => {
    expectRejected(secretSource, source, { path, code });
  });

  it("carries its rule as CEL for the API server", () => {
    expect(validations(secretSource)).toEqual([
      {
        rule: "[has(self.file), has(self.env), has(self.secretKeyRef)].filter(x, x).size() == 1",
        message: "exactly one of file, env or secretKeyRef must be set",
      },
    ]);
  });

  it("keeps its CEL rule when described or made optional", () => {
    expect(validations(secretSource.describe("a key"))).toEqual(validations(secretSource));
    const json = z.toJSONSchema(z.object({ s: secretSource.optional() }), { io: "input" });
    const properties = json.properties as Record<string, Record<string, unknown>>;
    expect(properties.s?.["x-kubernetes-validations"]).toEqual(validations(secretSource));
  });
});

describe("cron", () => {
  it.each([
    "0 2 * * 6",
    "*/15 * * * *",
    "0,30 1-5 * * MON-FRI",
    "30 1 1,15 JAN-MAR sat",
    "0 0 1 */2 *",
    "5 4  * * sun",
    "1-59/2 0-23/3 1-31 1-12 0-7",
  ])("accepts %j", (expr) => {
    expect(cron.parse(expr)).toBe(expr);
  });

  it.each([
    ["", "empty"],
    ["0 2 * *", "four fields"],
    ["0 2 * * 6 2025", "six fields"],
    ["@weekly", "a macro"],
    ["0 2 * * 6; reboot", "a shell separator"],
    ["0\t2 * * 6", "a tab"],
    [" 0 2 * * 6", "a leading space"],
    ["0 2 * * 6 ", "a trailing space"],
    ["0 2 ? * 6", "a Quartz '?'"],
    ["0 2 * * 6/", "a step without a number"],
    ["0 2 * * ,6", "an empty list item"],
  ])("rejects %j (%s)", (expr) => {
    expectRejected(cron, expr, { path: [], code: "invalid_format", message: /5-field cron/ });
  });

  // The regex checks the shape of each field; the cron parser checks ranges and names.
  it.each([
    ["61 * * * *", "minute 61"],
    ["0 24 * * *", "hour 24"],
    ["0 0 32 * *", "day 32"],
    ["0 0 * 13 *", "month 13"],
    ["0 0 * * 8", "weekday 8"],
    ["a b c d e", "words that are not month or day names"],
    ["0 2 * * FOO", "an unknown day name"],
  ])("rejects %j (%s)", (expr) => {
    expectRejected(cron, expr, { path: [], code: "custom" });
    const message = cron.safeParse(expr).error?.issues[0]?.message ?? "";
    expect(message).toMatch(/field ".*": .*(out of range|not a number|neither a number)/);
  });
});

describe("timeZone", () => {
  it.each(["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata", "Etc/GMT+2"])("accepts %s", (tz) => {
    expect(timeZone.parse(tz)).toBe(tz);
  });

  it.each(["Mars/Olympus", "Europe/Berlinn", "Berlin", "Not a zone"])("rejects %j", (tz) => {
    expectRejected(timeZone, tz, { path: [], code: "custom", message: /IANA time zone/ });
  });

  it("rejects the empty string", () => {
    expectRejected(timeZone, "", { path: [], code: "too_small" });
  });
});

describe("withRules", () => {
  const range = z.strictObject({ from: z.number(), to: z.number(), label: z.string().optional() });
  const ordered = withRules(range, [
    {
      rule: "self.from <= self.to",
      message: "from must not exceed to",
      field: "from",
      check: (r) => r.from <= r.to,
    },
  ]);
  const labelled = withRules(ordered, [
    {
      rule: "!has(self.label) || size(self.label) > 0",
      message: "label must not be empty",
      check: (r) => r.label === undefined || r.label.length > 0,
    },
  ]);

  it("enforces each rule in zod with the rule's field as the issue path", () => {
    expect(ordered.parse({ from: 1, to: 2 })).toEqual({ from: 1, to: 2 });
    expectRejected(
      ordered,
      { from: 3, to: 2 },
      { path: ["from"], code: "custom", message: /^from must not exceed to$/ },
    );
  });

  it("reports a rule without a field on the object itself", () => {
    expectRejected(
      labelled,
      { from: 1, to: 2, label: "" },
      { path: [], code: "custom", message: /label must not be empty/ },
    );
  });

  it("runs every rule, including those of a schema it wraps", () => {
    const result = labelled.safeParse({ from: 3, to: 2, label: "" });
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      "from must not exceed to",
      "label must not be empty",
    ]);
  });

  it("copies each rule into x-kubernetes-validations, with fieldPath when a field is named", () => {
    expect(validations(ordered)).toEqual([
      { rule: "self.from <= self.to", message: "from must not exceed to", fieldPath: ".from" },
    ]);
    expect(validations(labelled)).toEqual([
      { rule: "self.from <= self.to", message: "from must not exceed to", fieldPath: ".from" },
      { rule: "!has(self.label) || size(self.label) > 0", message: "label must not be empty" },
    ]);
  });

  it("leaves the schema it was given without rules", () => {
    expect(validations(range)).toBeUndefined();
    expect(range.safeParse({ from: 3, to: 2 }).success).toBe(true);
  });

  it("puts the rules into the emitted JSON Schema", () => {
    const json = z.toJSONSchema(labelled, { io: "input", unrepresentable: "throw" }) as Record<
      string,
      unknown
    >;
    expect(json["x-kubernetes-validations"]).toEqual(validations(labelled));
  });
});

describe("objectMeta", () => {
  it("accepts what users write and what the store sets", () => {
    const meta = {
      name: "homelab",
      namespace: "refit",
      labels: { "refit.dev/plan": "pve-nodes" },
      annotations: { "refit.dev/requested-at": "2025-01-04T02:00:00Z" },
      uid: "u",
      resourceVersion: "1",
      generation: 2,
      creationTimestamp: "2025-01-04T02:00:00Z",
      finalizers: ["refit.dev/cleanup"],
      ownerReferences: [
        { apiVersion: "refit.dev/v1alpha1", kind: "HostPatchPlan", name: "p", uid: "u2", controller: true },
      ],
      managedFields: [{ manager: "kubectl", anything: { goes: true } }],
    };
    expect(objectMeta.parse(meta)).toEqual(meta);
  });

  it.each([
    [{}, ["name"], "invalid_type"],
    [{ name: "Homelab" }, ["name"], "invalid_format"],
    [{ name: "homelab", namespace: "Refit" }, ["namespace"], "invalid_format"],
    [{ name: "homelab", labels: { team: "x".repeat(64) } }, ["labels", "team"], "too_big"],
    [{ name: "homelab", labels: { team: 1 } }, ["labels", "team"], "invalid_type"],
    [{ name: "homelab", annotations: { note: false } }, ["annotations", "note"], "invalid_type"],
    [{ name: "homelab", generation: 1.5 }, ["generation"], "invalid_type"],
    [{ name: "homelab", finalizers: "refit.dev/cleanup" }, ["finalizers"], "invalid_type"],
    [
      { name: "homelab", ownerReferences: [{ apiVersion: "v1", kind: "K", name: "n" }] },
      ["ownerReferences", 0, "uid"],
      "invalid_type",
    ],
    [
      { name: "homelab", ownerReferences: [{ apiVersion: "v1", kind: "K", name: "n", uid: "u", extra: 1 }] },
      ["ownerReferences", 0],
      "unrecognized_keys",
    ],
    [{ name: "homelab", managedFields: ["x"] }, ["managedFields", 0], "invalid_type"],
    [{ name: "homelab", title: "Home lab" }, [], "unrecognized_keys"],
  ])("rejects %j at %j (%s)", (meta, path, code) => {
    expectRejected(objectMeta, meta, { path, code });
  });

  it.each([
    ["labels", ""],
    ["labels", "k".repeat(317)],
    ["annotations", ""],
    ["annotations", "k".repeat(317)],
  ])("rejects the %s key %j", (field, key) => {
    const result = objectMeta.safeParse({ name: "homelab", [field]: { [key]: "x" } });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ code: "invalid_key", path: [field, key] }),
    ]);
  });

  it("accepts a label key of 316 characters", () => {
    const key = "k".repeat(316);
    expect(objectMeta.parse({ name: "homelab", labels: { [key]: "v" } }).labels).toEqual({ [key]: "v" });
  });
});

describe("condition", () => {
  const ready = {
    type: "Ready",
    status: "True",
    reason: "Observed",
    lastTransitionTime: "2025-01-04T02:00:00Z",
  };

  it("defaults message to the empty string", () => {
    expect(condition.parse(ready)).toEqual({ ...ready, message: "" });
  });

  it.each(["True", "False", "Unknown"])("accepts status %s", (status) => {
    expect(condition.parse({ ...ready, status }).status).toBe(status);
  });

  it.each([
    [{ status: "true" }, ["status"], "invalid_value"],
    [{ status: true }, ["status"], "invalid_value"],
    [{ type: "ready" }, ["type"], "invalid_format"],
    [{ type: "Ready Now" }, ["type"], "invalid_format"],
    [{ reason: "not camel case" }, ["reason"], "invalid_format"],
    [{ reason: "quorumLost" }, ["reason"], "invalid_format"],
    [{ reason: "Quorum-Lost" }, ["reason"], "invalid_format"],
    [{ reason: "" }, ["reason"], "invalid_format"],
    [{ lastTransitionTime: undefined }, ["lastTransitionTime"], "invalid_type"],
    [{ observedGeneration: -1 }, ["observedGeneration"], "too_small"],
    [{ observedGeneration: 1.5 }, ["observedGeneration"], "invalid_type"],
    [{ message: 3 }, ["message"], "invalid_type"],
    [{ severity: "Info" }, [], "unrecognized_keys"],
  ])("rejects %j at %j (%s)", (change, path, code) => {
    expectRejected(condition, { ...ready, ...change }, { path, code });
  });

  it("says a reason must be one CamelCase word", () => {
    expectRejected(
      condition,
      { ...ready, reason: "lost quorum" },
      { path: ["reason"], message: /one CamelCase word/ },
    );
  });
});
