import {
  ShellSyntaxError,
  type AndOr,
  type Pipeline,
  type Script,
  type SimpleCommand,
  type Word,
} from "./ast.js";
import { parseScript } from "./parser.js";
import { runBuiltin, isBuiltin } from "./builtins.js";
import { EXIT_HANGUP, ExitRequest, type ShellHost, type ShellIo } from "./types.js";

export { EXIT_HANGUP, ExitRequest, type ShellHost, type ShellIo } from "./types.js";

/**
 * Runs the subset of dash that contract 2 defines: sequences, and-or lists, pipelines (buffered),
 * env prefixes, parameters, redirections and a few builtins. Errors use dash's wording with the
 * shell name `sh` and the script line number (`sh: 1: foo: not found`).
 */
export class ShellInterpreter {
  status = 0;
  cwd = "/root";
  errexit = false;
  readonly vars: Record<string, string>;

  constructor(
    readonly host: ShellHost,
    vars: Record<string, string> = {},
    readonly positional: string[] = ["sh"],
  ) {
    this.vars = {
      HOME: "/root",
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...vars,
    };
  }

  /** Parses and runs a command string; a syntax error exits 2 with `sh: syntax error: …` on stderr. */
  async runString(src: string, io: ShellIo): Promise<number> {
    let script: Script;
    try {
      script = parseScript(src);
    } catch (e) {
      if (e instanceof ShellSyntaxError) {
        io.stderr(`sh: syntax error: ${e.message} (line ${e.line})\n`);
        this.status = 2;
        return 2;
      }
      throw e;
    }
    try {
      return await this.runScript(script, io);
    } catch (e) {
      if (e instanceof ExitRequest) {
        this.status = e.code;
        return e.code;
      }
      throw e;
    }
  }

  private async runScript(script: Script, io: ShellIo): Promise<number> {
    for (const andOr of script) {
      if (this.host.signal.aborted) return (this.status = EXIT_HANGUP);
      await this.runAndOr(andOr, io);
    }
    return this.status;
  }

  private async runAndOr(list: AndOr, io: ShellIo): Promise<void> {
    let status = await this.runPipeline(list.first, io);
    let lastWasCondition = list.rest.length > 0 || list.first.negate;
    for (const { op, pipeline } of list.rest) {
      if (this.host.signal.aborted) {
        this.status = EXIT_HANGUP;
        return;
      }
      if ((op === "&&" && status === 0) || (op === "||" && status !== 0)) {
        status = await this.runPipeline(pipeline, io);
        lastWasCondition = pipeline.negate;
      }
    }
    this.status = status;
    // `set -e` ignores failures on the left of && / || and negated pipelines, as POSIX says.
    if (this.errexit && status !== 0 && !lastWasCondition) throw new ExitRequest(status);
  }

  private async runPipeline(p: Pipeline, io: ShellIo): Promise<number> {
    let stdin = io.stdin;
    let status = 0;
    for (let i = 0; i < p.commands.length; i++) {
      const last = i === p.commands.length - 1;
      let captured = "";
      const stageIo: ShellIo = last
        ? { ...io, stdin }
        : { stdin, stdout: (t) => (captured += t), stderr: io.stderr };
      status = await this.runSimple(p.commands[i]!, stageIo);
      stdin = captured;
      if (this.host.signal.aborted) return (this.status = EXIT_HANGUP);
    }
    const result = p.negate ? (status === 0 ? 1 : 0) : status;
    this.status = result;
    return result;
  }

  /** Expands a word into fields: unquoted parameters are split on blanks, quoted text never is. */
  expand(word: Word): string[] {
    const fields: string[] = [];
    let cur = "";
    let have = false;
    for (const part of word.parts) {
      if (part.kind === "lit") {
        cur += part.text;
        have = true;
        continue;
      }
      const value = this.param(part.name);
      if (part.quoted) {
        cur += value;
        have = true;
        continue;
      }
      const pieces = value.split(/[ \t\n]+/);
      pieces.forEach((piece, idx) => {
        if (idx > 0) {
          if (have || cur.length > 0) fields.push(cur);
          cur = "";
          have = false;
        }
        if (piece.length > 0) {
          cur += piece;
          have = true;
        }
      });
    }
    if (have || cur.length > 0) fields.push(cur);
    return fields;
  }

  /** Expands a word without field splitting (assignment values, redirection targets). */
  expandOne(word: Word): string {
    return word.parts.map((p) => (p.kind === "lit" ? p.text : this.param(p.name))).join("");
  }

  private param(name: string): string {
    switch (name) {
      case "?":
        return String(this.status);
      case "$":
        return String(this.host.pid);
      case "#":
        return String(Math.max(0, this.positional.length - 1));
      case "!":
        return "";
      case "-":
        return this.errexit ? "e" : "";
      case "@":
      case "*":
        return this.positional.slice(1).join(" ");
      default:
        if (/^\d$/.test(name)) return this.positional[Number(name)] ?? "";
        return this.vars[name] ?? "";
    }
  }

  private async runSimple(cmd: SimpleCommand, io: ShellIo): Promise<number> {
    const argv = cmd.words.flatMap((w) => this.expand(w));
    const assigns = cmd.assigns.map((a) => [a.name, this.expandOne(a.value)] as const);
    const redirected = this.applyRedirects(cmd, io);
    if (typeof redirected === "number") return (this.status = redirected);
    const { io: cio, flush } = redirected;
    try {
      if (argv.length === 0) {
        for (const [k, v] of assigns) this.vars[k] = v;
        return (this.status = 0);
      }
      const env: Record<string, string> = { ...this.vars, PWD: this.cwd };
      for (const [k, v] of assigns) env[k] = v;
      if (isBuiltin(argv[0]!)) return (this.status = await runBuiltin(this, argv, cio, cmd.line));
      return (this.status = await this.host.run(argv, env, cio, cmd.line));
    } finally {
      flush();
    }
  }

  private applyRedirects(cmd: SimpleCommand, io: ShellIo): { io: ShellIo; flush: () => void } | number {
    type Out = (text: string) => void;
    const outs = new Map<number, Out | null>([
      [1, io.stdout],
      [2, io.stderr],
    ]);
    let stdin = io.stdin;
    const files: { path: string; content: string; append: boolean }[] = [];
    for (const r of cmd.redirects) {
      const target = this.expandOne(r.target);
      if (r.op === ">&" || r.op === "<&") {
        if (target === "-") {
          if (r.fd === 0) stdin = "";
          else outs.set(r.fd, null);
          continue;
        }
        if (!/^\d+$/.test(target)) {
          io.stderr(`sh: ${cmd.line}: Syntax error: Bad fd number\n`);
          return 2;
        }
        const n = Number(target);
        if (r.op === "<&" || r.fd === 0) continue;
        if (!outs.has(n)) {
          io.stderr(`sh: ${cmd.line}: ${n}: Bad file descriptor\n`);
          return 2;
        }
        outs.set(r.fd, outs.get(n) ?? null);
        continue;
      }
      if (r.op === "<") {
        if (target === "/dev/null") stdin = "";
        else {
          const content = this.host.readFile(this.absolute(target));
          if (content === undefined) {
            io.stderr(`sh: ${cmd.line}: cannot open ${target}: No such file\n`);
            return 2;
          }
          if (r.fd === 0) stdin = content;
        }
        continue;
      }
      // > >> >|
      if (target === "/dev/null") {
        outs.set(r.fd, null);
        continue;
      }
      if (target === "/dev/stdout" || target === "/dev/stderr") {
        outs.set(r.fd, outs.get(target === "/dev/stdout" ? 1 : 2) ?? null);
        continue;
      }
      const file = { path: this.absolute(target), content: "", append: r.op === ">>" };
      if (!this.host.writeFile(file.path, "", file.append)) {
        io.stderr(`sh: ${cmd.line}: cannot create ${target}: Directory nonexistent\n`);
        return 2;
      }
      files.push(file);
      outs.set(r.fd, (t) => (file.content += t));
    }
    const sink = (fd: number): Out => {
      const o = outs.get(fd);
      return o ?? (() => undefined);
    };
    return {
      io: { stdin, stdout: sink(1), stderr: sink(2) },
      flush: () => {
        for (const f of files) this.host.writeFile(f.path, f.content, true);
      },
    };
  }

  absolute(path: string): string {
    if (path.startsWith("/")) return path;
    return `${this.cwd === "/" ? "" : this.cwd}/${path}`;
  }
}
