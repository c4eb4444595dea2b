import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { z } from "zod";
import { hostPatch } from "../../src/api/host-patch.js";
import { hostPatchPlan, hostPatchPlanSpec, hostTargets } from "../../src/api/host-patch-plan.js";
import { maintenanceWindow } from "../../src/api/maintenance-window.js";
import { notificationChannel, notificationChannelTypes } from "../../src/api/notification-channel.js";
import { secretSource } from "../../src/api/primitives.js";
import { proxmoxCluster, proxmoxClusterSpec } from "../../src/api/proxmox-cluster.js";

type Path = (string | number)[];
type Json = Record<string, unknown>;

const API_VERSION = "refit.dev/v1alpha1";
const VALIDATIONS = "x-kubernetes-validations";

function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
}

function loadFixture(name: string): unknown {
  return parseYaml(fixtureText(name)) as unknown;
}

function loadFixtures(name: string): unknown[] {
  return parseAllDocuments(fixtureText(name)).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as unknown;
  });
}

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A deep copy of `base` with `value` at `path`; `undefined` removes the key. */
function withValue(base: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(base);
  let node: unknown = copy;
  for (const [i, key] of path.entries()) {
    const container = node as Record<string | number, unknown>;
    if (i === path.length - 1) {
      if (value === undefined) delete container[key];
      else container[key] = value;
    } else {
      container[key] ??= typeof path[i + 1] === "number" ? [] : {};
      node = container[key];
    }
  }
  return copy;
}

interface Rejection {
  /** Where the bad value goes. */
  set: Path;
  to: unknown;
  code: string;
  /** Where the issue is reported; default `set` (unknown keys are reported on their object). */
  at?: Path;
  message?: RegExp;
}

/** Names a rejection case for the test title. */
function named(cases: Rejection[]): [string, Rejection][] {
  return cases.map((c) => [`${c.set.join(".")} = ${JSON.stringify(c.to) ?? "(removed)"} → ${c.code}`, c]);
}

/**
 * Parses `input`, expects it to fail, and checks that every issue is about `path` (so the value was
 * rejected for the reason under test, not by accident) and that one of them has the expected code and
 * message.
 */
function expectRejected(
  schema: z.ZodType,
  input: unknown,
  path: Path,
  code?: string,
  message?: RegExp,
): void {
  const result = schema.safeParse(input);
  expect(result.success, "expected the object to be rejected").toBe(false);
  const issues = result.error?.issues ?? [];
  expect(issues.map((i) => i.path)).toEqual(issues.map(() => path));
  expect(issues).toContainEqual(
    expect.objectContaining({
      ...(code === undefined ? {} : { code }),
      ...(message === undefined ? {} : { message: expect.stringMatching(message) as unknown }),
    }),
  );
}

function rejects(schema: z.ZodType, base: unknown, c: Rejection): void {
  expectRejected(schema, withValue(base, c.set, c.to), c.at ?? c.set, c.code, c.message);
}

// --- Every field of a schema is used by its full example ------------------------------------------

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: readonly z.ZodType[];
  shape?: Record<string, z.ZodType>;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "nonoptional", "catch"]);

function defOf(schema: z.ZodType): Def {
  let s = schema;
  for (;;) {
    const d = s._zod.def as unknown as Def;
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else return d;
  }
}

/** Every object shape reachable from `schema`, with where it was first met. */
function shapes(
  schema: z.ZodType,
  where: string,
  out = new Map<object, { where: string; keys: string[] }>(),
) {
  const d = defOf(schema);
  if (d.type === "object" && d.shape && !out.has(d.shape)) {
    out.set(d.shape, { where, keys: Object.keys(d.shape) });
    for (const [k, v] of Object.entries(d.shape)) shapes(v, `${where}.${k}`, out);
  } else if (d.type === "array" && d.element) shapes(d.element, `${where}[]`, out);
  else if (d.type === "record" && d.valueType) shapes(d.valueType, `${where}.*`, out);
  else if (d.type === "union" && d.options) d.options.forEach((o, i) => shapes(o, `${where}<${i}>`, out));
  return out;
}

function markUsed(schema: z.ZodType, value: unknown, used: Map<object, Set<string>>): void {
  const d = defOf(schema);
  if (d.type === "object" && d.shape && isRecord(value)) {
    const keys = used.get(d.shape) ?? new Set<string>();
    used.set(d.shape, keys);
    for (const [k, v] of Object.entries(value)) {
      const field = d.shape[k];
      if (field) {
        keys.add(k);
        markUsed(field, v, used);
      }
    }
  } else if (d.type === "array" && d.element && Array.isArray(value)) {
    for (const v of value) markUsed(d.element, v, used);
  } else if (d.type === "record" && d.valueType && isRecord(value)) {
    for (const v of Object.values(value)) markUsed(d.valueType, v, used);
  } else if (d.type === "union" && d.options) {
    for (const o of d.options) if (o.safeParse(value).success) markUsed(o, value, used);
  }
}

/** Fields the schema knows that none of `docs` sets, as `where.field`. */
function unusedFields(schema: z.ZodType, docs: unknown[]): string[] {
  const used = new Map<object, Set<string>>();
  for (const doc of docs) markUsed(schema, doc, used);
  const missing: string[] = [];
  for (const [shape, { where, keys }] of shapes(schema, "")) {
    for (const k of keys) if (!used.get(shape)?.has(k)) missing.push(`${where}.${k}`);
  }
  return missing;
}

// --- JSON Schema ----------------------------------------------------------------------------------

function jsonSchema(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, { io: "input", reused: "inline", unrepresentable: "throw" });
}

/** `x-kubernetes-validations` messages by JSON pointer. */
function validationsIn(
  node: unknown,
  pointer = "",
  out: Record<string, string[]> = {},
): Record<string, string[]> {
  if (Array.isArray(node)) node.forEach((v, i) => validationsIn(v, `${pointer}/${i}`, out));
  else if (isRecord(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === VALIDATIONS) out[pointer] = (v as { message: string }[]).map((r) => r.message);
      else validationsIn(v, `${pointer}/${k}`, out);
    }
  }
  return out;
}

function at(node: unknown, pointer: string): Json {
  let cur: unknown = node;
  for (const part of pointer.split("/").slice(1))
    cur = isRecord(cur) ? cur[part] : Array.isArray(cur) ? cur[Number(part)] : undefined;
  expect(isRecord(cur), `no schema at ${pointer}`).toBe(true);
  return cur as Json;
}

const SECRET_RULE = ["exactly one of file, env or secretKeyRef must be set"];

// --- Shared bases ---------------------------------------------------------------------------------

const SSH = {
  privateKey: { file: "/etc/refit/ssh/id_ed25519" },
  knownHosts: { file: "/etc/refit/ssh/known_hosts" },
};

const SSH_DEFAULTS = {
  ...SSH,
  user: "root",
  port: 22,
  connectTimeout: "10s",
  commandTimeout: "2m",
  keepaliveInterval: "15s",
  maxChannels: 8,
};

function obj(kind: string, spec: unknown, name = "example"): Json {
  return { apiVersion: API_VERSION, kind, metadata: { name }, spec };
}

/** Rejections every kind shares: the envelope, metadata and status conditions. */
function envelopeCases(kind: string): Rejection[] {
  return [
    { set: ["apiVersion"], to: "refit.dev/v1", code: "invalid_value" },
    { set: ["apiVersion"], to: "v1", code: "invalid_value" },
    { set: ["apiVersion"], to: undefined, code: "invalid_value" },
    { set: ["kind"], to: kind === "HostPatch" ? "HostPatchPlan" : "HostPatch", code: "invalid_value" },
    { set: ["kind"], to: kind.toLowerCase(), code: "invalid_value" },
    { set: ["kind"], to: undefined, code: "invalid_value" },
    { set: ["metadata"], to: undefined, code: "invalid_type" },
    { set: ["metadata", "name"], to: "Example", code: "invalid_format" },
    { set: ["metadata", "name"], to: "a".repeat(254), code: "too_big" },
    { set: ["metadata", "name"], to: 42, code: "invalid_type" },
    { set: ["metadata", "labels", "team"], to: "x".repeat(64), code: "too_big" },
    { set: ["metadata", "bogus"], to: 1, code: "unrecognized_keys", at: ["metadata"] },
    { set: ["spec"], to: undefined, code: "invalid_type" },
    { set: ["spec"], to: "yes", code: "invalid_type" },
    { set: ["bogus"], to: {}, code: "unrecognized_keys", at: [] },
    { set: ["status", "bogus"], to: 1, code: "unrecognized_keys", at: ["status"] },
    { set: ["status", "observedGeneration"], to: -1, code: "too_small" },
    { set: ["status", "conditions"], to: {}, code: "invalid_type" },
    {
      set: ["status", "conditions", 0],
      to: { type: "Ready", status: "Yes", reason: "Done", lastTransitionTime: "t" },
      code: "invalid_value",
      at: ["status", "conditions", 0, "status"],
    },
    {
      set: ["status", "conditions", 0],
      to: { type: "Ready", status: "True", reason: "all done", lastTransitionTime: "t" },
      code: "invalid_format",
      at: ["status", "conditions", 0, "reason"],
    },
  ];
}

describe("every kind", () => {
  const kinds: [string, z.ZodType, string, unknown][] = [
    ["ProxmoxCluster", proxmoxCluster, "proxmox-cluster.full.yaml", undefined],
    ["HostPatchPlan", hostPatchPlan, "host-patch-plan.full.yaml", undefined],
    ["HostPatch", hostPatch, "host-patch.full.yaml", undefined],
    ["MaintenanceWindow", maintenanceWindow, "maintenance-window.full.yaml", undefined],
    ["NotificationChannel", notificationChannel, "notification-channel.full.yaml", undefined],
  ];

  it.each(kinds)("%s converts to an input JSON Schema without unrepresentable parts", (kind, schema) => {
    const json = jsonSchema(schema);
    expect(at(json, "/properties/kind")).toMatchObject({ const: kind });
    expect(at(json, "/properties/apiVersion")).toMatchObject({ const: API_VERSION });
    expect(json.required).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    expect(json.additionalProperties).toBe(false);
  });

  it.each(kinds)("%s: the full example sets every field the schema knows", (_kind, schema, file) => {
    expect(unusedFields(schema, loadFixtures(file))).toEqual([]);
  });

  it("the field-coverage check notices a missing field", () => {
    const doc = withValue(loadFixture("maintenance-window.full.yaml"), ["spec", "description"], undefined);
    expect(unusedFields(maintenanceWindow, [doc])).toEqual([".spec.description"]);
  });
});

// ------------------------------------------------------------------------------------------------

describe("ProxmoxCluster", () => {
  const minimal = obj(
    "ProxmoxCluster",
    { endpoints: [{ node: "pve1", host: "192.0.2.11" }], ssh: SSH },
    "homelab",
  );

  it("parses the full example", () => {
    const raw = loadFixture("proxmox-cluster.full.yaml");
    const pc = proxmoxCluster.parse(raw);
    expect(pc).toEqual(raw);
    expect(pc.metadata.name).toBe("homelab");
    expect(pc.spec.endpoints.map((e) => [e.node, e.port])).toEqual([
      ["pve1", 2222],
      ["pve2", undefined],
      ["pve3", undefined],
    ]);
    expect(pc.spec.ssh.user).toBe("refit");
    expect(pc.spec.ssh.passphrase).toEqual({ env: "REFIT_SSH_PASSPHRASE" });
    expect(pc.spec.ssh.knownHosts.secretKeyRef).toEqual({
      name: "refit-ssh",
      key: "known_hosts",
      namespace: "refit",
    });
    expect(pc.spec.safety).toEqual({ requireQuorum: false, requireAllNodesOnline: false, maxUnavailable: 2 });
    expect(pc.spec.controllerNode).toBe("pve3");
    expect(pc.spec.suspend).toBe(true);
    expect(pc.status?.quorum).toEqual({ quorate: true, totalVotes: 3, expectedVotes: 3, quorum: 2 });
    expect(pc.status?.nodes?.[0]?.rebootReasons).toEqual(["NewerKernel", "RebootRequiredFile"]);
    expect(pc.status?.nodes?.[1]?.online).toBe(false);
  });

  it("applies defaults to a minimal cluster", () => {
    const pc = proxmoxCluster.parse(minimal);
    expect(pc.spec).toEqual({
      endpoints: [{ node: "pve1", host: "192.0.2.11" }],
      ssh: SSH_DEFAULTS,
      safety: { requireQuorum: true, requireAllNodesOnline: true, maxUnavailable: 1 },
      observeInterval: "5m",
      suspend: false,
    });
    expect(pc.status).toBeUndefined();
  });

  it("fills in safety defaults around the fields that are set", () => {
    const pc = proxmoxCluster.parse(withValue(minimal, ["spec", "safety"], { maxUnavailable: 2 }));
    expect(pc.spec.safety).toEqual({ requireQuorum: true, requireAllNodesOnline: true, maxUnavailable: 2 });
  });

  it("accepts a controllerNode that is one of the endpoints", () => {
    const spec = {
      endpoints: [
        { node: "pve1", host: "a" },
        { node: "pve2", host: "b" },
      ],
      ssh: SSH,
      controllerNode: "pve2",
    };
    expect(proxmoxCluster.parse(obj("ProxmoxCluster", spec)).spec.controllerNode).toBe("pve2");
  });

  it.each(
    named([
      ...envelopeCases("ProxmoxCluster"),
      { set: ["spec", "endpoints"], to: [], code: "too_small" },
      { set: ["spec", "endpoints"], to: undefined, code: "invalid_type" },
      { set: ["spec", "endpoints"], to: { node: "pve1", host: "a" }, code: "invalid_type" },
      { set: ["spec", "endpoints", 0, "node"], to: "PVE1", code: "invalid_format" },
      { set: ["spec", "endpoints", 0, "node"], to: "", code: "too_small" },
      { set: ["spec", "endpoints", 0, "node"], to: undefined, code: "invalid_type" },
      { set: ["spec", "endpoints", 0, "host"], to: "", code: "too_small" },
      { set: ["spec", "endpoints", 0, "host"], to: 192, code: "invalid_type" },
      { set: ["spec", "endpoints", 0, "port"], to: 0, code: "too_small" },
      { set: ["spec", "endpoints", 0, "port"], to: 65536, code: "too_big" },
      { set: ["spec", "endpoints", 0, "port"], to: 22.5, code: "invalid_type" },
      { set: ["spec", "endpoints", 0, "port"], to: "22", code: "invalid_type" },
      {
        set: ["spec", "endpoints", 0, "user"],
        to: "root",
        code: "unrecognized_keys",
        at: ["spec", "endpoints", 0],
      },
      { set: ["spec", "ssh"], to: undefined, code: "invalid_type" },
      { set: ["spec", "ssh", "user"], to: "", code: "too_small" },
      { set: ["spec", "ssh", "port"], to: 0, code: "too_small" },
      { set: ["spec", "ssh", "port"], to: 65536, code: "too_big" },
      { set: ["spec", "ssh", "port"], to: "22", code: "invalid_type" },
      { set: ["spec", "ssh", "privateKey"], to: undefined, code: "invalid_type" },
      { set: ["spec", "ssh", "privateKey"], to: "-----BEGIN OPENSSH PRIVATE KEY-----", code: "invalid_type" },
      {
        set: ["spec", "ssh", "privateKey"],
        to: {},
        code: "custom",
        message: /exactly one of file, env or secretKeyRef/,
      },
      {
        set: ["spec", "ssh", "privateKey"],
        to: { file: "/k", env: "KEY" },
        code: "custom",
        message: /exactly one of file, env or secretKeyRef/,
      },
      { set: ["spec", "ssh", "privateKey", "file"], to: "", code: "too_small" },
      { set: ["spec", "ssh", "knownHosts"], to: undefined, code: "invalid_type" },
      {
        set: ["spec", "ssh", "knownHosts"],
        to: { env: "KNOWN-HOSTS" },
        code: "invalid_format",
        at: ["spec", "ssh", "knownHosts", "env"],
      },
      {
        set: ["spec", "ssh", "knownHosts"],
        to: { secretKeyRef: { name: "refit-ssh" } },
        code: "invalid_type",
        at: ["spec", "ssh", "knownHosts", "secretKeyRef", "key"],
      },
      { set: ["spec", "ssh", "passphrase"], to: {}, code: "custom", message: /exactly one of/ },
      { set: ["spec", "ssh", "passphrase"], to: "hunter2", code: "invalid_type" },
      { set: ["spec", "ssh", "connectTimeout"], to: "10", code: "invalid_format", message: /duration/ },
      { set: ["spec", "ssh", "connectTimeout"], to: 10, code: "invalid_type" },
      { set: ["spec", "ssh", "commandTimeout"], to: "2 m", code: "invalid_format" },
      { set: ["spec", "ssh", "keepaliveInterval"], to: "often", code: "invalid_format" },
      { set: ["spec", "ssh", "maxChannels"], to: 0, code: "too_small" },
      { set: ["spec", "ssh", "maxChannels"], to: 10, code: "too_big" },
      { set: ["spec", "ssh", "maxChannels"], to: 2.5, code: "invalid_type" },
      {
        set: ["spec", "ssh", "strictHostKeyChecking"],
        to: false,
        code: "unrecognized_keys",
        at: ["spec", "ssh"],
      },
      { set: ["spec", "safety"], to: true, code: "invalid_type" },
      { set: ["spec", "safety", "requireQuorum"], to: "yes", code: "invalid_type" },
      { set: ["spec", "safety", "requireAllNodesOnline"], to: 1, code: "invalid_type" },
      { set: ["spec", "safety", "maxUnavailable"], to: 0, code: "too_small" },
      { set: ["spec", "safety", "maxUnavailable"], to: 1.5, code: "invalid_type" },
      { set: ["spec", "safety", "minOnline"], to: 2, code: "unrecognized_keys", at: ["spec", "safety"] },
      { set: ["spec", "observeInterval"], to: "5min", code: "invalid_format" },
      { set: ["spec", "controllerNode"], to: "PVE1", code: "invalid_format" },
      { set: ["spec", "suspend"], to: "true", code: "invalid_type" },
      { set: ["spec", "nodes"], to: ["pve1"], code: "unrecognized_keys", at: ["spec"] },
      {
        set: ["status", "nodes", 0],
        to: { name: "pve1" },
        code: "invalid_type",
        at: ["status", "nodes", 0, "online"],
      },
      {
        set: ["status", "nodes", 0],
        to: { name: "pve1", online: true, pendingUpdates: -1 },
        code: "too_small",
        at: ["status", "nodes", 0, "pendingUpdates"],
      },
      {
        set: ["status", "nodes", 0],
        to: { name: "pve1", online: true, kernel: "6.8" },
        code: "unrecognized_keys",
        at: ["status", "nodes", 0],
      },
      {
        set: ["status", "quorum"],
        to: { totalVotes: 3 },
        code: "invalid_type",
        at: ["status", "quorum", "quorate"],
      },
      {
        set: ["status", "quorum"],
        to: { quorate: true, quorum: 1.5 },
        code: "invalid_type",
        at: ["status", "quorum", "quorum"],
      },
      {
        set: ["status", "ha"],
        to: { master: "pve1" },
        code: "invalid_type",
        at: ["status", "ha", "enabled"],
      },
      { set: ["status", "standalone"], to: "no", code: "invalid_type" },
    ]),
  )("rejects %s", (_name, c) => {
    rejects(proxmoxCluster, minimal, c);
  });

  it.each([
    [
      "a node listed twice",
      [
        { node: "pve1", host: "a" },
        { node: "pve1", host: "b" },
      ],
      undefined,
      ["spec", "endpoints"],
      /each node may appear in endpoints only once/,
    ],
    [
      "a node listed twice among others",
      [
        { node: "pve1", host: "a" },
        { node: "pve2", host: "b" },
        { node: "pve1", host: "c", port: 2222 },
      ],
      undefined,
      ["spec", "endpoints"],
      /each node may appear in endpoints only once/,
    ],
    [
      "a controllerNode that is not an endpoint",
      [
        { node: "pve1", host: "a" },
        { node: "pve2", host: "b" },
      ],
      "pve3",
      ["spec", "controllerNode"],
      /controllerNode must be one of the endpoints' nodes/,
    ],
  ])("rejects %s", (_label, endpoints, controllerNode, path, message) => {
    const spec = { endpoints, ssh: SSH, ...(controllerNode === undefined ? {} : { controllerNode }) };
    expectRejected(proxmoxCluster, obj("ProxmoxCluster", spec), path, "custom", message);
  });

  it("reports both cross-field rules at once", () => {
    const spec = {
      endpoints: [
        { node: "pve1", host: "a" },
        { node: "pve1", host: "b" },
      ],
      ssh: SSH,
      controllerNode: "pve9",
    };
    const issues = proxmoxCluster.safeParse(obj("ProxmoxCluster", spec)).error?.issues ?? [];
    expect(issues.map((i) => i.path)).toEqual([
      ["spec", "endpoints"],
      ["spec", "controllerNode"],
    ]);
  });

  it("carries its cross-field rules as CEL, on the spec and on every secret", () => {
    expect(proxmoxClusterSpec.meta()?.[VALIDATIONS]).toEqual([
      {
        rule: "self.endpoints.all(e, self.endpoints.exists_one(f, f.node == e.node))",
        message: "each node may appear in endpoints only once",
        fieldPath: ".endpoints",
      },
      {
        rule: "!has(self.controllerNode) || self.endpoints.exists(e, e.node == self.controllerNode)",
        message: "controllerNode must be one of the endpoints' nodes",
        fieldPath: ".controllerNode",
      },
    ]);
    const json = jsonSchema(proxmoxCluster);
    expect(at(json, "/properties/spec")[VALIDATIONS]).toEqual(proxmoxClusterSpec.meta()?.[VALIDATIONS]);
    expect(validationsIn(json)).toEqual({
      "/properties/spec": [
        "each node may appear in endpoints only once",
        "controllerNode must be one of the endpoints' nodes",
      ],
      "/properties/spec/properties/ssh/properties/privateKey": SECRET_RULE,
      "/properties/spec/properties/ssh/properties/passphrase": SECRET_RULE,
      "/properties/spec/properties/ssh/properties/knownHosts": SECRET_RULE,
    });
  });

  it("requires in its JSON Schema only what has no default", () => {
    const spec = at(jsonSchema(proxmoxCluster), "/properties/spec");
    expect(spec.required).toEqual(["endpoints", "ssh"]);
    expect(at(spec, "/properties/ssh").required).toEqual(["privateKey", "knownHosts"]);
    expect(at(spec, "/properties/safety/properties/maxUnavailable")).toMatchObject({
      default: 1,
      minimum: 1,
    });
  });
});

// ------------------------------------------------------------------------------------------------

describe("HostPatchPlan", () => {
  const pve = obj(
    "HostPatchPlan",
    { clusterRef: { name: "homelab" }, targets: { nodes: ["pve*"] } },
    "pve-nodes",
  );
  const pbs = obj(
    "HostPatchPlan",
    { profile: "pbs", targets: { standalone: [{ name: "pbs", host: "192.0.2.50" }] }, ssh: SSH },
    "pbs",
  );

  it("parses the full example", () => {
    const raw = loadFixture("host-patch-plan.full.yaml");
    const plan = hostPatchPlan.parse(raw);
    expect(plan.spec.profile).toBe("pbs");
    expect(plan.spec.targets.standalone).toEqual([
      { name: "pbs", host: "192.0.2.50", port: 2222, rebootedBy: { vmid: 150 } },
      { name: "nas", host: "nas.lan.example" },
    ]);
    expect(plan.spec.ssh?.privateKey).toEqual({
      secretKeyRef: { name: "refit-ssh", key: "id_ed25519", namespace: "refit" },
    });
    expect(plan.spec.upgrade.mode).toBe("upgrade");
    expect(plan.spec.upgrade.dpkgOptions).toEqual(["--force-confnew"]);
    expect(plan.spec.reboot).toEqual({ policy: "Always", returnTimeout: "20m" });
    expect(plan.spec.evacuation.mode).toBe("HAMaintenance");
    expect(plan.spec.evacuation.memoryHeadroomPercent).toBe(15.5);
    expect(plan.spec.gates.rootFsMinFreeGiB).toBe(4.5);
    expect(plan.spec.verify.services).toContain("getty@tty1.service");
    expect(plan.spec.concurrency).toEqual({ maxParallel: 2, jitter: "30s", maxFailures: 1 });
    expect(plan.spec.after).toEqual([
      { kind: "HostPatchPlan", name: "pve-nodes" },
      { kind: "GuestUpdatePlan", name: "web-apps" },
    ]);
    expect(plan.spec.notifications.events).toContain("BeforeReboot");
    expect(plan.status?.lastCycle?.reportPath).toMatch(/\.json$/);
    // The one condition without a message gets the empty one; nothing else changes.
    const reconciling = plan.status?.conditions?.[1];
    expect(reconciling?.message).toBe("");
    expect(plan).toEqual(withValue(raw, ["status", "conditions", 1, "message"], ""));
  });

  it("applies defaults to a minimal pve plan, including every nested block", () => {
    const plan = hostPatchPlan.parse(pve);
    expect(plan.spec).toEqual({
      clusterRef: { name: "homelab" },
      profile: "pve",
      targets: { nodes: ["pve*"] },
      upgrade: {
        refreshIndex: true,
        mode: "dist-upgrade",
        dpkgOptions: ["--force-confdef", "--force-confold"],
        autoremove: true,
        autoclean: true,
        timeout: "60m",
        prefetch: { enabled: true, maxParallel: 4 },
      },
      reboot: { policy: "IfRequired", returnTimeout: "15m" },
      evacuation: {
        mode: "Migrate",
        migrateBack: true,
        maxParallelMigrations: 2,
        memoryHeadroomPercent: 10,
        unmovable: "Block",
        withLocalDisks: true,
        ejectLocalMedia: false,
        containerShutdownTimeout: "180s",
        preferPatchedNodes: true,
        shutdownTimeout: "180s",
        timeout: "30m",
      },
      gates: {},
      ceph: { allowHealthWarn: false, noout: true },
      verify: { timeout: "10m" },
      concurrency: { maxParallel: 1, jitter: "0s", maxFailures: 0 },
      windowRefs: [],
      blackoutRefs: [],
      after: [],
      suspend: false,
      notifications: { channelRefs: [], maxWait: "15s" },
    });
  });

  it("applies the ssh defaults to a standalone plan's own ssh access", () => {
    expect(hostPatchPlan.parse(pbs).spec.ssh).toEqual(SSH_DEFAULTS);
  });

  it.each([
    ["reboot", { policy: "Never" }, { policy: "Never", returnTimeout: "15m" }],
    ["upgrade", { timeout: "2h" }, { timeout: "2h", mode: "dist-upgrade", refreshIndex: true }],
    ["evacuation", { mode: "Shutdown" }, { mode: "Shutdown", migrateBack: true, unmovable: "Block" }],
    ["verify", { services: ["pveproxy.service"] }, { services: ["pveproxy.service"], timeout: "10m" }],
    ["concurrency", { maxParallel: 3 }, { maxParallel: 3, jitter: "0s", maxFailures: 0 }],
    ["notifications", { minSeverity: "error" }, { minSeverity: "error", channelRefs: [], maxWait: "15s" }],
  ])("fills in %s defaults around the fields that are set", (block, given, expected) => {
    const plan = hostPatchPlan.parse(withValue(pve, ["spec", block], given));
    expect((plan.spec as Json)[block]).toMatchObject(expected);
  });

  it.each([
    ["pve cluster nodes", { clusterRef: { name: "c" }, targets: { nodes: ["pve1", "pve2"] } }],
    [
      "pve nodes with exclusions",
      { clusterRef: { name: "c" }, targets: { nodes: ["pve*"], excludeNodes: ["pve9"] } },
    ],
    ["debian cluster nodes", { profile: "debian", clusterRef: { name: "c" }, targets: { nodes: ["pve*"] } }],
    [
      "pbs with its own ssh",
      { profile: "pbs", targets: { standalone: [{ name: "pbs", host: "h" }] }, ssh: SSH },
    ],
    [
      "pbs borrowing the cluster's ssh",
      { profile: "pbs", clusterRef: { name: "c" }, targets: { standalone: [{ name: "pbs", host: "h" }] } },
    ],
    [
      "pbs rebooted by its guest",
      {
        profile: "pbs",
        clusterRef: { name: "c" },
        targets: { standalone: [{ name: "pbs", host: "h", rebootedBy: { vmid: 150 } }] },
        ssh: SSH,
      },
    ],
    [
      "debian hosts with nodes empty",
      {
        profile: "debian",
        ssh: SSH,
        clusterRef: { name: "c" },
        targets: { nodes: [], standalone: [{ name: "nas", host: "h" }] },
      },
    ],
  ])("accepts %s", (_label, spec) => {
    expect(hostPatchPlan.safeParse(obj("HostPatchPlan", spec)).error?.issues).toBeUndefined();
  });

  const standalone = [{ name: "pbs", host: "192.0.2.50" }];
  it.each([
    [
      "no targets at all (pbs)",
      { profile: "pbs", clusterRef: { name: "c" }, targets: {} },
      ["spec", "targets"],
      /^set exactly one of nodes or standalone$/,
    ],
    [
      "an empty nodes list alone",
      { profile: "debian", clusterRef: { name: "c" }, targets: { nodes: [] } },
      ["spec", "targets"],
      /^set exactly one of nodes or standalone$/,
    ],
    [
      "both nodes and standalone",
      { clusterRef: { name: "c" }, ssh: SSH, targets: { nodes: ["pve*"], standalone } },
      ["spec", "targets"],
      /^set exactly one of nodes or standalone$/,
    ],
    [
      "no targets at all (pve)",
      { clusterRef: { name: "c" }, targets: {} },
      ["spec", "targets"],
      /profile pve patches cluster nodes: set targets.nodes/,
    ],
    [
      "cluster nodes without a clusterRef",
      { targets: { nodes: ["pve*"] } },
      ["spec", "clusterRef"],
      /^clusterRef is required when targets.nodes names cluster nodes$/,
    ],
    [
      "profile pve on standalone hosts",
      { ssh: SSH, targets: { standalone } },
      ["spec", "targets"],
      /^profile pve patches cluster nodes: set targets.nodes$/,
    ],
    [
      "a host rebootedBy a guest without a clusterRef",
      {
        profile: "pbs",
        ssh: SSH,
        targets: { standalone: [{ name: "pbs", host: "h", rebootedBy: { vmid: 150 } }] },
      },
      ["spec", "clusterRef"],
      /^clusterRef is required when a standalone host is rebootedBy a guest$/,
    ],
    [
      "standalone hosts without ssh or clusterRef",
      { profile: "debian", targets: { standalone } },
      ["spec", "ssh"],
      /^standalone hosts need ssh access: set ssh or a clusterRef to borrow it from$/,
    ],
  ])("rejects %s", (_label, spec, path, message) => {
    expectRejected(hostPatchPlan, obj("HostPatchPlan", spec), path, "custom", message);
  });

  // `nodes: []` passes the profile rule, which checks that the list is present, not that it names a
  // node: a pve plan can then patch standalone hosts only. The CEL rule has the same gap.
  it("rejects profile pve whose nodes list is empty", () => {
    const spec = { clusterRef: { name: "c" }, targets: { nodes: [], standalone } };
    expectRejected(hostPatchPlan, obj("HostPatchPlan", spec), ["spec", "targets"], "custom", /profile pve/);
  });

  it.each(
    named([
      ...envelopeCases("HostPatchPlan"),
      { set: ["spec", "profile"], to: "ubuntu", code: "invalid_value" },
      { set: ["spec", "profile"], to: "PVE", code: "invalid_value" },
      { set: ["spec", "clusterRef"], to: "homelab", code: "invalid_type" },
      { set: ["spec", "clusterRef", "name"], to: "Home Lab", code: "invalid_format" },
      {
        set: ["spec", "clusterRef", "namespace"],
        to: "refit",
        code: "unrecognized_keys",
        at: ["spec", "clusterRef"],
      },
      { set: ["spec", "targets"], to: undefined, code: "invalid_type" },
      { set: ["spec", "targets", "nodes"], to: "pve*", code: "invalid_type" },
      { set: ["spec", "targets", "nodes", 0], to: "", code: "too_small" },
      { set: ["spec", "targets", "nodes", 0], to: "x".repeat(254), code: "too_big" },
      {
        set: ["spec", "targets", "excludeNodes"],
        to: [""],
        code: "too_small",
        at: ["spec", "targets", "excludeNodes", 0],
      },
      { set: ["spec", "targets", "tags"], to: ["prod"], code: "unrecognized_keys", at: ["spec", "targets"] },
      { set: ["spec", "upgrade"], to: "yes", code: "invalid_type" },
      { set: ["spec", "upgrade", "refreshIndex"], to: "yes", code: "invalid_type" },
      { set: ["spec", "upgrade", "mode"], to: "full-upgrade", code: "invalid_value" },
      { set: ["spec", "upgrade", "dpkgOptions"], to: "--force-confold", code: "invalid_type" },
      {
        set: ["spec", "upgrade", "dpkgOptions"],
        to: ["--confold"],
        code: "invalid_format",
        at: ["spec", "upgrade", "dpkgOptions", 0],
      },
      {
        set: ["spec", "upgrade", "dpkgOptions"],
        to: ["--force-confdef", "--force-confold; reboot"],
        code: "invalid_format",
        at: ["spec", "upgrade", "dpkgOptions", 1],
      },
      {
        set: ["spec", "upgrade", "dpkgOptions"],
        to: ["--force-conf old"],
        code: "invalid_format",
        at: ["spec", "upgrade", "dpkgOptions", 0],
      },
      {
        set: ["spec", "upgrade", "dpkgOptions"],
        to: ["--force-CONFOLD"],
        code: "invalid_format",
        at: ["spec", "upgrade", "dpkgOptions", 0],
      },
      {
        set: ["spec", "upgrade", "dpkgOptions"],
        to: ["-o"],
        code: "invalid_format",
        at: ["spec", "upgrade", "dpkgOptions", 0],
      },
      {
        set: ["spec", "upgrade", "dpkgOptions"],
        to: ["Dpkg::Options::=--force-confold"],
        code: "invalid_format",
        at: ["spec", "upgrade", "dpkgOptions", 0],
      },
      { set: ["spec", "upgrade", "autoremove"], to: 0, code: "invalid_type" },
      { set: ["spec", "upgrade", "autoclean"], to: null, code: "invalid_type" },
      {
        set: ["spec", "upgrade", "holdPackages"],
        to: [""],
        code: "too_small",
        at: ["spec", "upgrade", "holdPackages", 0],
      },
      { set: ["spec", "upgrade", "timeout"], to: "1 h", code: "invalid_format" },
      { set: ["spec", "upgrade", "yes"], to: true, code: "unrecognized_keys", at: ["spec", "upgrade"] },
      { set: ["spec", "reboot", "policy"], to: "Sometimes", code: "invalid_value" },
      { set: ["spec", "reboot", "policy"], to: "always", code: "invalid_value" },
      { set: ["spec", "reboot", "returnTimeout"], to: "15", code: "invalid_format" },
      { set: ["spec", "reboot", "delay"], to: "1m", code: "unrecognized_keys", at: ["spec", "reboot"] },
      { set: ["spec", "evacuation", "mode"], to: "Drain", code: "invalid_value" },
      { set: ["spec", "evacuation", "migrateBack"], to: "yes", code: "invalid_type" },
      { set: ["spec", "evacuation", "maxParallelMigrations"], to: 0, code: "too_small" },
      { set: ["spec", "evacuation", "maxParallelMigrations"], to: 17, code: "too_big" },
      { set: ["spec", "evacuation", "maxParallelMigrations"], to: 1.5, code: "invalid_type" },
      { set: ["spec", "evacuation", "memoryHeadroomPercent"], to: -1, code: "too_small" },
      { set: ["spec", "evacuation", "memoryHeadroomPercent"], to: 101, code: "too_big" },
      { set: ["spec", "evacuation", "unmovable"], to: "Ignore", code: "invalid_value" },
      { set: ["spec", "evacuation", "withLocalDisks"], to: "true", code: "invalid_type" },
      { set: ["spec", "evacuation", "containerShutdownTimeout"], to: "3min", code: "invalid_format" },
      { set: ["spec", "evacuation", "preferPatchedNodes"], to: 1, code: "invalid_type" },
      { set: ["spec", "evacuation", "timeout"], to: "half an hour", code: "invalid_format" },
      {
        set: ["spec", "evacuation", "targetNodes"],
        to: ["pve2"],
        code: "unrecognized_keys",
        at: ["spec", "evacuation"],
      },
      { set: ["spec", "gates", "pveVersion"], to: "yes", code: "invalid_type" },
      { set: ["spec", "gates", "zfsHealthy"], to: 1, code: "invalid_type" },
      { set: ["spec", "gates", "rootFsMaxUsedPercent"], to: 101, code: "too_big" },
      { set: ["spec", "gates", "rootFsMaxUsedPercent"], to: -5, code: "too_small" },
      { set: ["spec", "gates", "rootFsMinFreeGiB"], to: -1, code: "too_small" },
      { set: ["spec", "gates", "keepsQuorum"], to: "true", code: "invalid_type" },
      { set: ["spec", "gates", "packageManagerWait"], to: "10", code: "invalid_format" },
      { set: ["spec", "gates", "diskHealthy"], to: true, code: "unrecognized_keys", at: ["spec", "gates"] },
      { set: ["spec", "verify", "services"], to: "pveproxy", code: "invalid_type" },
      {
        set: ["spec", "verify", "services"],
        to: ["pveproxy service"],
        code: "invalid_format",
        at: ["spec", "verify", "services", 0],
      },
      {
        set: ["spec", "verify", "services"],
        to: ["pveproxy", "pvedaemon;reboot"],
        code: "invalid_format",
        at: ["spec", "verify", "services", 1],
        message: /systemd unit name/,
      },
      {
        set: ["spec", "verify", "services"],
        to: ["$(reboot)"],
        code: "invalid_format",
        at: ["spec", "verify", "services", 0],
      },
      {
        set: ["spec", "verify", "services"],
        to: [""],
        code: "invalid_format",
        at: ["spec", "verify", "services", 0],
      },
      {
        set: ["spec", "verify", "services"],
        to: ["pve/proxy"],
        code: "invalid_format",
        at: ["spec", "verify", "services", 0],
      },
      { set: ["spec", "verify", "requireEnabled"], to: "yes", code: "invalid_type" },
      { set: ["spec", "verify", "haLrmActive"], to: 1, code: "invalid_type" },
      { set: ["spec", "verify", "timeout"], to: "10 minutes", code: "invalid_format" },
      { set: ["spec", "concurrency", "maxParallel"], to: 0, code: "too_small" },
      { set: ["spec", "concurrency", "maxParallel"], to: 1.5, code: "invalid_type" },
      { set: ["spec", "concurrency", "jitter"], to: "30", code: "invalid_format" },
      { set: ["spec", "concurrency", "maxFailures"], to: -1, code: "too_small" },
      {
        set: ["spec", "concurrency", "parallel"],
        to: 2,
        code: "unrecognized_keys",
        at: ["spec", "concurrency"],
      },
      { set: ["spec", "windowRefs"], to: "saturday", code: "invalid_type" },
      { set: ["spec", "windowRefs"], to: [{}], code: "invalid_type", at: ["spec", "windowRefs", 0, "name"] },
      {
        set: ["spec", "windowRefs"],
        to: [{ name: "Saturday" }],
        code: "invalid_format",
        at: ["spec", "windowRefs", 0, "name"],
      },
      {
        set: ["spec", "blackoutRefs"],
        to: [{ name: "b", kind: "MaintenanceWindow" }],
        code: "unrecognized_keys",
        at: ["spec", "blackoutRefs", 0],
      },
      { set: ["spec", "mutex"], to: "Infra Jobs", code: "invalid_format" },
      {
        set: ["spec", "after"],
        to: [{ kind: "ProxmoxCluster", name: "c" }],
        code: "invalid_value",
        at: ["spec", "after", 0, "kind"],
      },
      {
        set: ["spec", "after"],
        to: [{ kind: "HostPatchPlan" }],
        code: "invalid_type",
        at: ["spec", "after", 0, "name"],
      },
      { set: ["spec", "suspend"], to: "no", code: "invalid_type" },
      {
        set: ["spec", "notifications", "channelRefs"],
        to: [{ name: "" }],
        code: "too_small",
        at: ["spec", "notifications", "channelRefs", 0, "name"],
      },
      { set: ["spec", "notifications", "minSeverity"], to: "fatal", code: "invalid_value" },
      {
        set: ["spec", "notifications", "events"],
        to: ["Rebooted"],
        code: "invalid_value",
        at: ["spec", "notifications", "events", 0],
      },
      {
        set: ["spec", "notifications", "email"],
        to: "ops@example.com",
        code: "unrecognized_keys",
        at: ["spec", "notifications"],
      },
      { set: ["spec", "window"], to: "saturday", code: "unrecognized_keys", at: ["spec"] },
      { set: ["status", "phase"], to: "Running", code: "invalid_value" },
      { set: ["status", "targets"], to: -1, code: "too_small" },
      { set: ["status", "succeeded"], to: 1.5, code: "invalid_type" },
      {
        set: ["status", "lastCycle"],
        to: { finishedAt: "t" },
        code: "invalid_type",
        at: ["status", "lastCycle", "startedAt"],
      },
    ]),
  )("rejects %s", (_name, c) => {
    rejects(hostPatchPlan, pve, c);
  });

  it.each(
    named([
      { set: ["spec", "targets", "standalone"], to: "pbs", code: "invalid_type" },
      { set: ["spec", "targets", "standalone", 0, "name"], to: "PBS", code: "invalid_format" },
      { set: ["spec", "targets", "standalone", 0, "name"], to: undefined, code: "invalid_type" },
      { set: ["spec", "targets", "standalone", 0, "host"], to: "", code: "too_small" },
      { set: ["spec", "targets", "standalone", 0, "port"], to: 0, code: "too_small" },
      { set: ["spec", "targets", "standalone", 0, "port"], to: 65536, code: "too_big" },
      {
        set: ["spec", "targets", "standalone", 0, "user"],
        to: "backup",
        code: "unrecognized_keys",
        at: ["spec", "targets", "standalone", 0],
      },
      {
        set: ["spec", "ssh"],
        to: { privateKey: { file: "/k" } },
        code: "invalid_type",
        at: ["spec", "ssh", "knownHosts"],
      },
      {
        set: ["spec", "ssh", "knownHosts"],
        to: { file: "/a", env: "B" },
        code: "custom",
        message: /exactly one of/,
      },
      { set: ["spec", "ssh", "maxChannels"], to: 10, code: "too_big" },
      { set: ["spec", "ssh", "port"], to: 70000, code: "too_big" },
    ]),
  )("rejects on a standalone plan %s", (_name, c) => {
    rejects(hostPatchPlan, pbs, c);
  });

  it.each([
    [{ vmid: 99 }, "too_small"],
    [{ vmid: 1_000_000_000 }, "too_big"],
    [{ vmid: 150.5 }, "invalid_type"],
    [{ vmid: "150" }, "invalid_type"],
  ])("rejects rebootedBy %j (%s)", (rebootedBy, code) => {
    const plan = withValue(
      withValue(pbs, ["spec", "clusterRef"], { name: "c" }),
      ["spec", "targets", "standalone", 0, "rebootedBy"],
      rebootedBy,
    );
    expectRejected(hostPatchPlan, plan, ["spec", "targets", "standalone", 0, "rebootedBy", "vmid"], code);
  });

  it("rejects a rebootedBy with fields besides vmid", () => {
    const plan = withValue(
      withValue(pbs, ["spec", "clusterRef"], { name: "c" }),
      ["spec", "targets", "standalone", 0, "rebootedBy"],
      { vmid: 150, node: "pve1" },
    );
    expectRejected(
      hostPatchPlan,
      plan,
      ["spec", "targets", "standalone", 0, "rebootedBy"],
      "unrecognized_keys",
    );
  });

  it("carries its cross-field rules as CEL on the spec, the targets and every secret", () => {
    const specRules = hostPatchPlanSpec.meta()?.[VALIDATIONS] as { rule: string; fieldPath?: string }[];
    expect(specRules.map((r) => r.fieldPath)).toEqual([".clusterRef", ".targets", ".clusterRef", ".ssh"]);
    expect(specRules.every((r) => r.rule.length > 0)).toBe(true);
    expect(hostTargets.meta()?.[VALIDATIONS]).toEqual([
      {
        rule: "(has(self.nodes) && size(self.nodes) > 0) != (has(self.standalone) && size(self.standalone) > 0)",
        message: "set exactly one of nodes or standalone",
      },
    ]);
    const json = jsonSchema(hostPatchPlan);
    expect(at(json, "/properties/spec")[VALIDATIONS]).toEqual(specRules);
    expect(validationsIn(json)).toEqual({
      "/properties/spec": [
        "clusterRef is required when targets.nodes names cluster nodes",
        "profile pve patches cluster nodes: set targets.nodes",
        "clusterRef is required when a standalone host is rebootedBy a guest",
        "standalone hosts need ssh access: set ssh or a clusterRef to borrow it from",
      ],
      "/properties/spec/properties/targets": ["set exactly one of nodes or standalone"],
      "/properties/spec/properties/ssh/properties/privateKey": SECRET_RULE,
      "/properties/spec/properties/ssh/properties/passphrase": SECRET_RULE,
      "/properties/spec/properties/ssh/properties/knownHosts": SECRET_RULE,
    });
  });

  it("requires in its JSON Schema only the targets", () => {
    const spec = at(jsonSchema(hostPatchPlan), "/properties/spec");
    expect(spec.required).toEqual(["targets"]);
    expect(at(spec, "/properties/reboot/properties/policy")).toMatchObject({
      enum: ["Always", "IfRequired", "Never"],
      default: "IfRequired",
    });
  });
});

// ------------------------------------------------------------------------------------------------

describe("HostPatch", () => {
  const minimal = obj(
    "HostPatch",
    { planRef: { name: "pve-nodes" }, host: "pve1", profile: "pve", cycle: "20250104T020000Z" },
    "pve-nodes-pve1",
  );

  it("parses the full example", () => {
    const raw = loadFixture("host-patch.full.yaml");
    const patch = hostPatch.parse(raw);
    expect(patch).toEqual(raw);
    expect(patch.spec).toEqual({
      planRef: { name: "pve-nodes" },
      clusterRef: { name: "homelab" },
      host: "pve1",
      profile: "pve",
      cycle: "20250104T020000Z",
    });
    expect(patch.status?.phase).toBe("AwaitingReturn");
    expect(patch.status?.bootIdBeforeReboot).toBe("2c0f0a64-8b3e-4a47-a1a6-3b5d2c9f1e00");
    expect(patch.status?.migrations?.map((m) => [m.vmid, m.type, m.mode])).toEqual([
      [101, "qemu", "online"],
      [200, "lxc", "restart"],
    ]);
    expect(patch.status?.migrationsToUndo?.map((m) => m.mode)).toEqual(["online", "ha", "offline"]);
    expect(patch.status?.currentStep).toEqual({
      name: "reboot",
      id: "refit-pve-nodes-pve1-reboot-1",
      startedAt: "2025-01-04T02:20:00Z",
      timeout: "15m",
    });
    expect(patch.status?.lastError?.retryable).toBe(true);
  });

  it("adds nothing to a minimal patch, and defaults only a condition's message", () => {
    expect(hostPatch.parse(minimal)).toEqual(minimal);
    const condition = { type: "Ready", status: "Unknown", reason: "Pending", lastTransitionTime: "t" };
    const parsed = hostPatch.parse(
      withValue(minimal, ["status"], { phase: "Pending", conditions: [condition] }),
    );
    expect(parsed.status).toEqual({ phase: "Pending", conditions: [{ ...condition, message: "" }] });
  });

  it.each([
    "Pending",
    "Preflight",
    "Blocked",
    "Skipped",
    "Upgrading",
    "Evacuating",
    "Rebooting",
    "AwaitingReturn",
    "Verifying",
    "Restoring",
    "Succeeded",
    "Failed",
  ])("accepts phase %s", (phase) => {
    expect(hostPatch.parse(withValue(minimal, ["status", "phase"], phase)).status?.phase).toBe(phase);
  });

  const migration = { vmid: 101, type: "qemu", from: "pve1", to: "pve2", mode: "online", state: "Done" };
  it.each(
    named([
      ...envelopeCases("HostPatch"),
      { set: ["spec", "planRef"], to: undefined, code: "invalid_type" },
      { set: ["spec", "planRef"], to: "pve-nodes", code: "invalid_type" },
      { set: ["spec", "planRef", "name"], to: "PVE Nodes", code: "invalid_format" },
      {
        set: ["spec", "clusterRef"],
        to: { name: "" },
        code: "too_small",
        at: ["spec", "clusterRef", "name"],
      },
      { set: ["spec", "host"], to: "PVE1", code: "invalid_format" },
      { set: ["spec", "host"], to: undefined, code: "invalid_type" },
      { set: ["spec", "profile"], to: "windows", code: "invalid_value" },
      { set: ["spec", "profile"], to: undefined, code: "invalid_value" },
      { set: ["spec", "cycle"], to: "", code: "too_small" },
      { set: ["spec", "cycle"], to: 20250104, code: "invalid_type" },
      { set: ["spec", "phase"], to: "Pending", code: "unrecognized_keys", at: ["spec"] },
      { set: ["status", "phase"], to: "Done", code: "invalid_value" },
      {
        set: ["status", "gates"],
        to: [{ name: "zfs", passed: "yes", message: "" }],
        code: "invalid_type",
        at: ["status", "gates", 0, "passed"],
      },
      {
        set: ["status", "pendingPackages"],
        to: [{ name: "pve-manager" }],
        code: "invalid_type",
        at: ["status", "pendingPackages", 0, "to"],
      },
      {
        set: ["status", "upgradedPackages"],
        to: [{ name: "x", to: "1", arch: "amd64" }],
        code: "unrecognized_keys",
        at: ["status", "upgradedPackages", 0],
      },
      {
        set: ["status", "rebootDecision"],
        to: { required: true, reasons: "NewerKernel" },
        code: "invalid_type",
        at: ["status", "rebootDecision", "reasons"],
      },
      {
        set: ["status", "migrations"],
        to: [{ ...migration, vmid: 99 }],
        code: "too_small",
        at: ["status", "migrations", 0, "vmid"],
      },
      {
        set: ["status", "migrations"],
        to: [{ ...migration, type: "vm" }],
        code: "invalid_value",
        at: ["status", "migrations", 0, "type"],
      },
      {
        set: ["status", "migrations"],
        to: [{ ...migration, mode: "live" }],
        code: "invalid_value",
        at: ["status", "migrations", 0, "mode"],
      },
      {
        set: ["status", "migrations"],
        to: [{ ...migration, state: "Pending" }],
        code: "invalid_value",
        at: ["status", "migrations", 0, "state"],
      },
      {
        set: ["status", "migrationsToUndo"],
        to: [{ ...migration, from: undefined }],
        code: "invalid_type",
        at: ["status", "migrationsToUndo", 0, "from"],
      },
      {
        set: ["status", "currentStep"],
        to: { name: "reboot", id: "r1", startedAt: "t", timeout: "15" },
        code: "invalid_format",
        at: ["status", "currentStep", "timeout"],
      },
      {
        set: ["status", "currentStep"],
        to: { name: "reboot", startedAt: "t" },
        code: "invalid_type",
        at: ["status", "currentStep", "id"],
      },
      {
        set: ["status", "lastError"],
        to: { reason: "X", message: "m", at: "t" },
        code: "invalid_type",
        at: ["status", "lastError", "retryable"],
      },
      { set: ["status", "bootIdBeforeReboot"], to: 1, code: "invalid_type" },
    ]),
  )("rejects %s", (_name, c) => {
    rejects(hostPatch, minimal, c);
  });

  it("has no cross-field rules to carry as CEL", () => {
    expect(validationsIn(jsonSchema(hostPatch))).toEqual({});
  });
});

// ------------------------------------------------------------------------------------------------

describe("MaintenanceWindow", () => {
  const minimal = obj("MaintenanceWindow", { schedule: "0 2 * * 6", duration: "4h" }, "saturday");

  it("parses the full example", () => {
    const raw = loadFixture("maintenance-window.full.yaml");
    const window = maintenanceWindow.parse(raw);
    expect(window).toEqual(raw);
    expect(window.spec).toEqual({
      schedule: "30 1 * * SAT",
      duration: "3h30m",
      timeZone: "Europe/Berlin",
      description: "Saturday night, after the backups, before anyone wakes up.",
    });
    expect(window.status?.open).toBe(false);
    expect(window.status?.nextClose).toBe("2025-01-11T04:00:00Z");
  });

  it("defaults the time zone to UTC", () => {
    expect(maintenanceWindow.parse(minimal).spec).toEqual({
      schedule: "0 2 * * 6",
      duration: "4h",
      timeZone: "UTC",
    });
  });

  it.each(
    named([
      ...envelopeCases("MaintenanceWindow"),
      { set: ["spec", "schedule"], to: undefined, code: "invalid_type" },
      { set: ["spec", "schedule"], to: "0 2 * *", code: "invalid_format", message: /5-field cron/ },
      { set: ["spec", "schedule"], to: "0 2 * * 6 2025", code: "invalid_format" },
      { set: ["spec", "schedule"], to: "@weekly", code: "invalid_format" },
      { set: ["spec", "schedule"], to: "", code: "invalid_format" },
      { set: ["spec", "schedule"], to: "0 2 * * 6 && reboot", code: "invalid_format" },
      { set: ["spec", "schedule"], to: 0, code: "invalid_type" },
      { set: ["spec", "duration"], to: undefined, code: "invalid_type" },
      { set: ["spec", "duration"], to: "4", code: "invalid_format", message: /duration/ },
      { set: ["spec", "duration"], to: "four hours", code: "invalid_format" },
      { set: ["spec", "duration"], to: 4, code: "invalid_type" },
      { set: ["spec", "timeZone"], to: "Mars/Olympus", code: "custom", message: /IANA time zone/ },
      { set: ["spec", "timeZone"], to: "CEST+2", code: "custom" },
      { set: ["spec", "timeZone"], to: "", code: "too_small" },
      { set: ["spec", "timeZone"], to: 1, code: "invalid_type" },
      { set: ["spec", "description"], to: "x".repeat(1025), code: "too_big" },
      { set: ["spec", "description"], to: ["a"], code: "invalid_type" },
      { set: ["spec", "blackout"], to: true, code: "unrecognized_keys", at: ["spec"] },
      { set: ["status", "open"], to: "yes", code: "invalid_type" },
      { set: ["status", "nextOpen"], to: 1, code: "invalid_type" },
    ]),
  )("rejects %s", (_name, c) => {
    rejects(maintenanceWindow, minimal, c);
  });

  it("accepts a description of exactly 1024 characters", () => {
    const window = maintenanceWindow.parse(withValue(minimal, ["spec", "description"], "x".repeat(1024)));
    expect(window.spec.description).toHaveLength(1024);
  });

  // Field ranges are not checked: "61 * * * *" loads and the window would never open.
  it("rejects a schedule whose minute is out of range", () => {
    rejects(maintenanceWindow, minimal, {
      set: ["spec", "schedule"],
      to: "61 2 * * 6",
      code: "custom",
    });
  });

  it("has no cross-field rules to carry as CEL, and defaults timeZone in its JSON Schema", () => {
    const json = jsonSchema(maintenanceWindow);
    expect(validationsIn(json)).toEqual({});
    const spec = at(json, "/properties/spec");
    expect(spec.required).toEqual(["schedule", "duration"]);
    expect(at(spec, "/properties/timeZone")).toMatchObject({ type: "string", default: "UTC" });
  });
});

// ------------------------------------------------------------------------------------------------

describe("NotificationChannel", () => {
  const secret = { env: "SECRET" };
  const minimalSpecs: Record<(typeof notificationChannelTypes)[number], Json> = {
    webhook: { type: "webhook", url: secret },
    slack: { type: "slack", webhookUrl: secret },
    discord: { type: "discord", webhookUrl: secret },
    teams: { type: "teams", webhookUrl: secret },
    telegram: { type: "telegram", botToken: secret, chatId: "-1001234567890" },
    email: {
      type: "email",
      smtp: { host: "smtp.example.com" },
      from: "refit@example.com",
      to: ["ops@example.com"],
    },
    ntfy: { type: "ntfy", topic: secret },
    gotify: { type: "gotify", url: secret, token: secret },
  };
  const channel = (type: keyof typeof minimalSpecs) =>
    obj("NotificationChannel", minimalSpecs[type], `ops-${type}`);
  const commonDefaults = { minSeverity: "info", timeout: "10s", retries: 5, retryBackoff: "5s" };
  const typeDefaults: Record<string, Json> = {
    email: { smtp: { host: "smtp.example.com", port: 587, security: "starttls" } },
    ntfy: { server: "https://ntfy.sh" },
  };

  it("parses the full example: one channel of each type", () => {
    const raws = loadFixtures("notification-channel.full.yaml");
    const channels = raws.map((raw) => notificationChannel.parse(raw));
    expect(channels).toEqual(raws);
    expect(channels.map((c) => c.spec.type)).toEqual([...notificationChannelTypes]);
    const [webhook, , , , telegram, email, ntfy] = channels.map((c) => c.spec);
    expect(webhook?.type === "webhook" && webhook.headers).toEqual({
      Authorization: { env: "OPS_WEBHOOK_AUTH" },
      "X-Refit-Source": { file: "/etc/refit/webhook-source" },
    });
    expect(telegram?.type === "telegram" && telegram.chatId).toBe("-1001234567890");
    expect(email?.type === "email" && email.smtp).toMatchObject({ port: 465, security: "tls" });
    expect(email?.type === "email" && email.to).toEqual(["ops@example.com", "oncall@example.com"]);
    expect(ntfy?.type === "ntfy" && ntfy.server).toBe("https://ntfy.example.com");
    expect(channels[0]?.status?.lastDelivery).toMatchObject({ event: "BeforeReboot", ok: true });
  });

  it.each(notificationChannelTypes.map((t) => [t]))("applies defaults to a minimal %s channel", (type) => {
    const parsed = notificationChannel.parse(channel(type));
    expect(parsed.spec).toEqual({ ...minimalSpecs[type], ...commonDefaults, ...typeDefaults[type] });
  });

  it.each(
    named([
      ...envelopeCases("NotificationChannel"),
      {
        set: ["spec", "type"],
        to: "sms",
        code: "invalid_union",
        at: ["spec", "type"],
        message: /Invalid discriminator value/,
      },
      { set: ["spec", "type"], to: undefined, code: "invalid_union", at: ["spec", "type"] },
      { set: ["spec", "type"], to: "Webhook", code: "invalid_union", at: ["spec", "type"] },
      { set: ["spec", "minSeverity"], to: "debug", code: "invalid_value" },
      { set: ["spec", "minSeverity"], to: "fatal", code: "invalid_value" },
      { set: ["spec", "timeout"], to: "10", code: "invalid_format" },
      { set: ["spec", "retries"], to: -1, code: "too_small" },
      { set: ["spec", "retries"], to: 21, code: "too_big" },
      { set: ["spec", "retries"], to: 2.5, code: "invalid_type" },
      { set: ["spec", "retryBackoff"], to: "soon", code: "invalid_format" },
      { set: ["spec", "url"], to: "https://hooks.example.com/T0K3N", code: "invalid_type" },
      { set: ["spec", "url"], to: {}, code: "custom", message: /exactly one of file, env or secretKeyRef/ },
      { set: ["spec", "url"], to: undefined, code: "invalid_type" },
      {
        set: ["spec", "headers"],
        to: { Authorization: "Bearer x" },
        code: "invalid_type",
        at: ["spec", "headers", "Authorization"],
      },
      {
        set: ["spec", "headers"],
        to: { Authorization: {} },
        code: "custom",
        at: ["spec", "headers", "Authorization"],
      },
      { set: ["spec", "headers"], to: { "": secret }, code: "invalid_key", at: ["spec", "headers", ""] },
      { set: ["spec", "headers"], to: ["Authorization"], code: "invalid_type" },
      { set: ["spec", "webhookUrl"], to: secret, code: "unrecognized_keys", at: ["spec"] },
    ]),
  )("rejects on a webhook channel %s", (_name, c) => {
    rejects(notificationChannel, channel("webhook"), c);
  });

  it.each(["slack", "discord", "teams"] as const)(
    "rejects a %s channel without a secret webhookUrl",
    (type) => {
      rejects(notificationChannel, channel(type), {
        set: ["spec", "webhookUrl"],
        to: undefined,
        code: "invalid_type",
      });
      rejects(notificationChannel, channel(type), {
        set: ["spec", "webhookUrl"],
        to: "https://hooks.example.com/x",
        code: "invalid_type",
      });
      rejects(notificationChannel, channel(type), {
        set: ["spec", "webhookUrl"],
        to: { file: "/a", env: "B" },
        code: "custom",
      });
      rejects(notificationChannel, channel(type), {
        set: ["spec", "webhookUrl"],
        to: { file: "" },
        code: "too_small",
        at: ["spec", "webhookUrl", "file"],
      });
      rejects(notificationChannel, channel(type), {
        set: ["spec", "url"],
        to: secret,
        code: "unrecognized_keys",
        at: ["spec"],
      });
    },
  );

  it.each(
    named([
      { set: ["spec", "botToken"], to: undefined, code: "invalid_type" },
      {
        set: ["spec", "botToken"],
        to: { env: "bot-token" },
        code: "invalid_format",
        at: ["spec", "botToken", "env"],
      },
      { set: ["spec", "chatId"], to: "", code: "too_small" },
      { set: ["spec", "chatId"], to: undefined, code: "invalid_union" },
      { set: ["spec", "chatId"], to: -1001.5, code: "invalid_union" },
      { set: ["spec", "chatId"], to: true, code: "invalid_union" },
    ]),
  )("rejects on a telegram channel %s", (_name, c) => {
    rejects(notificationChannel, channel("telegram"), c);
  });

  it.each(
    named([
      { set: ["spec", "from"], to: "refit", code: "invalid_format", message: /email address/ },
      { set: ["spec", "from"], to: "refit @example.com", code: "invalid_format" },
      { set: ["spec", "from"], to: "refit@@example.com", code: "invalid_format" },
      { set: ["spec", "from"], to: undefined, code: "invalid_type" },
      { set: ["spec", "to"], to: [], code: "too_small" },
      { set: ["spec", "to"], to: "ops@example.com", code: "invalid_type" },
      {
        set: ["spec", "to"],
        to: ["ops@example.com", "oncall"],
        code: "invalid_format",
        at: ["spec", "to", 1],
        message: /email address/,
      },
      { set: ["spec", "to"], to: ["@example.com"], code: "invalid_format", at: ["spec", "to", 0] },
      { set: ["spec", "smtp"], to: undefined, code: "invalid_type" },
      { set: ["spec", "smtp", "host"], to: "", code: "too_small" },
      { set: ["spec", "smtp", "port"], to: 0, code: "too_small" },
      { set: ["spec", "smtp", "port"], to: 65536, code: "too_big" },
      { set: ["spec", "smtp", "port"], to: "587", code: "invalid_type" },
      { set: ["spec", "smtp", "security"], to: "ssl", code: "invalid_value" },
      { set: ["spec", "smtp", "security"], to: "STARTTLS", code: "invalid_value" },
      { set: ["spec", "smtp", "username"], to: 5, code: "invalid_type" },
      { set: ["spec", "smtp", "password"], to: "hunter2", code: "invalid_type" },
      { set: ["spec", "smtp", "password"], to: {}, code: "custom", message: /exactly one of/ },
      { set: ["spec", "smtp", "insecure"], to: true, code: "unrecognized_keys", at: ["spec", "smtp"] },
      { set: ["spec", "cc"], to: ["a@b"], code: "unrecognized_keys", at: ["spec"] },
    ]),
  )("rejects on an email channel %s", (_name, c) => {
    rejects(notificationChannel, channel("email"), c);
  });

  it.each(
    named([
      { set: ["spec", "server"], to: "not a url", code: "invalid_format", message: /URL/ },
      { set: ["spec", "server"], to: "ntfy.sh", code: "invalid_format" },
      { set: ["spec", "topic"], to: undefined, code: "invalid_type" },
      { set: ["spec", "topic"], to: "refit-alerts", code: "invalid_type" },
      { set: ["spec", "token"], to: {}, code: "custom" },
      { set: ["spec", "priority"], to: 5, code: "unrecognized_keys", at: ["spec"] },
    ]),
  )("rejects on an ntfy channel %s", (_name, c) => {
    rejects(notificationChannel, channel("ntfy"), c);
  });

  // z.url() accepts any scheme; an ntfy server is reached over HTTP(S) only.
  it.each(["ftp://ntfy.example.com", "javascript:alert(1)", "file:///etc/passwd"])(
    "rejects the ntfy server %j, which is not http(s)",
    (server) => {
      rejects(notificationChannel, channel("ntfy"), {
        set: ["spec", "server"],
        to: server,
        code: "invalid_format",
      });
    },
  );

  it.each(
    named([
      { set: ["spec", "url"], to: undefined, code: "invalid_type" },
      { set: ["spec", "url"], to: "https://gotify.example.com", code: "invalid_type" },
      { set: ["spec", "token"], to: undefined, code: "invalid_type" },
      {
        set: ["spec", "token"],
        to: { env: "app-token" },
        code: "invalid_format",
        at: ["spec", "token", "env"],
      },
      {
        set: ["spec", "token"],
        to: { secretKeyRef: { name: "gotify", key: "t" }, file: "/t" },
        code: "custom",
      },
    ]),
  )("rejects on a gotify channel %s", (_name, c) => {
    rejects(notificationChannel, channel("gotify"), c);
  });

  it.each(
    named([
      { set: ["status", "failures"], to: -1, code: "too_small" },
      {
        set: ["status", "lastDelivery"],
        to: { at: "t", event: "PlanStarted" },
        code: "invalid_type",
        at: ["status", "lastDelivery", "ok"],
      },
      {
        set: ["status", "lastDelivery"],
        to: { at: "t", event: "e", ok: true, status: 204 },
        code: "unrecognized_keys",
        at: ["status", "lastDelivery"],
      },
    ]),
  )("rejects status %s", (_name, c) => {
    rejects(notificationChannel, channel("slack"), c);
  });

  it("carries the secret rule as CEL on every secret of every channel type", () => {
    const spec = at(jsonSchema(notificationChannel), "/properties/spec");
    const variants = (spec.oneOf ?? spec.anyOf) as Json[];
    expect(variants).toHaveLength(notificationChannelTypes.length);
    const byType = new Map(variants.map((v) => [at(v, "/properties/type").const as string, v]));
    const secretsOf: Record<string, string[]> = {
      webhook: ["/properties/url", "/properties/headers/additionalProperties"],
      slack: ["/properties/webhookUrl"],
      discord: ["/properties/webhookUrl"],
      teams: ["/properties/webhookUrl"],
      telegram: ["/properties/botToken"],
      email: ["/properties/smtp/properties/password"],
      ntfy: ["/properties/topic", "/properties/token"],
      gotify: ["/properties/url", "/properties/token"],
    };
    for (const type of notificationChannelTypes) {
      const expected = Object.fromEntries((secretsOf[type] ?? []).map((p) => [p, SECRET_RULE]));
      expect(validationsIn(byType.get(type)), type).toEqual(expected);
    }
    expect(secretSource.meta()?.[VALIDATIONS]).toHaveLength(1);
  });

  it("requires in its JSON Schema only what has no default, per type", () => {
    const spec = at(jsonSchema(notificationChannel), "/properties/spec");
    const variants = (spec.oneOf ?? spec.anyOf) as Json[];
    const required = Object.fromEntries(
      variants.map((v) => [at(v, "/properties/type").const as string, v.required]),
    );
    expect(required).toEqual({
      webhook: ["type", "url"],
      slack: ["type", "webhookUrl"],
      discord: ["type", "webhookUrl"],
      teams: ["type", "webhookUrl"],
      telegram: ["type", "botToken", "chatId"],
      email: ["type", "smtp", "from", "to"],
      ntfy: ["type", "topic"],
      gotify: ["type", "url", "token"],
    });
  });
});
