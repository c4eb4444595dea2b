import {
  ShellSyntaxError,
  type AndOr,
  type Command,
  type Pipeline,
  type Redirect,
  type Script,
  type SimpleCommand,
  type Word,
  type WordPart,
} from "./ast.js";
import { evalArith } from "./arith.js";
import { parseScript } from "./parser.js";
import { runBuiltin, isBuiltin } from "./builtins.js";
import {
  EXIT_HANGUP,
  ExitRequest,
  LoopControl,
  ReturnRequest,
  type ShellHost,
  type ShellIo,
} from "./types.js";

export { EXIT_HANGUP, ExitRequest, type ShellHost, type ShellIo } from "./types.js";

/** Standard input as the shell sees it: one cursor shared by every command that reads it. */
export interface Input {
  text: string;
  pos: number;
}

/** The interpreter's streams: input is consumed by whoever reads it (`read` a line, a program all). */
export interface Io {
  input: Input;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export function input(text: string): Input {
  return { text, pos: 0 };
}

/** The ShellIo a program or builtin gets: reading `stdin` takes whatever input is left. */
export function programIo(io: Io): ShellIo {
  return {
    get stdin(): string {
      const rest = io.input.text.slice(io.input.pos);
      io.input.pos = io.input.text.length;
      return rest;
    },
    stdout: io.stdout,
    stderr: io.stderr,
  };
}

type FunctionBody = Exclude<Command, SimpleCommand | { kind: "function" }>;

/**
 * Which shell this is: `dash` (/bin/sh) or `bash` (root's login shell, so what sshd runs an exec
 * request with). The subset is the same; bash also has `set -o pipefail`. Messages are dash's.
 */
export type ShellFlavour = "dash" | "bash";

/**
 * Runs the subset of dash that contract 2 defines: lists, and-or lists, pipelines (buffered, each
 * stage in turn), `if`/`for`/`while`/`until`/`case`, `{ }` and `( )`, functions, env prefixes, parameters
 * with `${x:-…}` forms, command substitution, arithmetic, redirections, here-documents and the
 * builtins in builtins.ts. Errors use dash's wording with the shell name `sh` and the script line
 * number (`sh: 1: foo: not found`).
 */
export class ShellInterpreter {
  status = 0;
  cwd = "/root";
  errexit = false;
  /** `set -u`: expanding an unset parameter is an error that ends the script. */
  nounset = false;
  /** `set -o pipefail` (bash): a pipeline fails with its last failing stage. */
  pipefail = false;
  /** The script line of the command being expanded or run (for messages). */
  line = 1;
  readonly vars: Record<string, string>;
  readonly functions = new Map<string, FunctionBody>();
  /** Names `hash` remembered (dash's command hash table). */
  readonly hashed = new Map<string, string>();
  /** The `trap … EXIT` action. */
  exitTrap: string | undefined;
  /** > 0 while running a condition (if/while/until, left of && ||, after !): `set -e` is off. */
  private conditionDepth = 0;
  private loopDepth = 0;
  private localFrames: Map<string, string | undefined>[] = [];
  /** The shell's own stdout/stderr: `exec >file 2>&1` replaces them for the rest of the script. */
  private fds: { out: (t: string) => void; err: (t: string) => void } | undefined;
  /** Status of the last command substitution, which is an assignment-only command's status. */
  private substStatus: number | undefined;

  constructor(
    readonly host: ShellHost,
    vars: Record<string, string> = {},
    public positional: string[] = ["sh"],
    readonly flavour: ShellFlavour = "dash",
  ) {
    this.vars = {
      HOME: "/root",
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...vars,
    };
  }

  /** Parses and runs a command string; a syntax error exits 2 with `sh: syntax error: …` on stderr. */
  async runString(src: string, io: ShellIo): Promise<number> {
    const fds = { out: io.stdout, err: io.stderr };
    this.fds = fds;
    const root: Io = { input: input(io.stdin), stdout: (t) => fds.out(t), stderr: (t) => fds.err(t) };
    let script: Script;
    try {
      script = parseScript(src);
    } catch (e) {
      if (e instanceof ShellSyntaxError) {
        root.stderr(`sh: syntax error: ${e.message} (line ${e.line})\n`);
        this.status = 2;
        return 2;
      }
      throw e;
    }
    const code = await this.runTop(script, root);
    return this.runExitTrap(code, root);
  }

  /** The EXIT trap runs with `$?` the script's status; only an `exit` inside it changes that status. */
  private async runExitTrap(code: number, io: Io): Promise<number> {
    const trap = this.exitTrap;
    this.exitTrap = undefined;
    if (trap === undefined || this.host.signal.aborted) return code;
    let trapScript: Script;
    try {
      trapScript = parseScript(trap);
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      io.stderr(`sh: syntax error: ${e.message} (line ${e.line})\n`);
      return code;
    }
    this.status = code;
    this.exitedInTrap = false;
    const after = await this.runTop(trapScript, io, true);
    return this.exitedInTrap ? after : (this.status = code);
  }

  private exitedInTrap = false;

  private async runTop(script: Script, io: Io, inTrap = false): Promise<number> {
    try {
      return await this.runList(script, io);
    } catch (e) {
      if (e instanceof ExitRequest) {
        this.status = e.code;
        if (inTrap) this.exitedInTrap = true;
        return e.code;
      }
      if (e instanceof ReturnRequest) {
        // `return` outside a function: dash ends the script with that status.
        this.status = e.code;
        return e.code;
      }
      if (e instanceof LoopControl) return this.status;
      throw e;
    }
  }

  async runList(script: Script, io: Io): Promise<number> {
    for (const andOr of script) {
      if (this.host.signal.aborted) return (this.status = EXIT_HANGUP);
      await this.runAndOr(andOr, io);
    }
    return this.status;
  }

  /** Runs a list as a condition: `set -e` does not apply inside it. */
  private async runCondition(script: Script, io: Io): Promise<number> {
    this.conditionDepth++;
    try {
      return await this.runList(script, io);
    } finally {
      this.conditionDepth--;
    }
  }

  private async runAndOr(list: AndOr, io: Io): Promise<void> {
    const items = [{ op: "&&" as const, pipeline: list.first }, ...list.rest];
    let status = 0;
    let lastWasCondition = false;
    for (let i = 0; i < items.length; i++) {
      const { op, pipeline } = items[i]!;
      if (i > 0 && !((op === "&&" && status === 0) || (op === "||" && status !== 0))) continue;
      if (this.host.signal.aborted) {
        this.status = EXIT_HANGUP;
        return;
      }
      // POSIX: `set -e` ignores failures on the left of && / || and of negated pipelines.
      const condition = i < items.length - 1 || pipeline.negate;
      if (condition) this.conditionDepth++;
      try {
        status = await this.runPipeline(pipeline, io);
      } finally {
        if (condition) this.conditionDepth--;
      }
      lastWasCondition = condition;
    }
    this.status = status;
    if (this.errexit && this.conditionDepth === 0 && status !== 0 && !lastWasCondition)
      throw new ExitRequest(status);
  }

  private async runPipeline(p: Pipeline, io: Io): Promise<number> {
    let stdin = io.input;
    let status = 0;
    for (let i = 0; i < p.commands.length; i++) {
      const last = i === p.commands.length - 1;
      let captured = "";
      const stageIo: Io = last
        ? { ...io, input: stdin }
        : { input: stdin, stdout: (t) => (captured += t), stderr: io.stderr };
      const cmd = p.commands[i]!;
      // Every stage of a multi-command pipeline runs in a subshell, as in dash.
      let stageStatus: number;
      if (p.commands.length > 1) stageStatus = await this.subshell((sh) => sh.runCommand(cmd, stageIo));
      else stageStatus = await this.runCommand(cmd, stageIo);
      status = this.pipefail && stageStatus === 0 && i > 0 ? status : stageStatus;
      stdin = input(captured);
      if (this.host.signal.aborted) return (this.status = EXIT_HANGUP);
    }
    const result = p.negate ? (status === 0 ? 1 : 0) : status;
    this.status = result;
    return result;
  }

  /** A copy of this shell for `( )`, `$( )` and pipeline stages: nothing it changes comes back. */
  private async subshell(body: (sh: ShellInterpreter) => Promise<number>): Promise<number> {
    const child = new ShellInterpreter(this.host, { ...this.vars }, [...this.positional], this.flavour);
    child.cwd = this.cwd;
    child.errexit = this.errexit;
    child.nounset = this.nounset;
    child.pipefail = this.pipefail;
    child.line = this.line;
    child.status = this.status;
    for (const [k, v] of this.functions) child.functions.set(k, v);
    for (const [k, v] of this.hashed) child.hashed.set(k, v);
    try {
      return await body(child);
    } catch (e) {
      if (e instanceof ExitRequest) return e.code;
      if (e instanceof ReturnRequest) return e.code;
      if (e instanceof LoopControl) return child.status;
      throw e;
    }
  }

  async runCommand(cmd: Command, io: Io): Promise<number> {
    if (cmd.kind === "simple") return this.runSimple(cmd, io);
    if (cmd.kind === "function") {
      this.functions.set(cmd.name, cmd.body as FunctionBody);
      return (this.status = 0);
    }
    const redirected = await this.applyRedirects(cmd.redirects, cmd.line, io);
    if (typeof redirected === "number") return (this.status = redirected);
    const { io: cio, flush } = redirected;
    try {
      return (this.status = await this.runCompound(cmd, cio));
    } finally {
      flush();
    }
  }

  private async runCompound(cmd: FunctionBody, io: Io): Promise<number> {
    switch (cmd.kind) {
      case "group":
        return this.runList(cmd.body, io);
      case "case": {
        const subject = await this.expandOne(cmd.subject, io);
        for (const item of cmd.items) {
          for (const p of item.patterns) {
            const rx = new RegExp(`^(?:${await this.patternOf(p, io)})$`);
            if (rx.test(subject)) return this.runList(item.body, io);
          }
        }
        return 0;
      }
      case "subshell":
        return this.subshell((sh) => sh.runList(cmd.body, io));
      case "if": {
        for (const clause of cmd.clauses) {
          if ((await this.runCondition(clause.cond, io)) === 0) return this.runList(clause.body, io);
        }
        if (cmd.otherwise) return this.runList(cmd.otherwise, io);
        return 0;
      }
      case "for": {
        const items = cmd.items
          ? (await Promise.all(cmd.items.map((w) => this.expand(w, io)))).flat()
          : this.positional.slice(1);
        let status = 0;
        for (const item of items) {
          this.vars[cmd.name] = item;
          const r = await this.loopBody(cmd.body, io);
          status = r.status;
          if (r.stop) break;
        }
        return status;
      }
      case "while":
      case "until": {
        let status = 0;
        for (;;) {
          if (this.host.signal.aborted) return EXIT_HANGUP;
          const c = await this.runCondition(cmd.cond, io);
          if (cmd.kind === "while" ? c !== 0 : c === 0) break;
          const r = await this.loopBody(cmd.body, io);
          status = r.status;
          if (r.stop) break;
        }
        return status;
      }
    }
  }

  private async loopBody(body: Script, io: Io): Promise<{ status: number; stop: boolean }> {
    this.loopDepth++;
    try {
      return { status: await this.runList(body, io), stop: false };
    } catch (e) {
      if (!(e instanceof LoopControl)) throw e;
      if (e.levels > 1) {
        e.levels--;
        throw e;
      }
      return { status: 0, stop: e.kind === "break" };
    } finally {
      this.loopDepth--;
    }
  }

  get inLoop(): boolean {
    return this.loopDepth > 0;
  }

  async callFunction(name: string, args: string[], io: Io): Promise<number> {
    const body = this.functions.get(name)!;
    const saved = this.positional;
    this.positional = [saved[0] ?? "sh", ...args];
    this.localFrames.push(new Map());
    const savedLoop = this.loopDepth;
    this.loopDepth = 0;
    try {
      return await this.runCommand(body, io);
    } catch (e) {
      if (e instanceof ReturnRequest) return (this.status = e.code);
      throw e;
    } finally {
      this.loopDepth = savedLoop;
      this.positional = saved;
      const frame = this.localFrames.pop()!;
      for (const [k, v] of frame) {
        if (v === undefined) delete this.vars[k];
        else this.vars[k] = v;
      }
    }
  }

  /** `local NAME[=value]`: restored when the function returns. */
  makeLocal(name: string): boolean {
    const frame = this.localFrames[this.localFrames.length - 1];
    if (!frame) return false;
    if (!frame.has(name)) frame.set(name, this.vars[name]);
    return true;
  }

  /** Expands a word into fields: unquoted expansions are split on IFS, quoted text never is. */
  async expand(word: Word, io: Io): Promise<string[]> {
    const fields: string[] = [];
    let cur = "";
    let have = false;
    const ifs = this.vars.IFS ?? " \t\n";
    const parts = this.tilde(word.parts);
    for (const part of parts) {
      if (part.kind === "lit") {
        cur += part.text;
        have = true;
        continue;
      }
      if (part.kind === "param" && part.name === "@" && part.quoted && !part.op) {
        // "$@": one field per positional parameter.
        const args = this.positional.slice(1);
        args.forEach((a, idx) => {
          if (idx > 0) {
            fields.push(cur);
            cur = "";
          }
          cur += a;
          have = true;
        });
        continue;
      }
      const value = await this.partValue(part, io);
      if (part.quoted) {
        cur += value;
        have = true;
        continue;
      }
      const re = ifsPattern(ifs);
      const pieces = re ? value.split(re) : [value];
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
    if (have) fields.push(cur);
    return fields;
  }

  /** Expands a word without field splitting (assignment values, redirection targets, here-documents). */
  async expandOne(word: Word, io: Io): Promise<string> {
    let out = "";
    for (const p of this.tilde(word.parts)) out += p.kind === "lit" ? p.text : await this.partValue(p, io);
    return out;
  }

  private tilde(parts: WordPart[]): WordPart[] {
    const first = parts[0];
    if (first?.kind !== "lit" || first.quoted || !first.text.startsWith("~")) return parts;
    if (first.text !== "~" && !first.text.startsWith("~/")) return parts;
    return [{ ...first, text: (this.vars.HOME ?? "/root") + first.text.slice(1) }, ...parts.slice(1)];
  }

  private async partValue(part: Exclude<WordPart, { kind: "lit" }>, io: Io): Promise<string> {
    if (part.kind === "cmdsub") {
      let captured = "";
      const subIo: Io = { input: input(""), stdout: (t) => (captured += t), stderr: io.stderr };
      const status = await this.subshell((sh) => sh.runList(part.script, subIo));
      this.substStatus = status;
      this.status = status;
      return captured.replace(/\n+$/, "");
    }
    if (part.kind === "arith") {
      const expr = await this.expandOne(part.expr, io);
      try {
        return String(evalArith(expr, this.vars));
      } catch (e) {
        io.stderr(`sh: 1: arithmetic expression: ${e instanceof Error ? e.message : String(e)}: "${expr}"\n`);
        throw new ExitRequest(2);
      }
    }
    const set = this.isSet(part.name);
    const usesValue = part.op === undefined || ["#", "#p", "##", "%", "%%"].includes(part.op);
    if (!set && this.nounset && usesValue && part.name !== "@" && part.name !== "*") {
      io.stderr(`sh: ${this.line}: ${part.name}: parameter not set\n`);
      throw new ExitRequest(2);
    }
    const value = this.param(part.name);
    switch (part.op) {
      case undefined:
        return value;
      case "#":
        return String(value.length);
      case ":-":
      case "-":
        return (part.op === ":-" ? value !== "" : set) ? value : await this.expandOne(part.operand!, io);
      case ":=":
      case "=": {
        if (part.op === ":=" ? value !== "" : set) return value;
        const v = await this.expandOne(part.operand!, io);
        this.vars[part.name] = v;
        return v;
      }
      case ":+":
      case "+":
        return (part.op === ":+" ? value !== "" : set) ? await this.expandOne(part.operand!, io) : "";
      case "#p":
      case "##":
      case "%":
      case "%%":
        return trimPattern(value, await this.patternOf(part.operand!, io), part.op);
      case "/":
      case "//": {
        if (this.flavour !== "bash") {
          io.stderr(`sh: ${this.line}: Bad substitution\n`);
          throw new ExitRequest(2);
        }
        let pattern = await this.patternOf(part.operand!, io);
        const replacement = await this.expandOne(part.replacement ?? { parts: [] }, io);
        let anchor = "";
        if (pattern.startsWith("#")) [anchor, pattern] = ["^", pattern.slice(1)];
        else if (pattern.startsWith("%")) [anchor, pattern] = ["$", pattern.slice(1)];
        if (pattern === "") return value;
        const rx = new RegExp(
          anchor === "^" ? `^(?:${pattern})` : anchor === "$" ? `(?:${pattern})$` : pattern,
          part.op === "//" && !anchor ? "g" : "",
        );
        return value.replace(rx, () => replacement);
      }
      case ":?":
      case "?": {
        if (part.op === ":?" ? value !== "" : set) return value;
        const msg = (await this.expandOne(part.operand!, io)) || "parameter not set";
        io.stderr(`sh: 1: ${part.name}: ${msg}\n`);
        throw new ExitRequest(2);
      }
    }
  }

  /** A pattern word as a regex source: quoted characters are literal, unquoted `* ? [..]` glob. */
  private async patternOf(word: Word, io: Io): Promise<string> {
    let src = "";
    for (const p of word.parts) {
      const text = p.kind === "lit" ? p.text : await this.partValue(p, io);
      if (p.quoted) src += text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      else src += globToRegex(text);
    }
    return src;
  }

  private isSet(name: string): boolean {
    if (/^\d$/.test(name)) return Number(name) < this.positional.length;
    if (/^[A-Za-z_]/.test(name)) return this.vars[name] !== undefined;
    return true;
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
        return `${this.errexit ? "e" : ""}${this.nounset ? "u" : ""}`;
      case "@":
      case "*":
        return this.positional.slice(1).join(" ");
      default:
        if (/^\d+$/.test(name)) return this.positional[Number(name)] ?? "";
        return this.vars[name] ?? "";
    }
  }

  private async runSimple(cmd: SimpleCommand, io: Io): Promise<number> {
    this.substStatus = undefined;
    this.line = cmd.line;
    const argv: string[] = [];
    for (const w of cmd.words) argv.push(...(await this.expand(w, io)));
    const assigns: [string, string][] = [];
    for (const a of cmd.assigns) assigns.push([a.name, await this.expandOne(a.value, io)]);
    if (argv[0] === "exec" && argv.length === 1) return (this.status = await this.execRedirects(cmd, io));
    const redirected = await this.applyRedirects(cmd.redirects, cmd.line, io);
    if (typeof redirected === "number") return (this.status = redirected);
    const { io: cio, flush } = redirected;
    try {
      if (argv.length === 0) {
        for (const [k, v] of assigns) this.vars[k] = v;
        return (this.status = this.substStatus ?? 0);
      }
      const name = argv[0]!;
      if (this.functions.has(name) && !SPECIAL.has(name)) {
        const saved = assigns.map(([k]) => [k, this.vars[k]] as const);
        for (const [k, v] of assigns) this.vars[k] = v;
        try {
          return (this.status = await this.callFunction(name, argv.slice(1), cio));
        } finally {
          for (const [k, v] of saved) {
            if (v === undefined) delete this.vars[k];
            else this.vars[k] = v;
          }
        }
      }
      const env: Record<string, string> = { ...this.vars, PWD: this.cwd };
      for (const [k, v] of assigns) env[k] = v;
      if (isBuiltin(name)) {
        // Assignments before a special builtin stay in the shell (POSIX), before others they do not.
        if (SPECIAL.has(name)) for (const [k, v] of assigns) this.vars[k] = v;
        return (this.status = await runBuiltin(this, argv, cio, cmd.line, env));
      }
      return (this.status = await this.runExternal(argv, env, cio, cmd.line));
    } finally {
      flush();
    }
  }

  async runExternal(argv: string[], env: Record<string, string>, io: Io, line: number): Promise<number> {
    return this.host.run(argv, env, programIo(io), line);
  }

  /** `exec` without a command: its redirections apply to the shell itself from now on. */
  private async execRedirects(cmd: SimpleCommand, io: Io): Promise<number> {
    const fds = this.fds;
    if (!fds) return 0;
    for (const r of cmd.redirects) {
      const target = await this.expandOne(r.target, io);
      if (r.fd !== 1 && r.fd !== 2) continue;
      const set = (f: (t: string) => void): void => {
        if (r.fd === 1) fds.out = f;
        else fds.err = f;
      };
      if (r.op === ">&") {
        if (target === "-") set(() => undefined);
        else if (target === "1" || target === "2") set(target === "1" ? fds.out : fds.err);
        continue;
      }
      if (r.op === ">" || r.op === ">>" || r.op === ">|") {
        if (target === "/dev/null") {
          set(() => undefined);
          continue;
        }
        const path = this.absolute(target);
        if (!this.host.writeFile(path, "", r.op === ">>")) {
          io.stderr(`sh: ${cmd.line}: cannot create ${target}: Directory nonexistent\n`);
          if (this.errexit) throw new ExitRequest(2);
          return 2;
        }
        set((t) => void this.host.writeFile(path, t, true));
      }
    }
    return 0;
  }

  private async applyRedirects(
    redirects: Redirect[],
    line: number,
    io: Io,
  ): Promise<{ io: Io; flush: () => void } | number> {
    if (redirects.length === 0) return { io, flush: () => undefined };
    type Out = (text: string) => void;
    const outs = new Map<number, Out | null>([
      [1, io.stdout],
      [2, io.stderr],
    ]);
    let stdin = io.input;
    const files: { path: string; content: string }[] = [];
    for (const r of redirects) {
      if (r.op === "<<") {
        const body = await this.expandOne(r.body ?? { parts: [] }, io);
        if (r.fd === 0) stdin = input(body);
        continue;
      }
      const target = await this.expandOne(r.target, io);
      if (r.op === ">&" || r.op === "<&") {
        if (target === "-") {
          if (r.fd === 0) stdin = input("");
          else outs.set(r.fd, null);
          continue;
        }
        if (!/^\d+$/.test(target)) {
          io.stderr(`sh: ${line}: Syntax error: Bad fd number\n`);
          return 2;
        }
        const n = Number(target);
        if (r.op === "<&" || r.fd === 0) continue;
        if (!outs.has(n)) {
          io.stderr(`sh: ${line}: ${n}: Bad file descriptor\n`);
          return 2;
        }
        outs.set(r.fd, outs.get(n) ?? null);
        continue;
      }
      if (r.op === "<") {
        if (target === "/dev/null") stdin = input("");
        else {
          const content = this.host.readFile(this.absolute(target));
          if (content === undefined) {
            io.stderr(`sh: ${line}: cannot open ${target}: No such file\n`);
            return 2;
          }
          if (r.fd === 0) stdin = input(content);
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
      const file = { path: this.absolute(target), content: "" };
      if (!this.host.writeFile(file.path, "", r.op === ">>")) {
        io.stderr(`sh: ${line}: cannot create ${target}: Directory nonexistent\n`);
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
      io: { input: stdin, stdout: sink(1), stderr: sink(2) },
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

/** Unquoted glob text as a regex source (`*`, `?`, bracket expressions; the rest literal). */
function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) out += "\\[";
      else {
        const body = glob
          .slice(i + 1, close)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        out += `[${body}]`;
        i = close;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return out;
}

/** `${x#p}` `${x##p}` `${x%p}` `${x%%p}`: the shortest or longest match removed. */
function trimPattern(value: string, pattern: string, op: "#p" | "##" | "%" | "%%"): string {
  const rx = new RegExp(`^(?:${pattern})$`);
  if (op === "#p" || op === "##") {
    const order = [...Array(value.length + 1).keys()];
    for (const n of op === "#p" ? order : order.reverse())
      if (rx.test(value.slice(0, n))) return value.slice(n);
    return value;
  }
  const order = [...Array(value.length + 1).keys()].map((k) => value.length - k);
  for (const n of op === "%" ? order : order.reverse()) if (rx.test(value.slice(n))) return value.slice(0, n);
  return value;
}

/** POSIX special builtins: found before functions, and their assignments persist. */
const SPECIAL = new Set([
  ":",
  "exit",
  "export",
  "unset",
  "set",
  "shift",
  "return",
  "break",
  "continue",
  "exec",
  "eval",
  "trap",
  "readonly",
  ".",
]);

/** The regex that separates fields for this IFS (whitespace runs, or one other IFS character). */
function ifsPattern(ifs: string): RegExp | undefined {
  if (ifs === "") return undefined;
  const esc = (c: string): string => c.replace(/[\\\]^-]/g, "\\$&");
  const white = [...ifs]
    .filter((c) => c === " " || c === "\t" || c === "\n")
    .map(esc)
    .join("");
  const other = [...ifs]
    .filter((c) => c !== " " && c !== "\t" && c !== "\n")
    .map(esc)
    .join("");
  const w = white ? `[${white}]` : "";
  if (!other) return new RegExp(`${w}+`);
  return w ? new RegExp(`${w}*[${other}]${w}*|${w}+`) : new RegExp(`[${other}]`);
}
