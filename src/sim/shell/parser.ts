import {
  ShellSyntaxError,
  type AndOr,
  type Command,
  type ForCommand,
  type IfCommand,
  type Pipeline,
  type Redirect,
  type Script,
  type SimpleCommand,
  type Word,
} from "./ast.js";
import { plainText, tokenize, type Token } from "./lexer.js";

/** Reserved words that end a list (the parser stops there and the compound command takes them). */
const CLOSERS = new Set(["then", "else", "elif", "fi", "do", "done", "}", "in", "esac"]);
/** Compound-command keywords real sh has but the subset does not run. */
const UNSUPPORTED = new Set(["select", "function", "[[", "]]"]);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a command string into the subset's syntax tree or throws ShellSyntaxError. */
export function parseScript(src: string, startLine = 1): Script {
  const tokens = tokenize(src, startLine);
  let pos = 0;
  const peek = (o = 0): Token | undefined => tokens[pos + o];
  const lineOf = (t: Token | undefined): number => t?.line ?? tokens[tokens.length - 1]?.line ?? startLine;

  const describe = (t: Token | undefined): string => {
    if (!t) return "end of file";
    if (t.type === "op") return t.op === "newline" ? "newline" : `"${t.op}"`;
    if (t.type === "redir") return `"${t.op}"`;
    return `"${t.raw}"`;
  };
  const unexpected = (t: Token | undefined): never => {
    throw new ShellSyntaxError(lineOf(t), `${describe(t)} unexpected`);
  };
  const isOp = (t: Token | undefined, op: string): boolean => t?.type === "op" && t.op === op;
  const keyword = (t: Token | undefined): string | undefined =>
    t?.type === "word" ? plainText(t.word) : undefined;

  const skipNewlines = (): void => {
    while (isOp(peek(), "newline")) pos++;
  };

  const expectWord = (word: string): void => {
    const t = peek();
    if (keyword(t) !== word) {
      if (!t) throw new ShellSyntaxError(lineOf(t), `end of file unexpected (expecting "${word}")`);
      unexpected(t);
    }
    pos++;
  };

  /** A list up to a closing reserved word or `)`; `nonEmpty` as dash requires inside compounds. */
  const parseList = (closeParen: boolean, nonEmpty: boolean): Script => {
    const list: Script = [];
    skipNewlines();
    for (;;) {
      const t = peek();
      if (!t) break;
      if (closeParen && isOp(t, ")")) break;
      if (isOp(t, ";;")) break;
      const kw = keyword(t);
      if (kw !== undefined && CLOSERS.has(kw)) break;
      list.push(parseAndOr());
      const n = peek();
      if (isOp(n, ";") || isOp(n, "newline")) {
        pos++;
        skipNewlines();
        continue;
      }
      break;
    }
    if (nonEmpty && list.length === 0) unexpected(peek());
    return list;
  };

  const parseRedirect = (): Redirect => {
    const t = peek() as Extract<Token, { type: "redir" }>;
    pos++;
    const target = peek();
    if (!target || target.type !== "word")
      throw new ShellSyntaxError(t.line, `redirection unexpected ${describe(target)}`);
    pos++;
    const fd = t.fd ?? (t.op === "<" || t.op === "<&" || t.op === "<<" ? 0 : 1);
    const r: Redirect = { fd, op: t.op, target: target.word };
    if (t.op === "<<") r.body = t.body ?? { parts: [] };
    return r;
  };

  const trailingRedirects = (): Redirect[] => {
    const out: Redirect[] = [];
    while (peek()?.type === "redir") out.push(parseRedirect());
    return out;
  };

  const parseSimple = (): SimpleCommand => {
    const first = peek();
    const cmd: SimpleCommand = { kind: "simple", line: lineOf(first), assigns: [], words: [], redirects: [] };
    for (;;) {
      const t = peek();
      if (!t || t.type === "op") break;
      if (t.type === "redir") {
        cmd.redirects.push(parseRedirect());
        continue;
      }
      pos++;
      if (cmd.words.length === 0 && ASSIGNMENT.test(t.raw)) {
        const eq = t.raw.indexOf("=");
        cmd.assigns.push({ name: t.raw.slice(0, eq), value: stripPrefix(t.word, eq + 1) });
        continue;
      }
      cmd.words.push(t.word);
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirects.length === 0) unexpected(peek());
    if (isOp(peek(), "(")) unexpected(peek());
    return cmd;
  };

  const parseIf = (line: number): IfCommand => {
    const clauses: IfCommand["clauses"] = [];
    let otherwise: Script | undefined;
    for (;;) {
      const cond = parseList(false, true);
      expectWord("then");
      const body = parseList(false, true);
      clauses.push({ cond, body });
      const kw = keyword(peek());
      if (kw === "elif") {
        pos++;
        continue;
      }
      if (kw === "else") {
        pos++;
        otherwise = parseList(false, true);
      }
      expectWord("fi");
      break;
    }
    return { kind: "if", line, clauses, otherwise, redirects: [] };
  };

  const parseFor = (line: number): ForCommand => {
    const nameTok = peek();
    const name = keyword(nameTok);
    if (name === undefined || !NAME.test(name))
      throw new ShellSyntaxError(lineOf(nameTok), "Bad for loop variable");
    pos++;
    let items: Word[] | undefined;
    skipNewlines();
    if (keyword(peek()) === "in") {
      pos++;
      items = [];
      for (;;) {
        const t = peek();
        if (t?.type !== "word") break;
        items.push(t.word);
        pos++;
      }
      if (isOp(peek(), ";") || isOp(peek(), "newline")) pos++;
      else unexpected(peek());
    } else if (isOp(peek(), ";")) pos++;
    skipNewlines();
    expectWord("do");
    const body = parseList(false, true);
    expectWord("done");
    return { kind: "for", line, name, items, body, redirects: [] };
  };

  const parseCommand = (): Command => {
    const t = peek();
    const kw = keyword(t);
    const line = lineOf(t);
    let cmd: Command;
    if (isOp(t, "(")) {
      pos++;
      const body = parseList(true, true);
      if (!isOp(peek(), ")")) unexpected(peek());
      pos++;
      cmd = { kind: "subshell", line, body, redirects: [] };
    } else if (kw === "if") {
      pos++;
      cmd = parseIf(line);
    } else if (kw === "for") {
      pos++;
      cmd = parseFor(line);
    } else if (kw === "while" || kw === "until") {
      pos++;
      const cond = parseList(false, true);
      expectWord("do");
      const body = parseList(false, true);
      expectWord("done");
      cmd = { kind: kw, line, cond, body, redirects: [] };
    } else if (kw === "case") {
      pos++;
      const subj = peek();
      if (subj?.type !== "word") unexpected(subj);
      pos++;
      skipNewlines();
      expectWord("in");
      const items: { patterns: Word[]; body: Script }[] = [];
      for (;;) {
        skipNewlines();
        if (keyword(peek()) === "esac") {
          pos++;
          break;
        }
        if (isOp(peek(), "(")) pos++;
        const patterns: Word[] = [];
        for (;;) {
          const p = peek();
          if (p?.type !== "word") unexpected(p);
          patterns.push((p as Extract<Token, { type: "word" }>).word);
          pos++;
          if (isOp(peek(), "|")) {
            pos++;
            continue;
          }
          break;
        }
        if (!isOp(peek(), ")")) unexpected(peek());
        pos++;
        const body = parseList(false, false);
        items.push({ patterns, body });
        if (isOp(peek(), ";;")) {
          pos++;
          continue;
        }
        skipNewlines();
        expectWord("esac");
        break;
      }
      cmd = {
        kind: "case",
        line,
        subject: (subj as Extract<Token, { type: "word" }>).word,
        items,
        redirects: [],
      };
    } else if (kw === "{") {
      pos++;
      const body = parseList(false, true);
      expectWord("}");
      cmd = { kind: "group", line, body, redirects: [] };
    } else if (kw !== undefined && CLOSERS.has(kw)) {
      return unexpected(t);
    } else if (kw !== undefined && UNSUPPORTED.has(kw)) {
      throw new ShellSyntaxError(line, `"${kw}" is not supported`);
    } else if (kw !== undefined && NAME.test(kw) && isOp(peek(1), "(")) {
      // NAME ( ) compound-command
      pos += 2;
      if (!isOp(peek(), ")")) unexpected(peek());
      pos++;
      skipNewlines();
      const body = parseCommand();
      if (body.kind === "simple" || body.kind === "function")
        throw new ShellSyntaxError(line, "Syntax error: function body must be a compound command");
      return { kind: "function", line, name: kw, body };
    } else {
      return parseSimple();
    }
    cmd.redirects = trailingRedirects();
    return cmd;
  };

  const parsePipeline = (): Pipeline => {
    let negate = false;
    if (keyword(peek()) === "!") {
      negate = true;
      pos++;
    }
    const commands = [parseCommand()];
    while (isOp(peek(), "|")) {
      pos++;
      skipNewlines();
      commands.push(parseCommand());
    }
    return { negate, commands };
  };

  const parseAndOr = (): AndOr => {
    const first = parsePipeline();
    const rest: AndOr["rest"] = [];
    for (;;) {
      const t = peek();
      if (t?.type === "op" && (t.op === "&&" || t.op === "||")) {
        pos++;
        skipNewlines();
        rest.push({ op: t.op, pipeline: parsePipeline() });
        continue;
      }
      break;
    }
    return { first, rest };
  };

  const script = parseList(false, false);
  if (pos < tokens.length) unexpected(peek());
  return script;
}

/** Drops the first `n` characters of a word's text (the `NAME=` of an assignment). */
function stripPrefix(word: Word, n: number): Word {
  let remaining = n;
  const parts: Word["parts"] = [];
  for (const p of word.parts) {
    if (remaining > 0 && p.kind === "lit") {
      if (p.text.length <= remaining) {
        remaining -= p.text.length;
        continue;
      }
      parts.push({ ...p, text: p.text.slice(remaining) });
      remaining = 0;
      continue;
    }
    parts.push(p);
  }
  return { parts };
}
