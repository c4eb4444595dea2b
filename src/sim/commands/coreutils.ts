import { readFile, statPath } from "../exec/fs.js";
import { kernelHost } from "../exec/place.js";
import { anywhere, registerCommands, resolveCommand } from "./registry.js";
import { dateOutput } from "./time-format.js";
import type { CommandContext } from "./types.js";

/** The handful of coreutils/procps programs scripts use around the Proxmox tools. */

async function sh(ctx: CommandContext): Promise<number> {
  const args = ctx.argv.slice(1);
  const io = {
    get stdin(): string {
      return ctx.stdin;
    },
    stdout: ctx.out,
    stderr: ctx.err,
  };
  const flavour =
    ctx.argv[0] === "bash" || ctx.argv[0] === "/usr/bin/bash" || ctx.argv[0] === "/bin/bash"
      ? "bash"
      : "dash";
  let i = 0;
  while (args[i] === "-e" || args[i] === "-u" || args[i] === "-eu" || args[i] === "-x") i++;
  if (args[i] === "-c") {
    const script = args[i + 1];
    if (script === undefined) {
      ctx.err(`${ctx.argv[0]}: 0: -c requires an argument\n`);
      return 2;
    }
    const positional = args.slice(i + 2);
    const preamble = args.slice(0, i).includes("-e") ? "set -e\n" : "";
    return ctx.runScript(
      preamble + script,
      io,
      positional.length > 0 ? positional : [ctx.argv[0] ?? "sh"],
      flavour,
    );
  }
  // `sh` / `sh -s [args…]`: the script is standard input.
  if (args[i] === undefined || args[i] === "-s")
    return ctx.runScript(
      ctx.stdin,
      { ...io, stdin: "" },
      [ctx.argv[0] ?? "sh", ...args.slice(i + 1)],
      flavour,
    );
  const file = readFile(ctx.sim, ctx.place, args[i]!);
  if (file === undefined) {
    ctx.err(`sh: 0: cannot open ${args[i]}: No such file\n`);
    return 2;
  }
  return ctx.runScript(file, io, args.slice(i), flavour);
}

function cat(ctx: CommandContext): number {
  const files = ctx.argv.slice(1).filter((a) => a !== "--");
  if (files.length === 0 || (files.length === 1 && files[0] === "-")) {
    ctx.out(ctx.stdin);
    return 0;
  }
  let status = 0;
  for (const f of files) {
    if (f.startsWith("-") && f !== "-") continue;
    const content = f === "-" ? ctx.stdin : readFile(ctx.sim, ctx.place, f);
    if (content !== undefined) {
      ctx.out(content);
      continue;
    }
    const kind = statPath(ctx.sim, ctx.place, f);
    ctx.err(`cat: ${f}: ${kind === "dir" ? "Is a directory" : "No such file or directory"}\n`);
    status = 1;
  }
  return status;
}

function uname(ctx: CommandContext): number {
  const host = kernelHost(ctx.place);
  const hostname = ctx.place.kind === "host" ? host.name : ctx.place.guest.name;
  const pkgVer = host.kernelRunning.replace(/-[a-z0-9]+$/, "");
  const version = host.kernelRunning.endsWith("-pve")
    ? `#1 SMP PREEMPT_DYNAMIC PMX ${pkgVer} (2025-03-16T19:18Z)`
    : `#1 SMP PREEMPT_DYNAMIC Debian ${pkgVer} (2025-02-01)`;
  const flags = new Set<string>();
  for (const a of ctx.argv.slice(1)) {
    const long: Record<string, string> = {
      "--all": "a",
      "--kernel-name": "s",
      "--nodename": "n",
      "--kernel-release": "r",
      "--kernel-version": "v",
      "--machine": "m",
      "--operating-system": "o",
    };
    if (long[a]) flags.add(long[a]);
    else if (/^-[asnrvmpio]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
    else {
      const bad = a.startsWith("--")
        ? `unrecognized option '${a}'`
        : a.startsWith("-")
          ? `invalid option -- '${a.replace(/^-[asnrvmpio]*/, "")[0]}'`
          : `extra operand '${a}'`;
      ctx.err(`uname: ${bad}\nTry 'uname --help' for more information.\n`);
      return 1;
    }
  }
  if (flags.size === 0) flags.add("s");
  const all = flags.has("a");
  const fields: string[] = [];
  if (all || flags.has("s")) fields.push("Linux");
  if (all || flags.has("n")) fields.push(hostname);
  if (all || flags.has("r")) fields.push(host.kernelRunning);
  if (all || flags.has("v")) fields.push(version);
  if (all || flags.has("m")) fields.push("x86_64");
  if (flags.has("p") && !all) fields.push("unknown");
  if (flags.has("i") && !all) fields.push("unknown");
  if (all || flags.has("o")) fields.push("GNU/Linux");
  ctx.out(`${fields.join(" ")}\n`);
  return 0;
}

function hostname(ctx: CommandContext): number {
  const name = ctx.place.kind === "host" ? ctx.place.host.name : ctx.place.guest.name;
  const a = ctx.argv[1];
  if (a === "-I" || a === "--all-ip-addresses")
    ctx.out(`${ctx.place.kind === "host" ? ctx.place.host.ip : "10.0.3.10"} \n`);
  else if (a === "-f" || a === "--fqdn") ctx.out(`${name}.lab.local\n`);
  else ctx.out(`${name}\n`);
  return 0;
}

async function sleep(ctx: CommandContext): Promise<number> {
  let total = 0;
  for (const a of ctx.argv.slice(1)) {
    const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(a);
    if (!m) {
      ctx.err(`sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.\n`);
      return 1;
    }
    total += Number(m[1]) * ({ "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]!] ?? 1);
  }
  if (ctx.argv.length < 2) {
    ctx.err("sleep: missing operand\nTry 'sleep --help' for more information.\n");
    return 1;
  }
  await ctx.sim.sleep(total, ctx.signal);
  return 0;
}

function date(ctx: CommandContext): number {
  const fmt = ctx.argv.find((a) => a.startsWith("+"));
  const now = ctx.sim.now();
  if (fmt === "+%s") ctx.out(`${Math.floor(now / 1000)}\n`);
  else if (fmt) ctx.out(`${new Date(now).toISOString()}\n`);
  else ctx.out(`${dateOutput(now)}\n`);
  return 0;
}

function lines(text: string): string[] {
  const l = text.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

function countArg(args: string[], dflt: number): { n: number; rest: string[] } {
  let n = dflt;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-n") n = Number(args[++i]);
    else if (/^-n\d+$/.test(a)) n = Number(a.slice(2));
    else if (/^-\d+$/.test(a)) n = Number(a.slice(1));
    else rest.push(a);
  }
  return { n, rest };
}

function head(ctx: CommandContext): number {
  const { n, rest } = countArg(ctx.argv.slice(1), 10);
  const text = rest[0] ? readFile(ctx.sim, ctx.place, rest[0]) : ctx.stdin;
  if (text === undefined) {
    ctx.err(`head: cannot open '${rest[0]}' for reading: No such file or directory\n`);
    return 1;
  }
  const l = lines(text);
  const out = n < 0 ? l.slice(0, Math.max(0, l.length + n)) : l.slice(0, n);
  ctx.out(out.map((x) => `${x}\n`).join(""));
  return 0;
}

function tail(ctx: CommandContext): number {
  const { n, rest } = countArg(ctx.argv.slice(1), 10);
  const text = rest[0] ? readFile(ctx.sim, ctx.place, rest[0]) : ctx.stdin;
  if (text === undefined) {
    ctx.err(`tail: cannot open '${rest[0]}' for reading: No such file or directory\n`);
    return 1;
  }
  const l = lines(text);
  ctx.out(
    l
      .slice(Math.max(0, l.length - n))
      .map((x) => `${x}\n`)
      .join(""),
  );
  return 0;
}

function grep(ctx: CommandContext): number {
  let quiet = false;
  let invert = false;
  let count = false;
  let regex = false;
  let fixed = false;
  let ignoreCase = false;
  let only = false;
  const rest: string[] = [];
  for (const a of ctx.argv.slice(1)) {
    if (/^-[qvcEFio]+$/.test(a)) {
      for (const c of a.slice(1)) {
        if (c === "o") only = true;
        if (c === "q") quiet = true;
        if (c === "v") invert = true;
        if (c === "c") count = true;
        if (c === "E") regex = true;
        if (c === "F") fixed = true;
        if (c === "i") ignoreCase = true;
      }
    } else rest.push(a);
  }
  const [pattern, file] = rest;
  if (pattern === undefined) {
    ctx.err("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
    return 2;
  }
  const text = file ? readFile(ctx.sim, ctx.place, file) : ctx.stdin;
  if (text === undefined) {
    ctx.err(`grep: ${file}: No such file or directory\n`);
    return 2;
  }
  const test = fixed
    ? (l: string) => (ignoreCase ? l.toLowerCase().includes(pattern.toLowerCase()) : l.includes(pattern))
    : (() => {
        // Basic regular expressions differ from ERE mainly in \( \) \| \{ \}; close enough for scripts.
        const src = regex ? pattern : pattern.replace(/\\([(){}|+?])/g, "$1");
        const rx = new RegExp(src, ignoreCase ? "i" : "");
        return (l: string) => rx.test(l);
      })();
  const matched = lines(text).filter((l) => test(l) !== invert);
  if (!quiet) {
    if (count) ctx.out(`${matched.length}\n`);
    else if (only && !invert) {
      // -o: every non-empty match on its own line.
      const src = fixed
        ? pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        : regex
          ? pattern
          : pattern.replace(/\\([(){}|+?])/g, "$1");
      const rx = new RegExp(src, ignoreCase ? "gi" : "g");
      for (const l of matched) for (const m of l.matchAll(rx)) if (m[0] !== "") ctx.out(`${m[0]}\n`);
    } else ctx.out(matched.map((l) => `${l}\n`).join(""));
  }
  return matched.length > 0 ? 0 : 1;
}

function wc(ctx: CommandContext): number {
  const text = ctx.stdin;
  const l = (text.match(/\n/g) ?? []).length;
  if (ctx.argv.includes("-l")) ctx.out(`${l}\n`);
  else
    ctx.out(
      `${String(l).padStart(7)} ${String(text.split(/\s+/).filter(Boolean).length).padStart(7)} ${String(Buffer.byteLength(text)).padStart(7)}\n`,
    );
  return 0;
}

/** `env [-i] [-u NAME] [NAME=value]... [argv...]`: runs argv with a changed environment, or prints it. */
async function env(ctx: CommandContext): Promise<number> {
  const args = ctx.argv.slice(1);
  let vars: Record<string, string> = { ...ctx.env };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-i" || a === "--ignore-environment" || a === "-") vars = {};
    else if (a === "-u" || a === "--unset") delete vars[args[++i] ?? ""];
    else if (a.startsWith("--unset=")) delete vars[a.slice(8)];
    else if (a === "--") {
      i++;
      break;
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      const eq = a.indexOf("=");
      vars[a.slice(0, eq)] = a.slice(eq + 1);
    } else if (a.startsWith("-")) {
      ctx.err(`env: invalid option -- '${a.slice(1)}'\nTry 'env --help' for more information.\n`);
      return 125;
    } else break;
  }
  const argv = args.slice(i);
  if (argv.length === 0) {
    ctx.out(
      Object.entries(vars)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
    return 0;
  }
  if (!resolveCommand(ctx.place, argv[0]!)) {
    ctx.err(`env: '${argv[0]}': No such file or directory\n`);
    return 127;
  }
  return ctx.spawn(argv, { stdin: ctx.stdin, stdout: ctx.out, stderr: ctx.err }, { env: vars });
}

function whoami(ctx: CommandContext): number {
  ctx.out("root\n");
  return 0;
}

function id(ctx: CommandContext): number {
  if (ctx.argv[1] === "-u") ctx.out("0\n");
  else ctx.out("uid=0(root) gid=0(root) groups=0(root)\n");
  return 0;
}

registerCommands([
  { name: "sh", path: "/usr/bin/sh", available: anywhere, handler: sh },
  { name: "dash", path: "/usr/bin/dash", available: anywhere, handler: sh },
  { name: "bash", path: "/usr/bin/bash", available: anywhere, handler: sh },
  { name: "cat", path: "/usr/bin/cat", available: anywhere, handler: cat },
  { name: "uname", path: "/usr/bin/uname", available: anywhere, handler: uname },
  { name: "hostname", path: "/usr/bin/hostname", available: anywhere, handler: hostname },
  { name: "sleep", path: "/usr/bin/sleep", available: anywhere, handler: sleep },
  { name: "date", path: "/usr/bin/date", available: anywhere, handler: date },
  { name: "head", path: "/usr/bin/head", available: anywhere, handler: head },
  { name: "tail", path: "/usr/bin/tail", available: anywhere, handler: tail },
  { name: "grep", path: "/usr/bin/grep", available: anywhere, handler: grep },
  { name: "wc", path: "/usr/bin/wc", available: anywhere, handler: wc },
  { name: "env", path: "/usr/bin/env", available: anywhere, handler: env },
  { name: "whoami", path: "/usr/bin/whoami", available: anywhere, handler: whoami },
  { name: "id", path: "/usr/bin/id", available: anywhere, handler: id },
]);
