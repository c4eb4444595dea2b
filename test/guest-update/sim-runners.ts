/**
 * Small runner plugins for the e2e tests, speaking the real commands (apt-get, pip) inside the
 * simulator's containers, until the runner registry (src/runners/registry.ts) is merged. They follow
 * src/runners/contract.ts; only what the tests need (the os runner on Debian, pip venvs).
 */
import type { PendingPackage } from "../../src/api/guest-update.js";
import type { RunnerType } from "../../src/api/runners.js";
import { aptDistUpgradeArgv, parseAptSimulation } from "../../src/pve/index.js";
import type { RunnerPlugin, RunnerStep } from "../../src/runners/contract.js";

const MIN = 60_000;
const step = (id: string, argv: string[], timeoutMs = MIN, job = false): RunnerStep => ({
  id,
  argv,
  timeoutMs,
  ...(job ? { job } : {}),
});

const apt: RunnerPlugin = {
  type: "os",
  detect: () => [],
  applies: (_s, t) => t.ostype === "debian" || t.ostype === "ubuntu",
  list: () => [
    step("update", ["apt-get", "update"]),
    step("simulate", ["env", "LC_ALL=C", "apt-get", "-s", "dist-upgrade"]),
  ],
  pending: (_s, _t, r) => {
    const failed = r.find((x) => x.exitCode !== 0);
    if (failed) throw new Error(`${failed.id} exited ${failed.exitCode}: ${failed.stderr.trim()}`);
    return parseAptSimulation(r[1]?.stdout ?? "").changes.map((c) => ({
      package: c.package,
      ...(c.oldVersion ? { from: c.oldVersion } : {}),
      to: c.newVersion,
    }));
  },
  hold: (s) =>
    s.type === "os" && s.packages.deny.length > 0
      ? [step("hold", ["apt-mark", "hold", ...s.packages.deny], MIN, true)]
      : [],
  apply: () => [step("upgrade", aptDistUpgradeArgv(), 30 * MIN, true)],
  release: (s) =>
    s.type === "os" && s.packages.deny.length > 0
      ? [step("release", ["apt-mark", "unhold", ...s.packages.deny], MIN, true)]
      : [],
  installed: () => [step("installed", ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n"])],
  changes: (_s, _t, before, after) => {
    const now = new Map(
      (after[0]?.stdout ?? "")
        .split("\n")
        .map((l) => l.split(" "))
        .filter((p) => p.length >= 2)
        .map(([n, v]) => [n ?? "", v ?? ""]),
    );
    return before.filter((b) => now.get(b.package) === b.to);
  },
};

function venvs(s: { type: RunnerType; venvs?: string[] }): string[] {
  return s.type === "pip" ? (s.venvs ?? []) : [];
}

const pip: RunnerPlugin = {
  type: "pip",
  detect: (s) => venvs(s).map((v, i) => step(`detect-${i}`, [`${v}/bin/pip`, "--version"])),
  applies: (_s, _t, r) => r.length > 0 && r.every((x) => x.exitCode === 0),
  list: (s) =>
    venvs(s).map((v, i) => step(`list-${i}`, [`${v}/bin/pip`, "list", "--outdated", "--format=json"])),
  pending: (s, _t, r) =>
    r.flatMap((x, i) => {
      if (x.exitCode !== 0)
        throw new Error(`pip list in ${venvs(s)[i]} exited ${x.exitCode}: ${x.stderr.trim()}`);
      const rows = JSON.parse(x.stdout || "[]") as {
        name: string;
        version: string;
        latest_version: string;
      }[];
      return rows.map((p): PendingPackage => ({
        package: `${venvs(s)[i]}:${p.name}`,
        from: p.version,
        to: p.latest_version,
      }));
    }),
  hold: () => [],
  apply: (s, _t, pending) =>
    venvs(s)
      .map((v, i) => {
        const names = pending
          .filter((p) => p.package.startsWith(`${v}:`))
          .map((p) => p.package.slice(v.length + 1));
        return names.length > 0
          ? step(`upgrade-${i}`, [`${v}/bin/pip`, "install", "--upgrade", ...names], 15 * MIN, true)
          : undefined;
      })
      .filter((x): x is RunnerStep => x !== undefined),
  release: () => [],
  installed: (s) => venvs(s).map((v, i) => step(`installed-${i}`, [`${v}/bin/pip`, "list", "--format=json"])),
  changes: (s, _t, before, after) => {
    const now = new Map<string, string>();
    after.forEach((x, i) => {
      for (const p of JSON.parse(x.stdout || "[]") as { name: string; version: string }[])
        now.set(`${venvs(s)[i]}:${p.name}`, p.version);
    });
    return before.filter((b) => now.get(b.package) === b.to);
  },
};

const PLUGINS: Partial<Record<RunnerType, RunnerPlugin>> = { os: apt, pip };

export const simRunners = (type: RunnerType): RunnerPlugin | undefined => PLUGINS[type];
