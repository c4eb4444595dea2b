import type { CommandContext } from "../commands/types.js";
import { compareDebVersions } from "../debversion.js";
import { normalizePath } from "../exec/fs.js";
import type { ContainerContents } from "../model/state.js";
import { registerEcosystem } from "./registry.js";

/**
 * npm in project directories (`--prefix DIR` or the working directory): `outdated --json` (exit 1
 * when something is outdated, as npm does), `update`, `ls --json`, `ci`/`install`.
 */

function project(c: ContainerContents, dir: string): string | undefined {
  const d = normalizePath(dir);
  return Object.keys(c.npm).find((p) => normalizePath(p) === d);
}

async function npm(ctx: CommandContext): Promise<number> {
  const c = (ctx.place.kind === "container" ? ctx.place.guest.contents : undefined)!;
  const args = ctx.argv.slice(1);
  let prefix = ctx.env.PWD ?? "/root";
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--prefix" || a === "-C") prefix = args[++i] ?? prefix;
    else if (a.startsWith("--prefix=")) prefix = a.slice(9);
    else rest.push(a);
  }
  const [sub, ...more] = rest;
  if (sub === "--version" || sub === "-v") {
    ctx.out("10.9.2\n");
    return 0;
  }
  const dir = project(c, prefix);
  if (!dir) {
    ctx.err(
      `npm error code ENOENT\nnpm error syscall open\nnpm error path ${normalizePath(prefix)}/package.json\nnpm error errno -2\nnpm error enoent Could not read package.json: Error: ENOENT: no such file or directory, open '${normalizePath(prefix)}/package.json'\n`,
    );
    return 254;
  }
  const pkgs = c.npm[dir]!;
  const json = more.includes("--json");
  const outdated = Object.entries(pkgs).filter(
    ([, p]) => p.candidate && compareDebVersions(p.candidate, p.installed) > 0,
  );
  switch (sub) {
    case "outdated": {
      if (json) {
        const obj = Object.fromEntries(
          outdated.map(([n, p]) => [
            n,
            {
              current: p.installed,
              wanted: p.candidate,
              latest: p.candidate,
              dependent: "app",
              location: `${dir}/node_modules/${n}`,
            },
          ]),
        );
        ctx.out(`${JSON.stringify(obj, null, 2)}\n`);
      } else if (outdated.length > 0) {
        ctx.out(
          `Package  Current  Wanted  Latest  Location  Depended by\n${outdated.map(([n, p]) => `${n}  ${p.installed}  ${p.candidate}  ${p.candidate}  node_modules/${n}  app`).join("\n")}\n`,
        );
      }
      return outdated.length > 0 ? 1 : 0;
    }
    case "update":
    case "up":
    case "upgrade": {
      // `npm update [<pkg>...]` (npm lib/commands/update.js): named packages only, when any are named.
      const named = more.filter((a) => !a.startsWith("-"));
      const todo = named.length > 0 ? outdated.filter(([n]) => named.includes(n)) : outdated;
      for (const [, p] of todo) {
        await ctx.sim.sleep(ctx.sim.timing.guestPackageSeconds, ctx.signal);
        p.installed = p.candidate!;
      }
      ctx.out(
        todo.length > 0
          ? `\nchanged ${todo.length} package${todo.length > 1 ? "s" : ""}, and audited ${Object.keys(pkgs).length + 60} packages in 2s\n\nfound 0 vulnerabilities\n`
          : `\nup to date, audited ${Object.keys(pkgs).length + 60} packages in 1s\n\nfound 0 vulnerabilities\n`,
      );
      return 0;
    }
    case "ci":
    case "install":
    case "i":
      ctx.out(
        `\nup to date, audited ${Object.keys(pkgs).length + 60} packages in 1s\n\nfound 0 vulnerabilities\n`,
      );
      return 0;
    case "ls":
    case "list":
      if (json)
        ctx.out(
          `${JSON.stringify({ name: "app", version: "1.0.0", dependencies: Object.fromEntries(Object.entries(pkgs).map(([n, p]) => [n, { version: p.installed }])) }, null, 2)}\n`,
        );
      else
        ctx.out(
          `app@1.0.0 ${dir}\n${Object.entries(pkgs)
            .map(([n, p], i, a) => `${i === a.length - 1 ? "└──" : "├──"} ${n}@${p.installed}`)
            .join("\n")}\n`,
        );
      return 0;
    default:
      ctx.err(`Unknown command: "${sub ?? ""}"\n`);
      return 1;
  }
}

registerEcosystem({
  name: "npm",
  present: (c) => Object.keys(c.npm).length > 0,
  commands: { npm: { path: "/usr/bin/npm", handler: npm } },
});
