import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import {
  guestUpdate,
  guestUpdatePhase,
  LOG_TAIL_MAX,
  SNAPSHOT_NAME_MAX,
} from "../../src/api/guest-update.js";

type Json = Record<string, unknown>;
type Path = (string | number)[];

const POLICY_FIELDS = [
  "runners",
  "backup",
  "preflight",
  "healthChecks",
  "rollback",
  "restart",
  "hooks",
  "timeouts",
  "customCommands",
];
/** The plan fixture's per-container fields, as the plan controller copies them into a child. */
const fullPolicy = (): Json => {
  const plan = parse(
    readFileSync(new URL("./fixtures/guest-update-plan.full.yaml", import.meta.url), "utf8"),
  ) as {
    spec: Json;
  };
  return Object.fromEntries(POLICY_FIELDS.map((f) => [f, plan.spec[f]]));
};

const minimal = (): Json => ({
  apiVersion: "refit.dev/v1alpha1",
  kind: "GuestUpdate",
  metadata: { name: "web-apps-105" },
  spec: {
    planRef: { name: "web-apps" },
    clusterRef: { name: "homelab" },
    vmid: 105,
    node: "pve1",
    type: "lxc",
    cycle: "20250104T080000Z",
    policy: { runners: [{ type: "os" }] },
  },
});

/** A child that has been through a failed update and a rollback: every field set. */
const full = (): Json => ({
  apiVersion: "refit.dev/v1alpha1",
  kind: "GuestUpdate",
  metadata: {
    name: "web-apps-105",
    namespace: "refit",
    labels: { "refit.dev/plan": "web-apps" },
    ownerReferences: [
      {
        apiVersion: "refit.dev/v1alpha1",
        kind: "GuestUpdatePlan",
        name: "web-apps",
        uid: "7c0e",
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
  spec: {
    planRef: { name: "web-apps" },
    clusterRef: { name: "homelab" },
    vmid: 105,
    node: "pve1",
    type: "lxc",
    cycle: "20250104T080000Z",
    policy: fullPolicy(),
  },
  status: {
    observedGeneration: 1,
    conditions: [
      {
        type: "Ready",
        status: "False",
        reason: "RolledBack",
        message: "health check site failed",
        lastTransitionTime: "2025-01-04T08:20:00Z",
        observedGeneration: 1,
      },
    ],
    lastHandledRequestAt: "2025-01-04T08:00:00Z",
    observedRevision: "3f2a9c1",
    phase: "RolledBack",
    node: "pve2",
    snapshot: {
      name: "refit-web-apps-20250104080010",
      mode: "vzdump",
      storage: "pbs-main",
      volid: "pbs-main:backup/ct/105/2025-01-04T08:00:10Z",
      createdAt: "2025-01-04T08:02:31Z",
    },
    runners: [
      {
        name: "system",
        type: "os",
        pending: [
          { package: "openssl", from: "3.0.15-1~deb12u1", to: "3.0.16-1~deb12u1" },
          { package: "linux-libc-dev", to: "6.1.124-1" },
        ],
        applied: true,
        result: "Succeeded",
        exitCode: 0,
        jobId: "refit-web-apps-105-os-1",
        startedAt: "2025-01-04T08:03:00Z",
        finishedAt: "2025-01-04T08:05:12Z",
        logTail: "Setting up openssl (3.0.16-1~deb12u1) ...\n",
      },
    ],
    healthBaseline: [
      {
        name: "site",
        type: "http",
        healthy: true,
        latencyMs: 12.5,
        attempts: 1,
        message: "200 OK",
        at: "2025-01-04T08:02:50Z",
      },
    ],
    healthResults: [
      {
        name: "site",
        type: "http",
        healthy: true,
        latencyMs: 11,
        attempts: 1,
        message: "200 OK",
        at: "2025-01-04T08:19:40Z",
      },
    ],
    rollback: {
      done: true,
      at: "2025-01-04T08:12:00Z",
      reason: "HealthCheckFailed",
      attempts: 1,
      result: "Succeeded",
    },
    currentStep: {
      name: "VerifyRollback",
      id: "web-apps-105-verify-rollback-1",
      startedAt: "2025-01-04T08:12:05Z",
      proof: { snapshot: "refit-web-apps-20250104080010" },
    },
    startedAt: "2025-01-04T08:00:05Z",
    phaseSince: "2025-01-04T08:19:40Z",
    finishedAt: "2025-01-04T08:20:00Z",
    startedForUpdate: true,
    lastError: {
      reason: "HealthCheckFailed",
      message:
        "health check site on ct 105 answered 502 after 4 attempts; rolled back to refit-web-apps-20250104080010",
      at: "2025-01-04T08:11:58Z",
      retryable: false,
    },
  },
});

function at(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const key of path) cur = (cur as Record<string | number, unknown>)[key];
  return cur;
}

function setAt(obj: Json, path: Path, value: unknown): Json {
  const parent = at(obj, path.slice(0, -1)) as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return obj;
}

function issuePaths(obj: unknown): Path[] {
  const r = guestUpdate.safeParse(obj);
  return r.success ? [] : r.error.issues.map((i) => i.path as Path);
}

const inputSchema = () =>
  z.toJSONSchema(guestUpdate, { io: "input", reused: "inline", unrepresentable: "throw" });

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
  else if (value !== null && typeof value === "object") {
    for (const [key, sub] of Object.entries(value)) {
      out.add(`${prefix}.${key}`);
      dataPaths(sub, `${prefix}.${key}`, out);
    }
  }
  return out;
}

describe("GuestUpdate: the full example", () => {
  it("parses", () => {
    expect(issuePaths(full())).toEqual([]);
    expect(guestUpdate.parse(full()).status?.snapshot?.name).toBe("refit-web-apps-20250104080010");
  });

  it("sets every spec and status field the schema declares", () => {
    // As in the plan's test: the fixture's preflight checks use a subset, minFreeDisk its percent.
    const declared = [...schemaPaths(inputSchema(), "", new Set())]
      .filter((p) => /^\.(spec|status)/.test(p))
      .filter(
        (p) =>
          !p.startsWith(".spec.policy.preflight.checks[].") && p !== ".spec.policy.preflight.minFreeDisk.gib",
      );
    const used = dataPaths(full(), "", new Set());
    expect(declared.filter((p) => !used.has(p))).toEqual([]);
  });
});

describe("GuestUpdate: defaults", () => {
  it("leaves status absent when the object has none", () => {
    expect(guestUpdate.parse(minimal()).status).toBeUndefined();
  });

  it("fills the status defaults", () => {
    const gu = guestUpdate.parse({ ...minimal(), status: {} });
    expect(gu.status).toEqual({ phase: "Pending", runners: [], healthBaseline: [], healthResults: [] });
  });

  it("fills the defaults of a runner result and a rollback", () => {
    const gu = guestUpdate.parse({
      ...minimal(),
      status: { runners: [{ name: "os", type: "os" }], rollback: {} },
    });
    expect(gu.status?.runners).toEqual([{ name: "os", type: "os", pending: [], applied: false }]);
    expect(gu.status?.rollback).toEqual({ done: false, attempts: 0 });
  });
});

/** [what, path to change, bad value, path of the expected issue (default: the changed path)] */
type BadValue = [string, Path, unknown, Path?];
const SP = ["spec"];
const ST = ["status"];

const badValues: BadValue[] = [
  ["wrong kind", ["kind"], "GuestUpdatePlan"],
  ["missing planRef", [...SP, "planRef"], undefined],
  ["planRef name invalid", [...SP, "planRef", "name"], "Web Apps"],
  ["missing clusterRef", [...SP, "clusterRef"], undefined],
  ["vmid below 100", [...SP, "vmid"], 99],
  ["vmid above the maximum", [...SP, "vmid"], 1_000_000_000],
  ["vmid as a string", [...SP, "vmid"], "105"],
  ["node invalid", [...SP, "node"], "pve_1"],
  ["missing node", [...SP, "node"], undefined],
  ["type vm", [...SP, "type"], "vm"],
  ["cycle with a space", [...SP, "cycle"], "cycle 1"],
  ["cycle too long", [...SP, "cycle"], "c".repeat(64)],
  ["spec unknown field", [...SP, "plan"], "web-apps", SP],
  ["phase Done", [...ST, "phase"], "Done"],
  ["status node invalid", [...ST, "node"], "pve 2"],
  ["snapshot name not Refit's", [...ST, "snapshot", "name"], "autodaily250101020000"],
  ["snapshot name without timestamp", [...ST, "snapshot", "name"], "refit-web-apps"],
  [
    "snapshot name too long",
    [...ST, "snapshot", "name"],
    `refit-${"a".repeat(SNAPSHOT_NAME_MAX - 20)}-20250104080010`,
  ],
  ["snapshot name with a dot", [...ST, "snapshot", "name"], "refit-web.apps-20250104080010"],
  ["snapshot mode none", [...ST, "snapshot", "mode"], "none"],
  ["snapshot createdAt not a timestamp", [...ST, "snapshot", "createdAt"], "2025-01-04 08:02"],
  ["snapshot unknown field", [...ST, "snapshot", "size"], 1, [...ST, "snapshot"]],
  ["runner type rpm", [...ST, "runners", 0, "type"], "rpm"],
  ["runner without name", [...ST, "runners", 0, "name"], undefined],
  ["pending package empty", [...ST, "runners", 0, "pending", 0, "package"], ""],
  [
    "pending unknown field",
    [...ST, "runners", 0, "pending", 0, "arch"],
    "amd64",
    [...ST, "runners", 0, "pending", 0],
  ],
  ["applied not a boolean", [...ST, "runners", 0, "applied"], "yes"],
  ["runner result Partial", [...ST, "runners", 0, "result"], "Partial"],
  ["exit code fractional", [...ST, "runners", 0, "exitCode"], 1.5],
  ["jobId empty", [...ST, "runners", 0, "jobId"], ""],
  ["runner startedAt", [...ST, "runners", 0, "startedAt"], "now"],
  ["runner finishedAt", [...ST, "runners", 0, "finishedAt"], 1736000000],
  ["logTail too long", [...ST, "runners", 0, "logTail"], "x".repeat(LOG_TAIL_MAX + 1)],
  ["health result without healthy", [...ST, "healthResults", 0, "healthy"], undefined],
  ["health result type icmp", [...ST, "healthBaseline", 0, "type"], "icmp"],
  ["health latency negative", [...ST, "healthResults", 0, "latencyMs"], -1],
  ["health attempts fractional", [...ST, "healthBaseline", 0, "attempts"], 0.5],
  ["health result without at", [...ST, "healthResults", 0, "at"], undefined],
  ["rollback done not a boolean", [...ST, "rollback", "done"], "true"],
  ["rollback reason not CamelCase", [...ST, "rollback", "reason"], "health check failed"],
  ["rollback result Partial", [...ST, "rollback", "result"], "Partial"],
  ["rollback attempts negative", [...ST, "rollback", "attempts"], -1],
  ["currentStep without id", [...ST, "currentStep", "id"], undefined],
  ["currentStep startedAt", [...ST, "currentStep", "startedAt"], "later"],
  ["currentStep proof value not a string", [...ST, "currentStep", "proof", "bootId"], 5],
  ["startedAt", [...ST, "startedAt"], "2025-13-01T00:00:00Z"],
  ["phaseSince", [...ST, "phaseSince"], "yesterday"],
  ["lastError without retryable", [...ST, "lastError", "retryable"], undefined],
  ["lastError reason not CamelCase", [...ST, "lastError", "reason"], "timeout"],
  ["status unknown field", [...ST, "progress"], 50, ST],
];

describe("GuestUpdate: constraints", () => {
  it.each(badValues)("rejects %s", (_what, path, value, issuePath) => {
    expect(issuePaths(setAt(full(), path, value))).toContainEqual(issuePath ?? path);
  });

  it("has exactly the phases of the guest update flow", () => {
    expect(guestUpdatePhase.options).toEqual([
      "Pending",
      "Preflight",
      "BackingUp",
      "Baseline",
      "Updating",
      "Restarting",
      "Verifying",
      "Succeeded",
      "RollingBack",
      "VerifyingRollback",
      "RolledBack",
      "Failed",
      "Blocked",
      "Skipped",
    ]);
    for (const phase of guestUpdatePhase.options)
      expect(issuePaths(setAt(full(), [...ST, "phase"], phase))).toEqual([]);
  });

  it("accepts the longest snapshot name Proxmox allows", () => {
    const name = `refit-${"a".repeat(SNAPSHOT_NAME_MAX - 21)}-20250104080010`;
    expect(name).toHaveLength(SNAPSHOT_NAME_MAX);
    expect(issuePaths(setAt(full(), [...ST, "snapshot", "name"], name))).toEqual([]);
  });
});

describe("GuestUpdate: CRD source", () => {
  it("converts to JSON Schema with nothing unrepresentable", () => {
    expect(() => inputSchema()).not.toThrow();
  });

  it("describes every spec and status field it owns", () => {
    // Object refs and the base status fields are described by the shared modules.
    const shared =
      /^\.spec\.(planRef|clusterRef)\.name$|^\.status\.(observedGeneration|conditions|lastHandledRequestAt|observedRevision)(\.|\[|$)/;
    const missing: string[] = [];
    const walk = (schema: unknown, prefix: string) => {
      const s = schema as Json;
      for (const [key, sub] of Object.entries((s.properties as Json | undefined) ?? {})) {
        const path = `${prefix}.${key}`;
        if (!(sub as Json).description && !shared.test(path)) missing.push(path);
        walk(sub, path);
      }
      if (s.items) walk(s.items, `${prefix}[]`);
    };
    const root = inputSchema().properties as Json;
    walk(root.spec, ".spec");
    walk(root.status, ".status");
    expect(missing).toEqual([]);
  });
});
