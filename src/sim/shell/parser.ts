import {
  ShellSyntaxError,
  type AndOr,
  type Pipeline,
  type Redirect,
  type Script,
  type SimpleCommand,
  type Word,
} from "./ast.js";
import { plainText, tokenize, type Token } from "./lexer.js";

/** Compound-command keywords real sh has but the subset does not run. */
const RESERVED = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "case",
  "esac",
  "while",
  "until",
  "for",
  "{",
  "}",
  "in",
  "function",
  "select",
]);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Parses a command string into the subset's syntax tree or throws ShellSyntaxError. */
export function parseScript(src: string): Script {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const lineOf = (t: Token | undefined): number => t?.line ?? tokens[tokens.length - 1]?.line ?? 1;

  const describe = (t: Token | undefined): string => {
    if (!t) return "end of file";
    if (t.type === "op") return t.op === "newline" ? "newline" : `"${t.op}"`;
    if (t.type === "redir") return `"${t.op}"`;
    return `"${t.raw}"`;
  };

  const skipNewlines = (): void => {
    while (peek()?.type === "op" && (peek() as { op: string }).op === "newline") pos++;
  };

  const parseSimple = (): SimpleCommand => {
    const first = peek();
    const cmd: SimpleCommand = { line: lineOf(first), assigns: [], words: [], redirects: [] };
    for (;;) {
      const t = peek();
      if (!t || t.type === "op") break;
      if (t.type === "redir") {
        pos++;
        const target = peek();
        if (!target || target.type !== "word")
          throw new ShellSyntaxError(t.line, `redirection unexpected ${describe(target)}`);
        pos++;
        const fd = t.fd ?? (t.op === "<" || t.op === "<&" ? 0 : 1);
        cmd.redirects.push({ fd, op: t.op, target: target.word } satisfies Redirect);
        continue;
      }
      pos++;
      if (cmd.words.length === 0 && ASSIGNMENT.test(t.raw)) {
        const eq = t.raw.indexOf("=");
        cmd.assigns.push({ name: t.raw.slice(0, eq), value: stripPrefix(t.word, eq + 1) });
        continue;
      }
      if (cmd.words.length === 0) {
        const text = plainText(t.word);
        if (text !== undefined && RESERVED.has(text))
          throw new ShellSyntaxError(t.line, `"${text}" is not supported`);
      }
      cmd.words.push(t.word);
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirects.length === 0)
      throw new ShellSyntaxError(lineOf(peek()), `${describe(peek())} unexpected`);
    return cmd;
  };

  const parsePipeline = (): Pipeline => {
    let negate = false;
    const t = peek();
    if (t?.type === "word" && plainText(t.word) === "!") {
      negate = true;
      pos++;
    }
    const commands = [parseSimple()];
    for (;;) {
      const t2 = peek();
      if (t2?.type === "op" && t2.op === "|") {
        pos++;
        skipNewlines();
        commands.push(parseSimple());
        continue;
      }
      break;
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

  const script: Script = [];
  skipNewlines();
  while (pos < tokens.length) {
    script.push(parseAndOr());
    const t = peek();
    if (!t) break;
    if (t.type === "op" && (t.op === ";" || t.op === "newline")) {
      pos++;
      skipNewlines();
      continue;
    }
    throw new ShellSyntaxError(t.line, `${describe(t)} unexpected`);
  }
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
