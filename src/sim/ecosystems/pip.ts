import type { CommandContext } from "../commands/types.js";
import { compareDebVersions } from "../debversion.js";
import { normalizePath } from "../exec/fs.js";
import type { ContainerContents, EcosystemPackage } from "../model/state.js";
import { registerEcosystem } from "./registry.js";

/**
 * pip inside virtualenvs (`<venv>/bin/pip`, `<venv>/bin/python -m pip`): `list [--outdated]
 * [--format=json]`, `freeze`, `install -U/--upgrade pkg…` and `install pkg==ver`. The index is
 * queried live, so a published version is visible at once.
 */

function venvOf(c: ContainerContents, path: string): string | undefined {
  const norm = normalizePath(path);
  return Object.keys(c.pip).find((v) =>
    [
      `${normalizePath(v)}/bin/pip`,
      `${normalizePath(v)}/bin/pip3`,
      `${normalizePath(v)}/bin/python`,
      `${normalizePath(v)}/bin/python3`,
    ].includes(norm),
  );
}

function contents(ctx: CommandContext): ContainerContents {
  return (ctx.place.kind === "container" ? ctx.place.guest.contents : undefined)!;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(w[i]!))
      .join(" ")
      .trimEnd();
  return [fmt(rows[0]!), w.map((n) => "-".repeat(n)).join(" "), ...rows.slice(1).map(fmt)].join("\n") + "\n";
}

async function pip(ctx: CommandContext, venv: string, args: string[]): Promise<number> {
  const pkgs = contents(ctx).pip[venv]!;
  const [sub, ...rest] = args;
  const json =
    rest.includes("--format=json") ||
    (rest.includes("--format") && rest[rest.indexOf("--format") + 1] === "json");
  const names = Object.keys(pkgs).sort((a, b) => a.localeCompare(b));
  switch (sub) {
    case "--version":
    case "-V":
      ctx.out(`pip 23.0.1 from ${venv}/lib/python3.11/site-packages/pip (python 3.11)\n`);
      return 0;
    case "list": {
      const outdated = rest.includes("--outdated") || rest.includes("-o");
      const rows = names.filter(
        (n) =>
          !outdated || (pkgs[n]!.candidate && compareDebVersions(pkgs[n]!.candidate, pkgs[n]!.installed) > 0),
      );
      if (json) {
        ctx.out(
          `${JSON.stringify(rows.map((n) => (outdated ? { name: n, version: pkgs[n]!.installed, latest_version: pkgs[n]!.candidate, latest_filetype: "wheel" } : { name: n, version: pkgs[n]!.installed })))}\n`,
        );
      } else if (rows.length > 0) {
        ctx.out(
          outdated
            ? table([
                ["Package", "Version", "Latest", "Type"],
                ...rows.map((n) => [n, pkgs[n]!.installed, pkgs[n]!.candidate!, "wheel"]),
              ])
            : table([["Package", "Version"], ...rows.map((n) => [n, pkgs[n]!.installed])]),
        );
      }
      return 0;
    }
    case "freeze":
      ctx.out(names.map((n) => `${n}==${pkgs[n]!.installed}\n`).join(""));
      return 0;
    case "install": {
      const upgrade = rest.includes("-U") || rest.includes("--upgrade");
      const reqs = rest.filter((a) => !a.startsWith("-"));
      if (reqs.length === 0) {
        ctx.err('ERROR: You must give at least one requirement to install (see "pip help install")\n');
        return 1;
      }
      const plan: [string, EcosystemPackage, string][] = [];
      for (const r of reqs) {
        const [name, pinned] = r.split("==") as [string, string | undefined];
        const p = pkgs[name] ?? pkgs[name.toLowerCase()];
        const want = pinned ?? (upgrade ? (p?.candidate ?? p?.installed) : p?.installed);
        if (!p || want === undefined || (pinned && pinned !== p.installed && pinned !== p.candidate)) {
          ctx.err(
            `ERROR: Could not find a version that satisfies the requirement ${r} (from versions: ${p ? [p.installed, p.candidate].filter(Boolean).join(", ") : "none"})\nERROR: No matching distribution found for ${r}\n`,
          );
          return 1;
        }
        if (want === p.installed) {
          ctx.out(
            `Requirement already satisfied: ${name} in ${venv}/lib/python3.11/site-packages (${p.installed})\n`,
          );
          continue;
        }
        plan.push([name, p, want]);
      }
      for (const [name, , want] of plan)
        ctx.out(
          `Collecting ${name}${upgrade ? "" : `==${want}`}\n  Downloading ${name}-${want}-py3-none-any.whl (103 kB)\n`,
        );
      if (plan.length === 0) return 0;
      ctx.out(`Installing collected packages: ${plan.map((p) => p[0]).join(", ")}\n`);
      const done: string[] = [];
      for (const [name, p, want] of plan) {
        ctx.out(
          `  Attempting uninstall: ${name}\n    Found existing installation: ${name} ${p.installed}\n    Uninstalling ${name}-${p.installed}:\n      Successfully uninstalled ${name}-${p.installed}\n`,
        );
        await ctx.sim.sleep(ctx.sim.timing.guestPackageSeconds, ctx.signal);
        p.installed = want;
        done.push(`${name}-${want}`);
      }
      ctx.out(`Successfully installed ${done.join(" ")}\n`);
      return 0;
    }
    default:
      ctx.err(`ERROR: unknown command "${sub ?? ""}"\n`);
      return 1;
  }
}

registerEcosystem({
  name: "pip",
  present: (c) => Object.keys(c.pip).length > 0,
  commands: {},
  resolvePath: (c, path) => {
    const venv = venvOf(c, path);
    if (!venv) return undefined;
    const isPython = /\/python3?$/.test(path);
    return (ctx) => {
      const args = ctx.argv.slice(1);
      if (isPython) {
        if (args[0] === "-m" && args[1] === "pip") return pip(ctx, venv, args.slice(2));
        if (args[0] === "--version" || args[0] === "-V") {
          ctx.out("Python 3.11.2\n");
          return 0;
        }
        ctx.err(`${path}: simulated python runs only '-m pip'\n`);
        return 2;
      }
      return pip(ctx, venv, args);
    };
  },
});
