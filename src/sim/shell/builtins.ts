import { ShellSyntaxError } from "./ast.js";
import { programIo, type Io, type ShellInterpreter } from "./interpreter.js";
import { parseScript } from "./parser.js";
import { ExitRequest, LoopControl, ReturnRequest, type ShellIo } from "./types.js";

/** dash builtins the subset implements. Everything else is an external command of the host. */
const BUILTINS = new Set([
  "echo",
  "printf",
  "true",
  "false",
  ":",
  "test",
  "[",
  "exit",
  "command",
  "export",
  "unset",
  "set",
  "cd",
  "pwd",
  "hash",
  "type",
  "exec",
  "read",
  "local",
  "return",
  "shift",
  "break",
  "continue",
  "trap",
  "eval",
  "wait",
  "readonly",
]);

/** Reserved words `command -v` / `type` know about. */
const KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "for",
  "in",
  "do",
  "done",
  "while",
  "until",
  "case",
  "esac",
  "{",
  "}",
  "!",
]);

export function isBuiltin(name: string): boolean {
  return BUILTINS.has(name);
}

export async function runBuiltin(
  sh: ShellInterpreter,
  argv: string[],
  shellIo: Io,
  line: number,
  env: Record<string, string>,
): Promise<number> {
  const [name, ...args] = argv as [string, ...string[]];
  const io: ShellIo = programIo(shellIo);
  switch (name) {
    case "true":
    case ":":
      return 0;
    case "false":
      return 1;
    case "echo":
      return echo(args, io);
    case "printf":
      return printf(args, io, line);
    case "test":
      return test(sh, args, io, line, "test");
    case "[": {
      if (args[args.length - 1] !== "]") {
        io.stderr(`sh: ${line}: [: missing ]\n`);
        return 2;
      }
      return test(sh, args.slice(0, -1), io, line, "[");
    }
    case "exit": {
      const code = args[0] === undefined ? sh.status : Number(args[0]);
      if (!Number.isInteger(code)) {
        io.stderr(`sh: ${line}: exit: Illegal number: ${args[0]}\n`);
        throw new ExitRequest(2);
      }
      throw new ExitRequest(code & 255);
    }
    case "command":
      return command(sh, args, shellIo, line, env);
    case "export":
    case "readonly":
      for (const a of args) {
        const eq = a.indexOf("=");
        if (eq > 0) sh.vars[a.slice(0, eq)] = a.slice(eq + 1);
      }
      return 0;
    case "local":
      for (const a of args) {
        const eq = a.indexOf("=");
        const n = eq > 0 ? a.slice(0, eq) : a;
        if (!sh.makeLocal(n)) {
          io.stderr(`sh: ${line}: local: not in a function\n`);
          return 2;
        }
        if (eq > 0) sh.vars[n] = a.slice(eq + 1);
      }
      return 0;
    case "return": {
      const code = args[0] === undefined ? sh.status : Number(args[0]);
      if (!Number.isInteger(code)) {
        io.stderr(`sh: ${line}: return: Illegal number: ${args[0]}\n`);
        throw new ReturnRequest(2);
      }
      throw new ReturnRequest(code & 255);
    }
    case "break":
    case "continue": {
      const n = args[0] === undefined ? 1 : Number(args[0]);
      if (!Number.isInteger(n) || n < 1) {
        io.stderr(`sh: ${line}: ${name}: Illegal number: ${args[0]}\n`);
        return 2;
      }
      if (!sh.inLoop) return 0;
      throw new LoopControl(name, n);
    }
    case "shift": {
      const n = args[0] === undefined ? 1 : Number(args[0]);
      if (!Number.isInteger(n) || n < 0 || n > sh.positional.length - 1) {
        io.stderr(`sh: ${line}: shift: can't shift that many\n`);
        throw new ExitRequest(2);
      }
      sh.positional = [sh.positional[0] ?? "sh", ...sh.positional.slice(n + 1)];
      return 0;
    }
    case "hash":
      return hash(sh, args, io, line);
    case "type":
      return type(sh, args, io);
    case "exec": {
      if (args.length === 0) return 0;
      const status = isBuiltin(args[0]!)
        ? await runBuiltin(sh, args, shellIo, line, env)
        : await sh.runExternal(args, env, shellIo, line);
      throw new ExitRequest(status);
    }
    case "read":
      return read(sh, args, shellIo, line);
    case "trap":
      return trap(sh, args, io, line);
    case "eval": {
      const src = args.join(" ");
      let script;
      try {
        script = parseScript(src, line);
      } catch (e) {
        if (!(e instanceof ShellSyntaxError)) throw e;
        io.stderr(`sh: ${line}: Syntax error: ${e.message}\n`);
        return 2;
      }
      return sh.runList(script, shellIo);
    }
    case "wait":
      return 0;
    case "unset":
      for (const a of args) delete sh.vars[a];
      return 0;
    case "set":
      return set(sh, args, io, line);
    case "cd": {
      const dir = sh.absolute(args[0] ?? sh.vars.HOME ?? "/");
      if (sh.host.stat(dir) !== "dir") {
        io.stderr(`sh: ${line}: cd: can't cd to ${args[0] ?? dir}\n`);
        return 2;
      }
      sh.cwd = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
      return 0;
    }
    case "pwd":
      io.stdout(`${sh.cwd}\n`);
      return 0;
    default:
      return 127;
  }
}

/** dash's echo: `-n` only, and backslash escapes are always interpreted. */
function echo(args: string[], io: ShellIo): number {
  let newline = true;
  if (args[0] === "-n") {
    newline = false;
    args = args.slice(1);
  }
  let out = args.join(" ");
  const cut = out.indexOf("\\c");
  if (cut >= 0) {
    out = out.slice(0, cut);
    newline = false;
  }
  out = out.replace(/\\(n|t|\\|r|a|b|f|v|0[0-7]{0,3})/g, (_m, e: string) => {
    switch (e) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "\\":
        return "\\";
      case "r":
        return "\r";
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
      default:
        return String.fromCharCode(parseInt(e.slice(1) || "0", 8));
    }
  });
  io.stdout(newline ? `${out}\n` : out);
  return 0;
}

function printf(args: string[], io: ShellIo, line: number): number {
  const [format, ...rest] = args;
  if (format === undefined) {
    io.stderr(`sh: ${line}: printf: usage: printf format [arg ...]\n`);
    return 2;
  }
  let i = 0;
  let status = 0;
  const pad = (v: string, flags: string, width: string): string => {
    const w = Number(width || "0");
    if (v.length >= w) return v;
    if (flags.includes("-")) return v.padEnd(w);
    return v.padStart(w, flags.includes("0") && /^-?\d+$/.test(v) ? "0" : " ");
  };
  const once = (): string =>
    format.replace(
      /%%|%([-0 +#]*)(\d*)(?:\.(\d+))?([sdiuxXcb])|\\([ntr\\"']|0[0-7]{0,3})/g,
      (m, flags?: string, width?: string, prec?: string, conv?: string, esc?: string) => {
        if (m === "%%") return "%";
        if (esc !== undefined) {
          if (esc === "n") return "\n";
          if (esc === "t") return "\t";
          if (esc === "r") return "\r";
          if (esc.startsWith("0")) return String.fromCharCode(parseInt(esc.slice(1) || "0", 8));
          return esc;
        }
        const v = rest[i++] ?? "";
        if (conv === "s" || conv === "b" || conv === "c") {
          let t =
            conv === "c" ? v.slice(0, 1) : conv === "b" ? v.replace(/\\n/g, "\n").replace(/\\t/g, "\t") : v;
          if (prec !== undefined) t = t.slice(0, Number(prec));
          return pad(t, flags ?? "", width ?? "");
        }
        let n = 0;
        if (v !== "") {
          if (/^[-+]?\d+$/.test(v.trim())) n = Number.parseInt(v, 10);
          else if (/^'./.test(v) || /^"./.test(v)) n = v.charCodeAt(1);
          else {
            io.stderr(`sh: ${line}: printf: ${v}: expected numeric value\n`);
            status = 1;
            n = Number.parseInt(v, 10) || 0;
          }
        }
        const text = conv === "x" ? n.toString(16) : conv === "X" ? n.toString(16).toUpperCase() : String(n);
        return pad(text, flags ?? "", width ?? "");
      },
    );
  let out = once();
  while (i < rest.length) out += once();
  io.stdout(out);
  return status;
}

function test(sh: ShellInterpreter, args: string[], io: ShellIo, line: number, name: string): number {
  try {
    return evalTest(sh, args) ? 0 : 1;
  } catch (e) {
    io.stderr(`sh: ${line}: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}

function evalTest(sh: ShellInterpreter, args: string[]): boolean {
  if (args.length === 0) return false;
  if (args[0] === "!") return !evalTest(sh, args.slice(1));
  if (args.length === 1) return args[0]!.length > 0;
  if (args.length === 2) {
    const [op, operand] = args as [string, string];
    const path = sh.absolute(operand);
    switch (op) {
      case "-e":
        return sh.host.stat(path) !== undefined;
      case "-f":
        return sh.host.stat(path) === "file";
      case "-d":
        return sh.host.stat(path) === "dir";
      case "-s":
        return sh.host.stat(path) === "file" && (sh.host.readFile(path) ?? "").length > 0;
      case "-r":
      case "-w":
        return sh.host.stat(path) !== undefined;
      case "-x":
        return sh.host.stat(path) === "dir" || sh.host.resolve(operand) !== undefined;
      case "-n":
        return operand.length > 0;
      case "-z":
        return operand.length === 0;
      default:
        throw new Error(`${op}: unexpected operator`);
    }
  }
  if (args.length === 3) {
    const [a, op, b] = args as [string, string, string];
    switch (op) {
      case "=":
        return a === b;
      case "!=":
        return a !== b;
      case "-eq":
      case "-ne":
      case "-gt":
      case "-lt":
      case "-ge":
      case "-le": {
        const x = Number(a);
        const y = Number(b);
        if (!/^-?\d+$/.test(a)) throw new Error(`Illegal number: ${a}`);
        if (!/^-?\d+$/.test(b)) throw new Error(`Illegal number: ${b}`);
        return op === "-eq"
          ? x === y
          : op === "-ne"
            ? x !== y
            : op === "-gt"
              ? x > y
              : op === "-lt"
                ? x < y
                : op === "-ge"
                  ? x >= y
                  : x <= y;
      }
      default:
        throw new Error(`${op}: unexpected operator`);
    }
  }
  throw new Error("too many arguments");
}

async function command(
  sh: ShellInterpreter,
  args: string[],
  shellIo: Io,
  line: number,
  env: Record<string, string>,
): Promise<number> {
  const io = programIo(shellIo);
  if (args[0] === "-v" || args[0] === "-V") {
    let status = 0;
    for (const name of args.slice(1)) {
      const path = lookup(sh, name);
      if (path === undefined) {
        if (args[0] === "-V") io.stderr(`${name}: not found\n`);
        status = 127;
      } else if (args[0] === "-v") io.stdout(`${path}\n`);
      else io.stdout(`${describe(sh, name, path)}\n`);
    }
    return status === 0 ? 0 : args[0] === "-v" ? 1 : 127;
  }
  if (args.length === 0) return 0;
  if (isBuiltin(args[0]!)) return runBuiltin(sh, args, shellIo, line, env);
  return sh.runExternal(args, env, shellIo, line);
}

/** What `command -v` prints for a name: itself for keywords, functions and builtins, else its path. */
function lookup(sh: ShellInterpreter, name: string): string | undefined {
  if (KEYWORDS.has(name) || sh.functions.has(name) || isBuiltin(name)) return name;
  if (name.includes("/")) return sh.host.stat(sh.absolute(name)) === "file" ? name : undefined;
  return sh.host.resolve(name);
}

function describe(sh: ShellInterpreter, name: string, path: string): string {
  if (KEYWORDS.has(name)) return `${name} is a shell keyword`;
  if (sh.functions.has(name)) return `${name} is a shell function`;
  if (isBuiltin(name)) return `${name} is a shell builtin`;
  return sh.hashed.has(name) ? `${name} is a tracked alias for ${path}` : `${name} is ${path}`;
}

/** dash's `type`: one line per name on stdout, `NAME: not found` (exit 127) for unknown ones. */
function type(sh: ShellInterpreter, args: string[], io: ShellIo): number {
  let status = 0;
  for (const name of args) {
    const path = lookup(sh, name);
    if (path === undefined) {
      io.stdout(`${name}: not found\n`);
      status = 127;
    } else io.stdout(`${describe(sh, name, path)}\n`);
  }
  return status;
}

/**
 * dash's `hash`: remembers where each named program is (builtins and functions are skipped);
 * an unknown name prints `sh: N: hash: NAME: not found` and makes the status 1. `-r` forgets all;
 * no operand lists the remembered paths.
 */
function hash(sh: ShellInterpreter, args: string[], io: ShellIo, line: number): number {
  if (args.length === 0) {
    for (const path of sh.hashed.values()) io.stdout(`${path}\n`);
    return 0;
  }
  let status = 0;
  for (const name of args) {
    if (name === "-r") {
      sh.hashed.clear();
      continue;
    }
    if (name === "-v") continue;
    if (isBuiltin(name) || sh.functions.has(name)) continue;
    const path = name.includes("/")
      ? sh.host.stat(sh.absolute(name)) === "file"
        ? name
        : undefined
      : sh.host.resolve(name);
    if (path === undefined) {
      io.stderr(`sh: ${line}: hash: ${name}: not found\n`);
      status = 1;
      continue;
    }
    if (!name.includes("/")) sh.hashed.set(name, path);
  }
  return status;
}

/**
 * `read [-r] [-p prompt] NAME…`: one line from the shared input, split on IFS, the rest of the
 * line to the last name. Exit 1 at end of input (the names still get what was there).
 */
function read(sh: ShellInterpreter, args: string[], io: Io, line: number): number {
  let raw = false;
  let i = 0;
  for (; i < args.length && args[i]!.startsWith("-"); i++) {
    const a = args[i]!;
    if (a === "-r") raw = true;
    else if (a === "-p") i++;
    else {
      io.stderr(`sh: ${line}: read: Illegal option ${a}\n`);
      return 2;
    }
  }
  const names = args.slice(i);
  if (names.length === 0) {
    io.stderr(`sh: ${line}: read: arg count\n`);
    return 2;
  }
  const inp = io.input;
  let text = "";
  let eof = false;
  for (;;) {
    if (inp.pos >= inp.text.length) {
      eof = true;
      break;
    }
    const nl = inp.text.indexOf("\n", inp.pos);
    const end = nl < 0 ? inp.text.length : nl;
    let chunk = inp.text.slice(inp.pos, end);
    inp.pos = nl < 0 ? inp.text.length : nl + 1;
    if (nl < 0) eof = true;
    if (!raw && chunk.endsWith("\\") && nl >= 0) {
      text += chunk.slice(0, -1);
      continue;
    }
    if (!raw) chunk = chunk.replace(/\\(.)/g, "$1");
    text += chunk;
    break;
  }
  const ifs = sh.vars.IFS ?? " \t\n";
  const white: string[] = [...ifs].filter((c) => c === " " || c === "\t" || c === "\n");
  const isWhite = (c: string): boolean => white.includes(c);
  const isSep = (c: string): boolean => ifs.includes(c);
  let rest = text;
  const trimWhite = (t: string): string => {
    let a = 0;
    let b = t.length;
    while (a < b && isWhite(t[a]!)) a++;
    while (b > a && isWhite(t[b - 1]!)) b--;
    return t.slice(a, b);
  };
  rest = trimWhite(rest);
  names.forEach((name, idx) => {
    if (idx === names.length - 1) {
      sh.vars[name] = rest;
      rest = "";
      return;
    }
    let j = 0;
    while (j < rest.length && !isSep(rest[j]!)) j++;
    sh.vars[name] = rest.slice(0, j);
    rest = rest.slice(j);
    // one separator (and the IFS whitespace around it)
    let k = 0;
    while (k < rest.length && isWhite(rest[k]!)) k++;
    if (k < rest.length && isSep(rest[k]!) && !isWhite(rest[k]!)) k++;
    rest = trimWhite(rest.slice(k));
  });
  return eof && text === "" ? 1 : eof ? 1 : 0;
}

/** `trap ACTION EXIT` runs ACTION when the script ends; other signals are accepted and never come. */
function trap(sh: ShellInterpreter, args: string[], io: ShellIo, line: number): number {
  if (args.length === 0) {
    if (sh.exitTrap !== undefined) io.stdout(`trap -- '${sh.exitTrap.replace(/'/g, "'\\''")}' EXIT\n`);
    return 0;
  }
  const [action, ...signals] = args as [string, ...string[]];
  for (const s of signals) {
    const sig = s.toUpperCase().replace(/^SIG/, "");
    if (sig === "EXIT" || sig === "0") sh.exitTrap = action === "-" || action === "" ? undefined : action;
    else if (
      !["INT", "TERM", "HUP", "QUIT", "ERR", "USR1", "USR2", "PIPE", "1", "2", "3", "15"].includes(sig)
    ) {
      io.stderr(`sh: ${line}: trap: ${s}: bad trap\n`);
      return 1;
    }
  }
  return 0;
}

function set(sh: ShellInterpreter, args: string[], io: ShellIo, line: number): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      sh.positional = [sh.positional[0] ?? "sh", ...args.slice(i + 1)];
      return 0;
    }
    if (!/^[-+][a-zA-Z]+$/.test(a)) {
      sh.positional = [sh.positional[0] ?? "sh", ...args.slice(i)];
      return 0;
    }
    const on = a.startsWith("-");
    for (const flag of a.slice(1)) {
      if (flag === "e") sh.errexit = on;
      else if (flag === "u") sh.nounset = on;
      else if ("xfvnC".includes(flag)) continue;
      else if (flag === "o") {
        const opt = args[++i];
        if (opt === "errexit") sh.errexit = on;
        else if (opt === "nounset") sh.nounset = on;
        else if (opt === "pipefail" && sh.flavour === "bash") sh.pipefail = on;
        else if (opt === "xtrace" || opt === "noglob" || opt === "verbose") continue;
        else {
          // dash has no pipefail (before 0.5.13): `sh -c 'set -o pipefail'` fails on PVE 8; bash has it.
          io.stderr(`sh: ${line}: set: Illegal option -o ${opt ?? ""}\n`);
          return 2;
        }
      } else {
        io.stderr(`sh: ${line}: set: Illegal option ${on ? "-" : "+"}${flag}\n`);
        return 2;
      }
    }
  }
  return 0;
}
