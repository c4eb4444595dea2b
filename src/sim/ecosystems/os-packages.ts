import type { CommandContext } from "../commands/types.js";
import { compareDebVersions } from "../debversion.js";
import type { AptState } from "../model/state.js";
import { registerEcosystem } from "./registry.js";

/**
 * Non-Debian OS package managers inside containers, on the same installed/lists/repo model as apt:
 * dnf (`check-update` exits 100 when updates exist, `upgrade -y [--exclude=GLOB]… [pkg…]`) with
 * `rpm -qa --queryformat`, apk (`update`, `list -u|-I`, `upgrade [pkg…]`) and pacman (`-Sy`, `-Qu`,
 * `-Q`, `-Syu --noconfirm [--ignore a,b]`). apt itself is in apt/apt-get.ts.
 *
 * Sources for what the real tools do with these arguments: dnf(8) ("--exclude=<package-file-spec>":
 * globs; `upgrade <package-spec>…` upgrades only those), rpm(8) `--queryformat` tags and `\t`/`\n`
 * escapes, apk(8) ("apk upgrade [<packages>…]": only the named ones), apk-tools src/app_list.c
 * (`[installed]`), pacman(8) ("--ignore <package>": comma-separated, globs as in IgnorePkg, and
 * "warning: <pkg>: ignoring package upgrade (<old> => <new>)" from libalpm sync.c).
 */

function globRe(p: string): RegExp {
  return new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".")}$`,
  );
}

function db(ctx: CommandContext, eco: string): AptState {
  return (ctx.place.kind === "container" ? ctx.place.guest.contents?.os[eco] : undefined)!;
}

function pending(apt: AptState, source: "lists" | "repo"): [string, string, string][] {
  return Object.entries(apt.installed)
    .map(([n, r]) => [n, r.version, apt[source][n]?.version ?? r.version] as [string, string, string])
    .filter(([, from, to]) => compareDebVersions(to, from) > 0);
}

async function applyAll(
  ctx: CommandContext,
  apt: AptState,
  source: "lists" | "repo",
  line: (n: string, from: string, to: string, i: number, total: number) => string,
  only: (name: string) => boolean = () => true,
): Promise<number> {
  const todo = pending(apt, source).filter(([n]) => only(n));
  let i = 0;
  for (const [n, from, to] of todo) {
    ctx.out(line(n, from, to, ++i, todo.length));
    await ctx.sim.sleep(ctx.sim.timing.guestPackageSeconds, ctx.signal);
    apt.installed[n] = { ...apt.installed[n]!, version: to };
  }
  return todo.length;
}

async function dnf(ctx: CommandContext): Promise<number> {
  const apt = db(ctx, "dnf");
  const all = ctx.argv.slice(1);
  const excludes = all.filter((a) => a.startsWith("--exclude=")).map((a) => globRe(a.slice(10)));
  const args = all.filter((a) => !a.startsWith("-"));
  const [sub, ...names] = args;
  const only = (n: string): boolean =>
    !excludes.some((e) => e.test(n)) && (names.length === 0 || names.includes(n));
  // dnf refreshes metadata itself, so it always sees the repository.
  if (sub === "check-update" || (sub === "list" && all.includes("--upgrades"))) {
    const todo = pending(apt, "repo");
    for (const [n, , to] of todo) ctx.out(`${`${n}.x86_64`.padEnd(40)} ${to.padEnd(20)} updates\n`);
    return sub === "check-update" && todo.length > 0 ? 100 : 0;
  }
  if (sub === "upgrade" || sub === "update") {
    if (
      !ctx.argv.includes("-y") &&
      !ctx.argv.includes("--assumeyes") &&
      pending(apt, "repo").some(([n]) => only(n))
    ) {
      ctx.out("Is this ok [y/N]: Operation aborted.\n");
      return 1;
    }
    const n = await applyAll(
      ctx,
      apt,
      "repo",
      (p, from, to, i, t) => `  Upgrading        : ${p}-${to}.x86_64 (replacing ${from})   ${i}/${t}\n`,
      only,
    );
    ctx.out(n > 0 ? "\nComplete!\n" : "Dependencies resolved.\nNothing to do.\nComplete!\n");
    return 0;
  }
  if (sub === "makecache") {
    ctx.out("Metadata cache created.\n");
    return 0;
  }
  ctx.err(`No such command: ${sub ?? ""}. Please use /usr/bin/dnf --help\n`);
  return 1;
}

async function apk(ctx: CommandContext): Promise<number> {
  const apt = db(ctx, "apk");
  const [sub, ...rest] = ctx.argv.slice(1).filter((a) => a !== "--no-cache" && a !== "-q");
  switch (sub) {
    case "update":
      await ctx.sim.sleep(ctx.sim.timing.aptUpdateSeconds, ctx.signal);
      for (const [n, r] of Object.entries(apt.repo)) apt.lists[n] = { ...r };
      ctx.out(
        `fetch https://dl-cdn.alpinelinux.org/alpine/v3.21/main/x86_64/APKINDEX.tar.gz\nv3.21.3 [https://dl-cdn.alpinelinux.org/alpine/v3.21/main]\nOK: 5470 distinct packages available\n`,
      );
      return 0;
    case "list":
      if (rest.includes("-u") || rest.includes("--upgradable"))
        for (const [n, from, to] of pending(apt, "lists"))
          ctx.out(`${n}-${to} x86_64 {${n}} (MIT) [upgradable from: ${n}-${from}]\n`);
      else if (rest.includes("-I") || rest.includes("--installed"))
        for (const [n, r] of Object.entries(apt.installed).sort(([a], [b]) => a.localeCompare(b)))
          ctx.out(`${n}-${r.version} x86_64 {${n}} (MIT) [installed]\n`);
      return 0;
    case "version":
      for (const [n, from, to] of pending(apt, "lists")) ctx.out(`${`${n}-${from}`.padEnd(40)}<  ${to}\n`);
      return 0;
    case "upgrade": {
      const named = rest.filter((a) => !a.startsWith("-"));
      const n = await applyAll(
        ctx,
        apt,
        "lists",
        (p, from, to, i, t) => `(${i}/${t}) Upgrading ${p} (${from} -> ${to})\n`,
        (p) => named.length === 0 || named.includes(p),
      );
      ctx.out(`OK: ${120 + n} MiB in ${40 + n} packages\n`);
      return 0;
    }
    default:
      ctx.err(`apk-tools 2.14.6, compiled for x86_64.\n\nunknown applet '${sub ?? ""}'\n`);
      return 1;
  }
}

async function pacman(ctx: CommandContext): Promise<number> {
  const apt = db(ctx, "pacman");
  const flags = ctx.argv.slice(1).filter((a) => a.startsWith("-") && !a.startsWith("--"));
  const letters = new Set(flags.join("").replaceAll("-", ""));
  if (letters.has("S") && letters.has("y")) {
    await ctx.sim.sleep(ctx.sim.timing.aptUpdateSeconds, ctx.signal);
    for (const [n, r] of Object.entries(apt.repo)) apt.lists[n] = { ...r };
    ctx.out(":: Synchronizing package databases...\n core is up to date\n extra is up to date\n");
  }
  const ignoreAt = ctx.argv.indexOf("--ignore");
  const ignore = (ignoreAt > 0 ? (ctx.argv[ignoreAt + 1] ?? "").split(",") : []).filter(Boolean).map(globRe);
  const ignored = (n: string): boolean => ignore.some((r) => r.test(n));
  if (letters.has("Q") && letters.has("u")) {
    const todo = pending(apt, "lists");
    for (const [n, from, to] of todo) ctx.out(`${n} ${from} -> ${to}\n`);
    return todo.length > 0 ? 0 : 1;
  }
  if (letters.has("Q")) {
    for (const [n, r] of Object.entries(apt.installed).sort(([a], [b]) => a.localeCompare(b)))
      ctx.out(`${n} ${r.version}\n`);
    return 0;
  }
  if (letters.has("S") && letters.has("u")) {
    if (!ctx.argv.includes("--noconfirm") && pending(apt, "lists").length > 0) {
      ctx.out(":: Proceed with installation? [Y/n] \n");
      return 1;
    }
    for (const [n, from, to] of pending(apt, "lists"))
      if (ignored(n)) ctx.err(`warning: ${n}: ignoring package upgrade (${from} => ${to})\n`);
    const n = await applyAll(
      ctx,
      apt,
      "lists",
      (p, _from, to, i, t) => `(${i}/${t}) upgrading ${p} [${to}]\n`,
      (p) => !ignored(p),
    );
    if (n === 0) ctx.out(" there is nothing to do\n");
    return 0;
  }
  return letters.has("S") ? 0 : 1;
}

/** `rpm -qa [--queryformat FMT]`: %{NAME}, %{VERSION}, %{RELEASE} (the sim's versions are VERSION-RELEASE). */
function rpm(ctx: CommandContext): number {
  const apt = db(ctx, "dnf");
  const args = ctx.argv.slice(1);
  if (!args.includes("-qa") && !(args.includes("-q") && args.includes("-a"))) {
    ctx.err("rpm: no arguments given for query\n");
    return 1;
  }
  const at = args.findIndex((a) => a === "--queryformat" || a === "--qf");
  const fmt = (at >= 0 ? (args[at + 1] ?? "") : "%{NAME}-%{VERSION}-%{RELEASE}.x86_64\\n")
    .replaceAll("\\t", "\t")
    .replaceAll("\\n", "\n");
  for (const [n, r] of Object.entries(apt.installed).sort(([a], [b]) => a.localeCompare(b))) {
    const dash = r.version.lastIndexOf("-");
    const [version, release] =
      dash > 0 ? [r.version.slice(0, dash), r.version.slice(dash + 1)] : [r.version, "1"];
    ctx.out(fmt.replaceAll("%{NAME}", n).replaceAll("%{VERSION}", version).replaceAll("%{RELEASE}", release));
  }
  return 0;
}

registerEcosystem({
  name: "dnf",
  present: (c) => c.os.dnf !== undefined,
  commands: {
    dnf: { path: "/usr/bin/dnf", handler: dnf },
    yum: { path: "/usr/bin/yum", handler: dnf },
    rpm: { path: "/usr/bin/rpm", handler: rpm },
  },
});
registerEcosystem({
  name: "apk",
  present: (c) => c.os.apk !== undefined,
  commands: { apk: { path: "/sbin/apk", handler: apk } },
});
registerEcosystem({
  name: "pacman",
  present: (c) => c.os.pacman !== undefined,
  commands: { pacman: { path: "/usr/bin/pacman", handler: pacman } },
});
