import type { ShellInterpreter } from "./interpreter.js";
import { ExitRequest, type ShellIo } from "./types.js";

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
]);

export function isBuiltin(name: string): boolean {
  return BUILTINS.has(name);
}

export async function runBuiltin(
  sh: ShellInterpreter,
  argv: string[],
  io: ShellIo,
  line: number,
): Promise<number> {
  const [name, ...args] = argv as [string, ...string[]];
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
      return command(sh, args, io, line);
    case "export":
      for (const a of args) {
        const eq = a.indexOf("=");
        if (eq > 0) sh.vars[a.slice(0, eq)] = a.slice(eq + 1);
      }
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
  const once = (): string =>
    format.replace(/%%|%[-0-9]*[sdi]|\\n|\\t|\\\\/g, (m) => {
      if (m === "%%") return "%";
      if (m === "\\n") return "\n";
      if (m === "\\t") return "\t";
      if (m === "\\\\") return "\\";
      const v = rest[i++] ?? "";
      return m.endsWith("s") ? v : String(Number.parseInt(v || "0", 10));
    });
  let out = once();
  while (i < rest.length) out += once();
  io.stdout(out);
  return 0;
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

async function command(sh: ShellInterpreter, args: string[], io: ShellIo, line: number): Promise<number> {
  if (args[0] === "-v" || args[0] === "-V") {
    let status = 0;
    for (const name of args.slice(1)) {
      if (isBuiltin(name)) io.stdout(`${name}\n`);
      else {
        const path = name.includes("/")
          ? sh.host.stat(name) === "file"
            ? name
            : undefined
          : sh.host.resolve(name);
        if (path) io.stdout(`${path}\n`);
        else status = 127;
      }
    }
    return status === 0 ? 0 : args[0] === "-v" ? 1 : 127;
  }
  if (args.length === 0) return 0;
  if (isBuiltin(args[0]!)) return runBuiltin(sh, args, io, line);
  return sh.host.run(args, { ...sh.vars, PWD: sh.cwd }, io, line);
}

function set(sh: ShellInterpreter, args: string[], io: ShellIo, line: number): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-e") sh.errexit = true;
    else if (a === "+e") sh.errexit = false;
    else if (a === "-u" || a === "+u" || a === "-x" || a === "+x" || a === "-f" || a === "+f") continue;
    else if (a === "-o" || a === "+o") {
      const opt = args[++i];
      if (opt === "errexit") sh.errexit = a === "-o";
      else if (opt === "nounset" || opt === "xtrace" || opt === "noglob") continue;
      else {
        // dash has no pipefail (before 0.5.13): scripts that rely on it fail here, as they would on PVE 8.
        io.stderr(`sh: ${line}: set: Illegal option -o ${opt ?? ""}\n`);
        return 2;
      }
    } else {
      io.stderr(`sh: ${line}: set: Illegal option ${a}\n`);
      return 2;
    }
  }
  return 0;
}
