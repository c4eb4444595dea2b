import { z } from "zod";
import { withRules } from "./cel.js";
import { stepName, withUniqueNames } from "./hooks.js";
import { argv, duration, glob } from "./primitives.js";

/** Every runner type, in the order the documentation lists them. */
export const runnerType = z.enum([
  "os",
  "pip",
  "pipx",
  "npm",
  "yarn",
  "pnpm",
  "composer",
  "gem",
  "go",
  "snap",
  "flatpak",
  "helm",
  "dockerCompose",
  "custom",
]);
export type RunnerType = z.infer<typeof runnerType>;

/** How long a runner may take when the plan does not say, by type. */
export const RUNNER_DEFAULT_TIMEOUT: Record<RunnerType, string> = {
  os: "30m",
  pip: "15m",
  pipx: "15m",
  npm: "15m",
  yarn: "15m",
  pnpm: "15m",
  composer: "15m",
  gem: "15m",
  go: "20m",
  snap: "15m",
  flatpak: "20m",
  helm: "15m",
  dockerCompose: "30m",
  custom: "15m",
};

const TIMEOUT_DESCRIPTION =
  "The runner is stopped and counts as failed after this long. Default by type: " +
  Object.entries(RUNNER_DEFAULT_TIMEOUT)
    .map(([t, d]) => `${t} ${d}`)
    .join(", ");

/** An absolute path inside the container. */
export const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^\/[^\n\r]*$/, "must be an absolute path (starting with '/')");

const LIST_MAX = 64;
const pathList = () => z.array(absolutePath).max(LIST_MAX);

export const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, '_')");

/** A POSIX user name or a numeric uid inside the container. */
export const runAsUser = z
  .string()
  .min(1)
  .max(32)
  .regex(/^([a-z_][a-z0-9_-]*[$]?|[0-9]+)$/, "must be a user name or a numeric uid");

/** Names or globs over package names that a runner may (allow) or must not (deny) upgrade. */
export const packageFilter = z
  .strictObject({
    allow: z
      .array(glob)
      .max(LIST_MAX)
      .default([])
      .describe("When non-empty, only packages matching one of these names or globs are upgraded"),
    deny: z
      .array(glob)
      .max(LIST_MAX)
      .default([])
      .describe("Packages matching one of these names or globs are never upgraded (held back)"),
  })
  .describe("Which packages may be upgraded; deny wins over allow");
export type PackageFilter = z.infer<typeof packageFilter>;

/**
 * Fields every runner has. `timeout` defaults per type (RUNNER_DEFAULT_TIMEOUT).
 *
 * The CRD merges all runner types into one object schema, so a field name shared by several types
 * must mean the same shape everywhere (hence go's `modules`, flatpak's `installation`).
 */
function commonShape<T extends RunnerType>(type: T) {
  return {
    type: z.literal(type),
    name: stepName
      .optional()
      .describe("Names the runner in status and logs; default the type. Unique within the plan"),
    timeout: duration.default(RUNNER_DEFAULT_TIMEOUT[type]).describe(TIMEOUT_DESCRIPTION),
    user: runAsUser
      .optional()
      .describe("User the runner's commands run as inside the container; default root"),
    env: z
      .record(envVarName, z.string().max(4096))
      .default({})
      .describe(
        "Environment for the runner's commands. Values are logged and stored in plain text: never put " +
          "secrets here (a name such as *_TOKEN, *_PASSWORD or *_KEY is a warning sign)",
      ),
    continueOnError: z
      .boolean()
      .default(false)
      .describe(
        "When true a failing runner is recorded and the next one runs; when false it fails the update",
      ),
  };
}

export const osPackageManager = z.enum(["auto", "apt", "dnf", "apk", "pacman", "zypper"]);
export type OsPackageManager = z.infer<typeof osPackageManager>;

export const osRunner = z.strictObject({
  ...commonShape("os"),
  manager: osPackageManager
    .default("auto")
    .describe("Package manager; auto detects it from the container's distribution"),
  upgrade: z
    .enum(["full", "safe"])
    .default("full")
    .describe(
      "full: may install or remove packages to complete the upgrade (apt full-upgrade, dnf upgrade, " +
        "zypper dup); safe: only upgrades installed packages (apt upgrade, zypper update)",
    ),
  autoremove: z.boolean().default(false).describe("Remove packages no longer needed after the upgrade"),
  packages: packageFilter.prefault({}),
});

export const pipRunner = withRules(
  z.strictObject({
    ...commonShape("pip"),
    venvs: pathList()
      .default([])
      .describe("Virtual environments whose installed packages are upgraded (with <venv>/bin/python)"),
    requirements: pathList().default([]).describe("Requirements files installed with --upgrade by `python`"),
    python: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9_./+-]+$/, "must be a command name or path")
      .default("python3")
      .describe("Interpreter used for requirements files"),
    upgradeStrategy: z
      .enum(["only-if-needed", "eager"])
      .default("only-if-needed")
      .describe(
        "pip --upgrade-strategy: eager also upgrades dependencies that already satisfy their requirement",
      ),
    packages: packageFilter.prefault({}),
  }),
  [
    {
      rule: "(has(self.venvs) && size(self.venvs) > 0) || (has(self.requirements) && size(self.requirements) > 0)",
      message: "a pip runner needs at least one venv or requirements file (system Python is never upgraded)",
      field: "venvs",
      check: (r) => r.venvs.length > 0 || r.requirements.length > 0,
    },
  ],
);

export const pipxRunner = z.strictObject({
  ...commonShape("pipx"),
  includeInjected: z
    .boolean()
    .default(true)
    .describe("Also upgrade packages injected into each pipx environment"),
  packages: packageFilter.prefault({}),
});

/**
 * Runner types merge into one CRD object (see commonShape), so `scope` and `projects` are declared once
 * and described for every type that has them.
 */
const localOrGlobal = z
  .enum(["local", "global"])
  .default("local")
  .describe(
    "local: the dependencies of each project (npm/yarn/pnpm update, bundle update); " +
      "global: globally installed packages (npm -g, gem update)",
  );

const projects = pathList()
  .default([])
  .describe(
    "Project directories, each holding package.json (npm, yarn, pnpm with scope local), composer.json " +
      "(composer), a Gemfile (gem with scope local) or a compose file (dockerCompose: pull, then up -d)",
  );

const scopedProjectsRule = {
  rule: "(has(self.scope) && self.scope == 'global') == (!has(self.projects) || size(self.projects) == 0)",
  message: "scope local needs projects; scope global takes none",
  field: "projects",
  check: (r: { scope: "local" | "global"; projects: string[] }) =>
    (r.scope === "global") === (r.projects.length === 0),
};

function jsRunner<T extends "npm" | "yarn" | "pnpm">(type: T) {
  return withRules(
    z.strictObject({
      ...commonShape(type),
      scope: localOrGlobal,
      projects,
      production: z.boolean().default(true).describe("Skip devDependencies"),
      strategy: z
        .enum(["semver", "latest"])
        .default("semver")
        .describe(
          "semver: stay within the ranges in package.json; latest: move to the newest release, majors too",
        ),
      packages: packageFilter.prefault({}),
    }),
    [scopedProjectsRule],
  );
}

export const npmRunner = jsRunner("npm");
export const yarnRunner = jsRunner("yarn");
export const pnpmRunner = jsRunner("pnpm");

/**
 * `projects` keeps one shape across runner types (see commonShape), so "at least one" is a rule rather
 * than a minimum length.
 */
const needsProjects = (what: string) => ({
  rule: "has(self.projects) && size(self.projects) > 0",
  message: `a ${what} runner needs at least one project directory`,
  field: "projects",
  check: (r: { projects: string[] }) => r.projects.length > 0,
});

export const composerRunner = withRules(
  z.strictObject({
    ...commonShape("composer"),
    projects,
    noDev: z.boolean().default(true).describe("Skip require-dev packages (composer --no-dev)"),
    packages: packageFilter.prefault({}),
  }),
  [needsProjects("composer")],
);

export const gemRunner = withRules(
  z.strictObject({
    ...commonShape("gem"),
    scope: localOrGlobal,
    projects,
    conservative: z
      .boolean()
      .default(true)
      .describe("bundle update --conservative: do not upgrade shared dependencies unless required"),
    packages: packageFilter.prefault({}),
  }),
  [scopedProjectsRule],
);

export const goPackagePath = z
  .string()
  .min(1)
  .max(512)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._~/-]*$/,
    "must be a Go package path without a version, e.g. golang.org/x/tools/gopls",
  );

export const goRunner = z.strictObject({
  ...commonShape("go"),
  modules: z
    .array(goPackagePath)
    .min(1)
    .max(LIST_MAX)
    .describe("Package paths of the binaries reinstalled with `go install <path>@latest`"),
  gobin: absolutePath
    .optional()
    .describe("Directory the binaries are installed to (GOBIN); default go's own"),
});

export const snapRunner = z.strictObject({
  ...commonShape("snap"),
  packages: packageFilter.prefault({}),
});

export const flatpakRunner = z.strictObject({
  ...commonShape("flatpak"),
  installation: z
    .enum(["system", "user"])
    .default("system")
    .describe("Flatpak installation to update (--system or --user)"),
  packages: packageFilter.prefault({}),
});

export const helmRelease = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(53)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Helm release name")
    .describe("Release name"),
  namespace: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Kubernetes namespace name")
    .default("default")
    .describe("Namespace of the release"),
  chart: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[^\s]+$/, "must contain no whitespace")
    .describe("Chart reference: repo/name, oci://… or a path"),
  version: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[^\s]+$/, "must contain no whitespace")
    .optional()
    .describe("Chart version or constraint; default the newest"),
});
export type HelmRelease = z.infer<typeof helmRelease>;

export const helmRunner = z.strictObject({
  ...commonShape("helm"),
  releases: z
    .array(helmRelease)
    .min(1)
    .max(LIST_MAX)
    .describe("Releases upgraded with helm upgrade, in order"),
  kubeconfig: absolutePath.optional().describe("Kubeconfig path inside the container; default helm's own"),
  repoUpdate: z.boolean().default(true).describe("Run helm repo update first"),
  reuseValues: z
    .boolean()
    .default(true)
    .describe("Keep the values of the installed release (--reuse-values)"),
  atomic: z
    .boolean()
    .default(true)
    .describe("Let helm roll the release back if the upgrade fails (--atomic)"),
});

export const dockerComposeRunner = withRules(
  z.strictObject({
    ...commonShape("dockerCompose"),
    projects,
    pull: z.boolean().default(true).describe("docker compose pull before up -d"),
    removeOrphans: z.boolean().default(false).describe("up -d --remove-orphans"),
    prune: z.boolean().default(false).describe("docker image prune -f after a successful up"),
  }),
  [needsProjects("dockerCompose")],
);

export const customStep = z.strictObject({
  name: stepName.describe("Names the step in status and logs; unique within the runner"),
  checkPending: argv
    .optional()
    .describe(
      "Tells whether the step has work: exit 0 pending, exit 1 up to date, anything else fails the runner. " +
        "Without it apply always runs (and a dry run cannot tell)",
    ),
  apply: argv.describe("Command that performs the update"),
  expectedExitCodes: z
    .array(z.number().int().min(0).max(255))
    .min(1)
    .max(16)
    .default([0])
    .describe("Exit codes of apply that count as success"),
});
export type CustomStep = z.infer<typeof customStep>;

export const customRunner = z.strictObject({
  ...commonShape("custom"),
  steps: withUniqueNames(z.array(customStep).min(1).max(16), "custom step").describe(
    "Steps run in order inside the container; argv is never interpreted by a shell",
  ),
});

export const runner = z.discriminatedUnion("type", [
  osRunner,
  pipRunner,
  pipxRunner,
  npmRunner,
  yarnRunner,
  pnpmRunner,
  composerRunner,
  gemRunner,
  goRunner,
  snapRunner,
  flatpakRunner,
  helmRunner,
  dockerComposeRunner,
  customRunner,
]);
export type Runner = z.infer<typeof runner>;
export type OsRunner = z.infer<typeof osRunner>;
export type PipRunner = z.infer<typeof pipRunner>;
export type PipxRunner = z.infer<typeof pipxRunner>;
export type NpmRunner = z.infer<typeof npmRunner>;
export type YarnRunner = z.infer<typeof yarnRunner>;
export type PnpmRunner = z.infer<typeof pnpmRunner>;
export type ComposerRunner = z.infer<typeof composerRunner>;
export type GemRunner = z.infer<typeof gemRunner>;
export type GoRunner = z.infer<typeof goRunner>;
export type SnapRunner = z.infer<typeof snapRunner>;
export type FlatpakRunner = z.infer<typeof flatpakRunner>;
export type HelmRunner = z.infer<typeof helmRunner>;
export type DockerComposeRunner = z.infer<typeof dockerComposeRunner>;
export type CustomRunner = z.infer<typeof customRunner>;

/** The name a runner is known by in status: its `name`, or its type. */
export function runnerName(r: Pick<Runner, "name" | "type">): string {
  return r.name ?? r.type;
}

export const RUNNERS_MAX = 32;

const EFFECTIVE_NAME = (v: string) => `(has(${v}.name) ? ${v}.name : ${v}.type)`;

/** The ordered runners of a plan; names (defaulting to the type) must be unique. */
export const runnerList = withRules(z.array(runner).min(1).max(RUNNERS_MAX), [
  {
    rule: `self.all(a, self.exists_one(b, ${EFFECTIVE_NAME("b")} == ${EFFECTIVE_NAME("a")}))`,
    message: "runner names must be unique; give runners of the same type distinct names",
    check: (rs) => new Set(rs.map(runnerName)).size === rs.length,
  },
]).describe("Runners applied in order inside each container");
