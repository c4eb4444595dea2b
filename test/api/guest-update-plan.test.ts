import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { guestUpdatePlan, guestUpdatePlanPhase, rollbackTrigger } from "../../src/api/guest-update-plan.js";
import { RUNNER_DEFAULT_TIMEOUT, runner, runnerType, type RunnerType } from "../../src/api/runners.js";

type Json = Record<string, unknown>;
type Path = (string | number)[];

const fixtureText = readFileSync(new URL("./fixtures/guest-update-plan.full.yaml", import.meta.url), "utf8");
const fixture = (): Json => parse(fixtureText) as Json;

const minimal = (): Json => ({
  apiVersion: "refit.dev/v1alpha1",
  kind: "GuestUpdatePlan",
  metadata: { name: "web-apps" },
  spec: { clusterRef: { name: "homelab" }, selector: { names: ["*"] }, runners: [{ type: "os" }] },
});

/** The smallest valid runner of each type. */
const MINIMAL_RUNNER: Record<RunnerType, Json> = {
  os: { type: "os" },
  pip: { type: "pip", venvs: ["/opt/venv"] },
  pipx: { type: "pipx" },
  npm: { type: "npm", projects: ["/srv/app"] },
  yarn: { type: "yarn", projects: ["/srv/app"] },
  pnpm: { type: "pnpm", projects: ["/srv/app"] },
  composer: { type: "composer", projects: ["/srv/app"] },
  gem: { type: "gem", projects: ["/srv/app"] },
  go: { type: "go", modules: ["golang.org/x/tools/gopls"] },
  snap: { type: "snap" },
  flatpak: { type: "flatpak" },
  helm: { type: "helm", releases: [{ name: "app", chart: "repo/app" }] },
  dockerCompose: { type: "dockerCompose", projects: ["/opt/stack"] },
  custom: { type: "custom", steps: [{ name: "go", apply: ["/bin/true"] }] },
};

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

function issues(obj: unknown): z.core.$ZodIssue[] {
  const r = guestUpdatePlan.safeParse(obj);
  return r.success ? [] : r.error.issues;
}

/** Runner `patch` merged over the minimal runner of its type, as the plan's only runner. */
function withRunner(patch: Json & { type: RunnerType }): Json {
  return setAt(minimal(), ["spec", "runners"], [{ ...MINIMAL_RUNNER[patch.type], ...patch }]);
}

/** Every property path a JSON schema declares; array items as `[]`, variants merged. */
function schemaPaths(schema: unknown, prefix: string, out: Set<string>): Set<string> {
  const s = schema as Json;
  for (const [key, sub] of Object.entries((s.properties as Json | undefined) ?? {})) {
    out.add(`${prefix}.${key}`);
    schemaPaths(sub, `${prefix}.${key}`, out);
  }
  if (s.items) schemaPaths(s.items, `${prefix}[]`, out);
  for (const variant of [...((s.anyOf as unknown[]) ?? []), ...((s.oneOf as unknown[]) ?? [])]) {
    schemaPaths(variant, prefix, out);
  }
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

const inputSchema = () =>
  z.toJSONSchema(guestUpdatePlan, { io: "input", reused: "inline", unrepresentable: "throw" });

describe("GuestUpdatePlan: the full example", () => {
  it("parses, and keeps the values it sets", () => {
    const r = guestUpdatePlan.safeParse(fixture());
    expect(r.success ? [] : r.error.issues).toEqual([]);
    const plan = guestUpdatePlan.parse(fixture());
    expect(plan.spec.backup).toEqual({
      mode: "vzdump",
      storage: "pbs-main",
      fallbackStorage: "local",
      retention: { keepLast: 5, maxAge: "30d" },
      includeRam: true,
    });
    expect(plan.spec.runners.map((x) => x.name ?? x.type)).toEqual([
      "system",
      "pip-apps",
      "pipx",
      "npm-site",
      "yarn",
      "pnpm",
      "composer",
      "gem",
      "gem-global",
      "go",
      "snap",
      "flatpak",
      "helm",
      "dockerCompose",
      "app-release",
    ]);
    expect(plan.status?.phase).toBe("Progressing");
  });

  it("sets every field the schema declares (so the example documents them all)", () => {
    // Preflight checks share the health check schema; the spec.healthChecks entries cover its fields.
    // minFreeDisk takes exactly one of gib and percent; the example uses percent.
    const declared = [...schemaPaths(inputSchema(), "", new Set())]
      .filter((p) => p.startsWith(".spec") || p.startsWith(".status"))
      .filter((p) => !p.startsWith(".spec.preflight.checks[].") && p !== ".spec.preflight.minFreeDisk.gib");
    const used = dataPaths(fixture(), "", new Set());
    expect(declared.filter((p) => !used.has(p))).toEqual([]);
  });

  it("uses every runner type", () => {
    const types = new Set((at(fixture(), ["spec", "runners"]) as Json[]).map((r) => r.type));
    expect([...types].sort()).toEqual([...runnerType.options].sort());
  });
});

describe("GuestUpdatePlan: defaults", () => {
  it("fills every default of a minimal plan", () => {
    const plan = guestUpdatePlan.parse(minimal());
    expect(plan.spec).toEqual({
      clusterRef: { name: "homelab" },
      selector: {
        tags: [],
        allTags: [],
        names: ["*"],
        vmids: [],
        pools: [],
        nodes: [],
        types: ["lxc"],
        exclude: { tags: [], allTags: [], names: [], vmids: [], pools: [], nodes: [] },
      },
      runners: [
        {
          type: "os",
          timeout: "30m",
          env: {},
          continueOnError: false,
          manager: "auto",
          upgrade: "full",
          autoremove: false,
          packages: { allow: [], deny: [] },
        },
      ],
      backup: { mode: "snapshot", retention: { keepLast: 3 }, includeRam: false },
      preflight: { minFreeDisk: { gib: 1 }, requireRunning: true, checks: [], skipIfLocked: true },
      healthChecks: [],
      rollback: {
        policy: "Auto",
        triggers: ["HealthCheckFailed", "RunnerFailed", "RestartFailed", "HookFailed", "Timeout"],
        maxAttempts: 1,
        verify: true,
      },
      restart: { policy: "IfRequired", services: [], stopTimeout: "2m" },
      hooks: { preUpdate: [], postUpdate: [], onFailure: [], onRollback: [] },
      concurrency: { maxParallel: 1, jitter: "0s", maxFailures: 0 },
      timeouts: {
        preflight: "5m",
        backup: "30m",
        update: "2h",
        verify: "15m",
        rollback: "30m",
        overall: "4h",
      },
      customCommands: { enabled: false, allowlist: [] },
      windowRefs: [],
      blackoutRefs: [],
      after: [],
      suspend: false,
      notifications: { channelRefs: [], maxWait: "15s" },
    });
    expect(plan.status).toBeUndefined();
  });

  it("gives each runner type its own default timeout", () => {
    for (const type of runnerType.options) {
      const plan = guestUpdatePlan.parse(withRunner({ type }));
      expect([type, plan.spec.runners[0]?.timeout]).toEqual([type, RUNNER_DEFAULT_TIMEOUT[type]]);
    }
  });

  it("fills the defaults of each runner type", () => {
    const common = { env: {}, continueOnError: false };
    const filter = { packages: { allow: [], deny: [] } };
    const expected: Record<RunnerType, Json> = {
      os: { manager: "auto", upgrade: "full", autoremove: false, ...filter },
      pip: {
        venvs: ["/opt/venv"],
        requirements: [],
        python: "python3",
        upgradeStrategy: "only-if-needed",
        ...filter,
      },
      pipx: { includeInjected: true, ...filter },
      npm: { scope: "local", projects: ["/srv/app"], production: true, strategy: "semver", ...filter },
      yarn: { scope: "local", projects: ["/srv/app"], production: true, strategy: "semver", ...filter },
      pnpm: { scope: "local", projects: ["/srv/app"], production: true, strategy: "semver", ...filter },
      composer: { projects: ["/srv/app"], noDev: true, ...filter },
      gem: { scope: "local", projects: ["/srv/app"], conservative: true, ...filter },
      go: { modules: ["golang.org/x/tools/gopls"] },
      snap: { ...filter },
      flatpak: { installation: "system", ...filter },
      helm: {
        releases: [{ name: "app", namespace: "default", chart: "repo/app" }],
        repoUpdate: true,
        reuseValues: true,
        atomic: true,
      },
      dockerCompose: { projects: ["/opt/stack"], pull: true, removeOrphans: false, prune: false },
      custom: { steps: [{ name: "go", apply: ["/bin/true"], expectedExitCodes: [0] }] },
    };
    for (const type of runnerType.options) {
      const plan = guestUpdatePlan.parse(withRunner({ type }));
      expect(plan.spec.runners[0]).toEqual({
        type,
        timeout: RUNNER_DEFAULT_TIMEOUT[type],
        ...common,
        ...expected[type],
      });
    }
  });

  it("fills the defaults of health checks and hooks", () => {
    const obj = minimal();
    setAt(
      obj,
      ["spec", "healthChecks"],
      [
        { type: "http", name: "web", port: 80 },
        { type: "tcp", name: "db", port: 5432 },
        { type: "command", name: "cli", argv: ["app", "status"] },
      ],
    );
    setAt(obj, ["spec", "hooks"], { preUpdate: [{ name: "drain", argv: ["drain"] }] });
    const plan = guestUpdatePlan.parse(obj);
    const probe = {
      warmUp: "0s",
      interval: "10s",
      timeout: "5s",
      retries: 3,
      backoff: { strategy: "exponential", factor: 2, max: "1m" },
      compareWithBaseline: true,
    };
    expect(plan.spec.healthChecks).toEqual([
      {
        type: "http",
        name: "web",
        port: 80,
        method: "GET",
        headers: {},
        expectedStatus: [200],
        tlsVerify: true,
        from: "controller",
        ...probe,
      },
      { type: "tcp", name: "db", port: 5432, from: "controller", ...probe },
      { type: "command", name: "cli", argv: ["app", "status"], expectedExitCode: 0, ...probe },
    ]);
    expect(plan.spec.hooks.preUpdate).toEqual([
      { name: "drain", argv: ["drain"], where: "container", timeout: "5m", continueOnError: false },
    ]);
  });

  it("fills the status defaults", () => {
    const plan = guestUpdatePlan.parse({ ...minimal(), status: {} });
    expect(plan.status).toEqual({
      phase: "Idle",
      counts: {
        targets: 0,
        pending: 0,
        inProgress: 0,
        succeeded: 0,
        failed: 0,
        rolledBack: 0,
        blocked: 0,
        skipped: 0,
        notStarted: 0,
        conflicts: 0,
      },
    });
  });
});

/** [what, base, path to change, bad value, path of the expected issue (default: the changed path)] */
type BadValue = [string, () => Json, Path, unknown, Path?];

const S = ["spec"];
const R0 = [...S, "runners", 0];
const HC = (i: number) => [...S, "healthChecks", i];

const badValues: BadValue[] = [
  ["wrong apiVersion", minimal, ["apiVersion"], "refit.dev/v1"],
  ["wrong kind", minimal, ["kind"], "GuestUpdate"],
  ["metadata name not DNS-1123", minimal, ["metadata", "name"], "Web_Apps"],
  ["missing spec", minimal, S, undefined],
  ["missing clusterRef", minimal, [...S, "clusterRef"], undefined],
  ["clusterRef name not DNS-1123", minimal, [...S, "clusterRef", "name"], "Home Lab"],
  ["clusterRef wrong type", minimal, [...S, "clusterRef"], "homelab"],
  // selector
  ["missing selector", minimal, [...S, "selector"], undefined],
  ["tag with a space", fixture, [...S, "selector", "tags", 0], "a b"],
  ["tag starting with -", fixture, [...S, "selector", "allTags", 0], "-prod"],
  ["too many tags", fixture, [...S, "selector", "tags"], Array.from({ length: 257 }, (_, i) => `t${i}`)],
  ["empty name glob", fixture, [...S, "selector", "names", 0], ""],
  ["vmid below 100", fixture, [...S, "selector", "vmids", 0], 99],
  ["vmid not an integer", fixture, [...S, "selector", "vmids", 0], 100.5],
  ["vmid range reversed", fixture, [...S, "selector", "vmids", 1], "300-200"],
  ["vmid range garbage", fixture, [...S, "selector", "vmids", 1], "100..200"],
  ["pool with a space", fixture, [...S, "selector", "pools", 0], "my pool"],
  ["empty node glob", fixture, [...S, "selector", "nodes", 0], ""],
  ["qemu guests", fixture, [...S, "selector", "types", 0], "qemu"],
  ["no guest types", fixture, [...S, "selector", "types"], []],
  ["selector unknown field", fixture, [...S, "selector", "labels"], ["x"], [...S, "selector"]],
  [
    "exclude unknown field",
    fixture,
    [...S, "selector", "exclude", "types"],
    ["lxc"],
    [...S, "selector", "exclude"],
  ],
  ["exclude bad vmid", fixture, [...S, "selector", "exclude", "vmids", 0], 5],
  ["empty selector", minimal, [...S, "selector"], {}],
  ["selector with empty lists only", minimal, [...S, "selector"], { tags: [], names: [] }],
  [
    "selector with exclusions only",
    minimal,
    [...S, "selector"],
    { exclude: { names: ["*"] } },
    [...S, "selector"],
  ],
  // runners: list and common fields
  ["no runners", minimal, [...S, "runners"], []],
  ["missing runners", minimal, [...S, "runners"], undefined],
  [
    "too many runners",
    minimal,
    [...S, "runners"],
    Array.from({ length: 33 }, (_, i) => ({ type: "os", name: `r${i}` })),
  ],
  ["unknown runner type", minimal, [...R0, "type"], "rpm"],
  ["runner name with capitals", minimal, [...R0, "name"], "System"],
  ["runner name too long", minimal, [...R0, "name"], "a".repeat(64)],
  ["runner timeout not a duration", minimal, [...R0, "timeout"], "5 minutes"],
  ["runner user with a space", minimal, [...R0, "user"], "app user"],
  ["env name starting with a digit", minimal, [...R0, "env"], { "1PATH": "x" }, [...R0, "env", "1PATH"]],
  ["env value not a string", minimal, [...R0, "env"], { PORT: 80 }, [...R0, "env", "PORT"]],
  ["continueOnError not a boolean", minimal, [...R0, "continueOnError"], "no"],
  ["runner unknown field", minimal, [...R0, "command"], ["x"], R0],
  ["package filter unknown field", fixture, [...R0, "packages", "only"], ["x"], [...R0, "packages"]],
  ["empty package glob", fixture, [...R0, "packages", "deny", 0], ""],
  // os
  ["os manager yum", minimal, [...R0, "manager"], "yum"],
  ["os upgrade dist", minimal, [...R0, "upgrade"], "dist"],
  ["os autoremove not a boolean", minimal, [...R0, "autoremove"], "yes"],
  // pip
  ["pip venv relative", () => withRunner({ type: "pip" }), [...R0, "venvs", 0], "venv"],
  [
    "pip requirements relative",
    () => withRunner({ type: "pip" }),
    [...R0, "requirements"],
    ["req.txt"],
    [...R0, "requirements", 0],
  ],
  ["pip python with a space", () => withRunner({ type: "pip" }), [...R0, "python"], "python 3"],
  ["pip upgrade strategy", () => withRunner({ type: "pip" }), [...R0, "upgradeStrategy"], "lazy"],
  ["pip with nothing to upgrade", () => withRunner({ type: "pip" }), [...R0, "venvs"], [], [...R0, "venvs"]],
  // pipx
  ["pipx includeInjected not a boolean", () => withRunner({ type: "pipx" }), [...R0, "includeInjected"], 1],
  // npm, yarn, pnpm
  ...(["npm", "yarn", "pnpm"] as const).flatMap((type): BadValue[] => [
    [`${type} local scope without projects`, () => withRunner({ type }), [...R0, "projects"], []],
    [
      `${type} global scope with projects`,
      () => withRunner({ type }),
      [...R0, "scope"],
      "global",
      [...R0, "projects"],
    ],
    [`${type} scope user`, () => withRunner({ type }), [...R0, "scope"], "user"],
    [`${type} project relative`, () => withRunner({ type }), [...R0, "projects", 0], "srv/app"],
    [`${type} production not a boolean`, () => withRunner({ type }), [...R0, "production"], "true"],
    [`${type} strategy newest`, () => withRunner({ type }), [...R0, "strategy"], "newest"],
  ]),
  // composer
  ["composer without projects", () => withRunner({ type: "composer" }), [...R0, "projects"], []],
  ["composer noDev not a boolean", () => withRunner({ type: "composer" }), [...R0, "noDev"], null],
  // gem
  ["gem local scope without projects", () => withRunner({ type: "gem" }), [...R0, "projects"], []],
  [
    "gem global scope with projects",
    () => withRunner({ type: "gem" }),
    [...R0, "scope"],
    "global",
    [...R0, "projects"],
  ],
  ["gem scope bundler", () => withRunner({ type: "gem" }), [...R0, "scope"], "bundler"],
  ["gem conservative not a boolean", () => withRunner({ type: "gem" }), [...R0, "conservative"], 0],
  // go
  ["go without modules", () => withRunner({ type: "go" }), [...R0, "modules"], []],
  [
    "go package with a version",
    () => withRunner({ type: "go" }),
    [...R0, "modules", 0],
    "golang.org/x/tools/gopls@v0.1",
  ],
  ["go gobin relative", () => withRunner({ type: "go" }), [...R0, "gobin"], "bin"],
  ["go modules as a package filter", () => withRunner({ type: "go" }), [...R0, "modules"], { allow: [] }],
  ["go with a package filter", () => withRunner({ type: "go" }), [...R0, "packages"], { allow: [] }, R0],
  // snap, flatpak
  ["snap unknown field", () => withRunner({ type: "snap" }), [...R0, "channel"], "edge", R0],
  ["flatpak installation both", () => withRunner({ type: "flatpak" }), [...R0, "installation"], "both"],
  ["flatpak with a scope", () => withRunner({ type: "flatpak" }), [...R0, "scope"], "user", R0],
  // helm
  ["helm without releases", () => withRunner({ type: "helm" }), [...R0, "releases"], []],
  [
    "helm release name with capitals",
    () => withRunner({ type: "helm" }),
    [...R0, "releases", 0, "name"],
    "App",
  ],
  [
    "helm release name too long",
    () => withRunner({ type: "helm" }),
    [...R0, "releases", 0, "name"],
    "a".repeat(54),
  ],
  [
    "helm namespace invalid",
    () => withRunner({ type: "helm" }),
    [...R0, "releases", 0, "namespace"],
    "kube_system",
  ],
  [
    "helm release without chart",
    () => withRunner({ type: "helm" }),
    [...R0, "releases", 0, "chart"],
    undefined,
  ],
  [
    "helm chart with a space",
    () => withRunner({ type: "helm" }),
    [...R0, "releases", 0, "chart"],
    "repo/ app",
  ],
  [
    "helm version with a space",
    () => withRunner({ type: "helm" }),
    [...R0, "releases", 0, "version"],
    ">= 1.0",
  ],
  ["helm kubeconfig relative", () => withRunner({ type: "helm" }), [...R0, "kubeconfig"], "kube/config"],
  ["helm atomic not a boolean", () => withRunner({ type: "helm" }), [...R0, "atomic"], "yes"],
  // dockerCompose
  ["compose without projects", () => withRunner({ type: "dockerCompose" }), [...R0, "projects"], []],
  ["compose prune not a boolean", () => withRunner({ type: "dockerCompose" }), [...R0, "prune"], "always"],
  ["compose pull not a boolean", () => withRunner({ type: "dockerCompose" }), [...R0, "pull"], 1],
  // custom
  ["custom without steps", () => withRunner({ type: "custom" }), [...R0, "steps"], []],
  [
    "custom step without apply",
    () => withRunner({ type: "custom" }),
    [...R0, "steps", 0, "apply"],
    undefined,
  ],
  ["custom step apply empty", () => withRunner({ type: "custom" }), [...R0, "steps", 0, "apply"], []],
  [
    "custom step apply a shell string",
    () => withRunner({ type: "custom" }),
    [...R0, "steps", 0, "apply"],
    "apt-get update",
  ],
  [
    "custom step checkPending empty",
    () => withRunner({ type: "custom" }),
    [...R0, "steps", 0, "checkPending"],
    [],
  ],
  [
    "custom step exit code 256",
    () => withRunner({ type: "custom" }),
    [...R0, "steps", 0, "expectedExitCodes"],
    [256],
    [...R0, "steps", 0, "expectedExitCodes", 0],
  ],
  [
    "custom step no exit codes",
    () => withRunner({ type: "custom" }),
    [...R0, "steps", 0, "expectedExitCodes"],
    [],
  ],
  ["custom step without name", () => withRunner({ type: "custom" }), [...R0, "steps", 0, "name"], undefined],
  [
    "custom step unknown field",
    () => withRunner({ type: "custom" }),
    [...R0, "steps", 0, "shell"],
    true,
    [...R0, "steps", 0],
  ],
  [
    "custom step names repeated",
    () => withRunner({ type: "custom" }),
    [...R0, "steps"],
    [
      { name: "a", apply: ["x"] },
      { name: "a", apply: ["y"] },
    ],
  ],
  // backup
  ["backup mode copy", fixture, [...S, "backup", "mode"], "copy"],
  ["vzdump without storage", fixture, [...S, "backup", "storage"], undefined],
  ["storage without vzdump", fixture, [...S, "backup", "mode"], "snapshot", [...S, "backup", "storage"]],
  ["storage id starting with a digit", fixture, [...S, "backup", "storage"], "1pbs"],
  ["keepLast 0", fixture, [...S, "backup", "retention", "keepLast"], 0],
  ["keepLast 101", fixture, [...S, "backup", "retention", "keepLast"], 101],
  ["keepLast fractional", fixture, [...S, "backup", "retention", "keepLast"], 2.5],
  ["maxAge not a duration", fixture, [...S, "backup", "retention", "maxAge"], "forever"],
  [
    "retention unknown field",
    fixture,
    [...S, "backup", "retention", "keepDaily"],
    7,
    [...S, "backup", "retention"],
  ],
  ["includeRam not a boolean", fixture, [...S, "backup", "includeRam"], "no"],
  [
    "backup none with rollback Auto",
    minimal,
    [...S, "backup"],
    { mode: "none" },
    [...S, "rollback", "policy"],
  ],
  [
    "backup none with rollback Manual",
    fixture,
    [...S, "backup"],
    { mode: "none" },
    [...S, "rollback", "policy"],
  ],
  // preflight
  ["minFreeDisk empty", fixture, [...S, "preflight", "minFreeDisk"], {}],
  ["minFreeDisk both units", fixture, [...S, "preflight", "minFreeDisk"], { gib: 2, percent: 10 }],
  ["minFreeDisk percent above 100", fixture, [...S, "preflight", "minFreeDisk", "percent"], 101],
  [
    "minFreeDisk negative GiB",
    fixture,
    [...S, "preflight", "minFreeDisk"],
    { gib: -1 },
    [...S, "preflight", "minFreeDisk", "gib"],
  ],
  ["requireRunning not a boolean", fixture, [...S, "preflight", "requireRunning"], "yes"],
  ["maxLoad negative", fixture, [...S, "preflight", "maxLoad"], -1],
  ["skipIfLocked not a boolean", fixture, [...S, "preflight", "skipIfLocked"], 0],
  ["preflight unknown field", fixture, [...S, "preflight", "minFreeInodes"], 5, [...S, "preflight"]],
  [
    "preflight check names repeated",
    fixture,
    [...S, "preflight", "checks"],
    [
      { type: "tcp", name: "a", port: 1 },
      { type: "tcp", name: "a", port: 2 },
    ],
  ],
  // health checks: common fields
  ["health check type icmp", fixture, [...HC(0), "type"], "icmp"],
  ["health check without name", fixture, [...HC(0), "name"], undefined],
  ["health check warmUp", fixture, [...HC(0), "warmUp"], "soon"],
  ["health check interval", fixture, [...HC(0), "interval"], "5"],
  ["health check timeout", fixture, [...HC(0), "timeout"], "2 s"],
  ["health check retries negative", fixture, [...HC(0), "retries"], -1],
  ["health check retries above 100", fixture, [...HC(0), "retries"], 101],
  ["health check retries fractional", fixture, [...HC(0), "retries"], 1.5],
  ["backoff strategy linear", fixture, [...HC(0), "backoff", "strategy"], "linear"],
  ["backoff factor below 1", fixture, [...HC(0), "backoff", "factor"], 0.5],
  ["backoff factor above 10", fixture, [...HC(0), "backoff", "factor"], 11],
  ["backoff max", fixture, [...HC(0), "backoff", "max"], "1 minute"],
  ["latencySLO", fixture, [...HC(0), "latencySLO"], "fast"],
  ["compareWithBaseline not a boolean", fixture, [...HC(0), "compareWithBaseline"], "true"],
  ["health check unknown field", fixture, [...HC(2), "url"], "http://x", HC(2)],
  ["health check names repeated", fixture, [...HC(1), "name"], "site", [...S, "healthChecks"]],
  [
    "too many health checks",
    minimal,
    [...S, "healthChecks"],
    Array.from({ length: 33 }, (_, i) => ({ type: "tcp", name: `c${i}`, port: 80 })),
  ],
  // http
  ["http with url and port", fixture, [...HC(1), "port"], 8443, HC(1)],
  ["http without url or port", fixture, [...HC(1), "url"], undefined, HC(1)],
  ["http path with url", fixture, [...HC(1), "path"], "/x"],
  ["http scheme with url", fixture, [...HC(1), "scheme"], "https"],
  ["http url ftp", fixture, [...HC(1), "url"], "ftp://api.example/status"],
  ["http url relative", fixture, [...HC(1), "url"], "/status"],
  ["http port 0", fixture, [...HC(0), "port"], 0],
  ["http port 65536", fixture, [...HC(0), "port"], 65536],
  ["http path without slash", fixture, [...HC(0), "path"], "healthz"],
  ["http scheme ftp", fixture, [...HC(0), "scheme"], "ftp"],
  ["http method FETCH", fixture, [...HC(0), "method"], "FETCH"],
  [
    "http header name with a space",
    fixture,
    [...HC(0), "headers"],
    { "X Bad": "1" },
    [...HC(0), "headers", "X Bad"],
  ],
  ["http status 99", fixture, [...HC(0), "expectedStatus", 0], 99],
  ["http status 600", fixture, [...HC(0), "expectedStatus", 1], 600],
  ["http no status", fixture, [...HC(0), "expectedStatus"], []],
  ["http bodyContains empty", fixture, [...HC(0), "bodyContains"], ""],
  ["http bodyMatches invalid", fixture, [...HC(0), "bodyMatches"], "(unclosed"],
  ["http tlsVerify not a boolean", fixture, [...HC(0), "tlsVerify"], "false"],
  // tcp
  ["tcp without port", fixture, [...HC(2), "port"], undefined],
  ["tcp host with a space", fixture, [...HC(2), "host"], "db host"],
  // command
  ["command argv empty", fixture, [...HC(3), "argv"], []],
  ["command exit code 256", fixture, [...HC(3), "expectedExitCode"], 256],
  ["command outputMatches invalid", fixture, [...HC(3), "outputMatches"], "[a-"],
  // rollback
  ["rollback policy Always", fixture, [...S, "rollback", "policy"], "Always"],
  ["rollback trigger unknown", fixture, [...S, "rollback", "triggers", 0], "Oops"],
  ["rollback without triggers", fixture, [...S, "rollback", "triggers"], []],
  ["rollback written as on", fixture, [...S, "rollback", "on"], ["RunnerFailed"], [...S, "rollback"]],
  ["rollback maxAttempts 0", fixture, [...S, "rollback", "maxAttempts"], 0],
  ["rollback maxAttempts 6", fixture, [...S, "rollback", "maxAttempts"], 6],
  ["rollback verify not a boolean", fixture, [...S, "rollback", "verify"], "yes"],
  // restart
  ["restart policy Reboot", fixture, [...S, "restart", "policy"], "Reboot"],
  ["restart Services without services", fixture, [...S, "restart", "services"], []],
  ["restart unit with a space", fixture, [...S, "restart", "services", 0], "nginx service"],
  ["restart stopTimeout", fixture, [...S, "restart", "stopTimeout"], "2"],
  // hooks
  ["hook without name", fixture, [...S, "hooks", "preUpdate", 0, "name"], undefined],
  ["hook argv empty", fixture, [...S, "hooks", "preUpdate", 0, "argv"], []],
  ["hook where host", fixture, [...S, "hooks", "preUpdate", 0, "where"], "host"],
  ["hook timeout", fixture, [...S, "hooks", "preUpdate", 0, "timeout"], "1 minute"],
  [
    "hook continueOnError not a boolean",
    fixture,
    [...S, "hooks", "postUpdate", 0, "continueOnError"],
    "true",
  ],
  [
    "hook names repeated",
    fixture,
    [...S, "hooks", "onFailure"],
    [
      { name: "page", argv: ["a"] },
      { name: "page", argv: ["b"] },
    ],
  ],
  ["unknown hook list", fixture, [...S, "hooks", "preBackup"], [], [...S, "hooks"]],
  [
    "too many hooks",
    fixture,
    [...S, "hooks", "onRollback"],
    Array.from({ length: 17 }, (_, i) => ({ name: `h${i}`, argv: ["x"] })),
  ],
  // concurrency
  ["maxParallel 0", fixture, [...S, "concurrency", "maxParallel"], 0],
  ["maxParallelPerNode 0", fixture, [...S, "concurrency", "maxParallelPerNode"], 0],
  ["maxParallelPerNode above maxParallel", fixture, [...S, "concurrency", "maxParallelPerNode"], 5],
  [
    "maxParallelPerNode above the default maxParallel",
    minimal,
    [...S, "concurrency"],
    { maxParallelPerNode: 2 },
    [...S, "concurrency", "maxParallelPerNode"],
  ],
  ["jitter", fixture, [...S, "concurrency", "jitter"], "random"],
  ["maxFailures negative", fixture, [...S, "concurrency", "maxFailures"], -1],
  ["concurrency unknown field", fixture, [...S, "concurrency", "perCluster"], 1, [...S, "concurrency"]],
  // timeouts
  ...(["preflight", "backup", "update", "verify", "rollback", "overall"] as const).map((phase): BadValue => [
    `timeouts.${phase}`,
    fixture,
    [...S, "timeouts", phase],
    "1 hour",
  ]),
  ["timeouts unknown field", fixture, [...S, "timeouts", "restart"], "1m", [...S, "timeouts"]],
  // scheduling
  ["windowRef name invalid", fixture, [...S, "windowRefs", 0, "name"], "Weekend"],
  ["blackoutRef not an object", fixture, [...S, "blackoutRefs", 0], "backup-window"],
  ["mutex invalid", fixture, [...S, "mutex"], "Infra Lock"],
  ["after kind unknown", fixture, [...S, "after", 0, "kind"], "ProxmoxCluster"],
  ["suspend not a boolean", fixture, [...S, "suspend"], "false"],
  ["notification severity", fixture, [...S, "notifications", "minSeverity"], "fatal"],
  ["notification event", fixture, [...S, "notifications", "events", 0], "Nope"],
  ["spec unknown field", fixture, [...S, "dryRun"], true, S],
  // status
  ["status phase Running", fixture, ["status", "phase"], "Running"],
  ["status count negative", fixture, ["status", "counts", "targets"], -1],
  ["status count fractional", fixture, ["status", "counts", "failed"], 0.5],
  ["status counts unknown field", fixture, ["status", "counts", "ignored"], 1, ["status", "counts"]],
  ["status currentCycle invalid", fixture, ["status", "currentCycle"], "cycle 1"],
  ["status lastCycle startedAt missing", fixture, ["status", "lastCycle", "startedAt"], undefined],
  [
    "status lastCycle finishedAt not a timestamp",
    fixture,
    ["status", "lastCycle", "finishedAt"],
    "yesterday",
  ],
  ["status lastCycle reportPath empty", fixture, ["status", "lastCycle", "reportPath"], ""],
  [
    "status nextWindow opensAt not a timestamp",
    fixture,
    ["status", "nextWindow", "opensAt"],
    "2025-01-11 02:00",
  ],
  ["status condition reason", fixture, ["status", "conditions", 0, "reason"], "not camel"],
  ["status unknown field", fixture, ["status", "message"], "x", ["status"]],
];

describe("GuestUpdatePlan: constraints", () => {
  it.each(badValues)("rejects %s", (_what, base, path, value, issuePath) => {
    const obj = setAt(base(), path, value);
    expect(issues(obj).map((i) => i.path)).toContainEqual(issuePath ?? path);
  });

  it("reports an unknown field by name", () => {
    const found = issues(setAt(fixture(), ["spec", "backup", "keep"], 3));
    expect(found).toEqual([
      expect.objectContaining({ code: "unrecognized_keys", keys: ["keep"], path: ["spec", "backup"] }),
    ]);
  });

  it("requires distinct runner names, a runner's type standing in for a missing name", () => {
    const runners = (rs: Json[]) => issues(setAt(minimal(), ["spec", "runners"], rs));
    const dup = [["spec", "runners"]];
    expect(runners([{ type: "os" }, { type: "os" }]).map((i) => i.path)).toEqual(dup);
    expect(runners([{ type: "os" }, { type: "pip", name: "os", venvs: ["/v"] }]).map((i) => i.path)).toEqual(
      dup,
    );
    expect(
      runners([
        { type: "os", name: "a" },
        { type: "snap", name: "a" },
      ]).map((i) => i.path),
    ).toEqual(dup);
    expect(runners([{ type: "os" }, { type: "os", name: "os-again" }])).toEqual([]);
  });

  it("accepts what the rules allow", () => {
    const ok = (mutate: (o: Json) => void) => {
      const o = minimal();
      mutate(o);
      return issues(o);
    };
    expect(
      ok(
        (o) =>
          setAt(o, [...S, "backup"], { mode: "none" }) && setAt(o, [...S, "rollback"], { policy: "Never" }),
      ),
    ).toEqual([]);
    expect(ok((o) => setAt(o, [...S, "selector"], { vmids: ["100-199"] }))).toEqual([]);
    expect(ok((o) => setAt(o, [...S, "selector"], { nodes: ["pve1"] }))).toEqual([]);
    expect(ok((o) => setAt(o, [...S, "runners"], [{ type: "pip", requirements: ["/r.txt"] }]))).toEqual([]);
    expect(ok((o) => setAt(o, [...S, "runners"], [{ type: "npm", scope: "global" }]))).toEqual([]);
    expect(
      ok((o) => setAt(o, [...S, "restart"], { policy: "Services", services: ["nginx.service"] })),
    ).toEqual([]);
    expect(ok((o) => setAt(o, [...S, "concurrency"], { maxParallel: 3, maxParallelPerNode: 3 }))).toEqual([]);
  });

  it("knows exactly the documented plan phases and rollback triggers", () => {
    expect(guestUpdatePlanPhase.options).toEqual([
      "Idle",
      "Waiting",
      "OutsideWindow",
      "Suspended",
      "Progressing",
      "Succeeded",
      "Stalled",
    ]);
    expect(rollbackTrigger.options).toEqual([
      "HealthCheckFailed",
      "RunnerFailed",
      "RestartFailed",
      "HookFailed",
      "Timeout",
    ]);
  });

  it("gives a field shared by several runner or check types one shape, so merging them into one CRD object loses nothing", () => {
    // The CRD merges the variants of a list into one object schema, keeping the first variant's definition
    // of each field, description included. Only the runner timeout's default differs by type.
    const strip = (s: Json, name: string): Json => {
      if (name !== "timeout") return s;
      const { default: _def, ...rest } = s;
      return rest;
    };
    const spec = (inputSchema().properties as Json).spec as Json;
    for (const list of ["runners", "healthChecks"]) {
      const items = ((spec.properties as Json)[list] as Json).items as Json;
      const seen = new Map<string, { variant: string; shape: Json }>();
      const conflicts: string[] = [];
      for (const v of (items.oneOf ?? items.anyOf) as Json[]) {
        const props = v.properties as Record<string, Json>;
        const variant = String(props.type?.const);
        for (const [name, schema] of Object.entries(props)) {
          if (name === "type") continue;
          const before = seen.get(name);
          if (!before) seen.set(name, { variant, shape: strip(schema, name) });
          else if (JSON.stringify(before.shape) !== JSON.stringify(strip(schema, name))) {
            conflicts.push(`${list}: ${name} differs between ${before.variant} and ${variant}`);
          }
        }
      }
      expect(conflicts).toEqual([]);
    }
  });

  it("has one runner schema per runner type", () => {
    expect(runner.options.map((o) => o.shape.type.value)).toEqual(runnerType.options);
  });
});

describe("GuestUpdatePlan: CRD source", () => {
  it("converts to JSON Schema with nothing unrepresentable", () => {
    expect(() => inputSchema()).not.toThrow();
  });

  it("carries each cross-field rule as a CEL validation on the object it constrains", () => {
    const spec = (inputSchema().properties as Json).spec as Json;
    const prop = (s: Json, ...keys: string[]) =>
      keys.reduce((cur, k) => (cur.properties as Json)[k] as Json, s);
    const rules = (s: Json) =>
      (s["x-kubernetes-validations"] as { rule: string; fieldPath?: string }[]).map((v) => v.fieldPath ?? "");
    expect(rules(spec)).toEqual([".rollback.policy"]);
    expect(rules(prop(spec, "selector"))).toEqual([""]);
    expect(rules(prop(spec, "backup"))).toEqual([".storage", ".storage", ".fallbackStorage"]);
    expect(rules(prop(spec, "restart"))).toEqual([".services"]);
    expect(rules(prop(spec, "concurrency"))).toEqual([".maxParallelPerNode"]);
    expect(rules(prop(spec, "preflight", "minFreeDisk"))).toEqual([""]);
    expect(rules(prop(spec, "runners"))).toEqual([""]);
    expect(rules(prop(spec, "healthChecks"))).toEqual([""]);
    expect(rules(prop(spec, "hooks", "preUpdate"))).toEqual([""]);
  });

  it("describes every spec and status field it owns", () => {
    // Fields from shared modules (object refs, plan refs, notifications, base status) are described there.
    const shared = [
      /\.clusterRef\.name$/,
      /Refs\[\]\.name$/,
      /^\.spec\.after\[\]\./,
      /^\.spec\.notifications$/,
      /^\.spec\.concurrency\.maxParallel$/,
    ];
    const sharedStatus = ["observedGeneration", "conditions", "lastHandledRequestAt", "observedRevision"];
    const missing: string[] = [];
    const walk = (schema: unknown, prefix: string) => {
      const s = schema as Json;
      for (const [key, sub] of Object.entries((s.properties as Json | undefined) ?? {})) {
        const path = `${prefix}.${key}`;
        if (prefix === ".status" && sharedStatus.includes(key)) continue;
        if (key !== "type" && !(sub as Json).description && !shared.some((re) => re.test(path)))
          missing.push(path);
        walk(sub, path);
      }
      if (s.items) walk(s.items, `${prefix}[]`);
      for (const v of [...((s.anyOf as unknown[]) ?? []), ...((s.oneOf as unknown[]) ?? [])]) walk(v, prefix);
    };
    const root = inputSchema().properties as Json;
    walk(root.spec, ".spec");
    walk(root.status, ".status");
    expect([...new Set(missing)]).toEqual([]);
  });
});
