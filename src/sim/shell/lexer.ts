import { ShellSyntaxError, type RedirectOp, type Word, type WordPart } from "./ast.js";

/**
 * Tokeniser for the POSIX shell subset of contract 2: words with single quotes, double quotes
 * (backslash escapes only `\ " $ \``, newline), backslash escapes, `$?`/`$NAME`/`${NAME}`, the
 * operators `; && || |`, newlines, comments, and redirections `[n]> [n]>> [n]< [n]>&m [n]<&m`.
 * Constructs real sh has but the subset does not (`$(…)`, backticks, `&`, `( )`, here-documents)
 * raise a syntax error instead of being misread.
 */

export type Token =
  | { type: "word"; word: Word; raw: string; line: number }
  | { type: "op"; op: ";" | "&&" | "||" | "|" | "newline"; line: number }
  | { type: "redir"; fd: number | undefined; op: RedirectOp; line: number };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_PARAMS = new Set([
  "?",
  "$",
  "#",
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "!",
  "-",
  "@",
  "*",
]);

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;

  const peek = (o = 0): string | undefined => src[i + o];

  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "\n") {
      tokens.push({ type: "op", op: "newline", line });
      line++;
      i++;
      continue;
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === ";") {
      if (peek(1) === ";") throw new ShellSyntaxError(line, '";;" unexpected');
      tokens.push({ type: "op", op: ";", line });
      i++;
      continue;
    }
    if (c === "&") {
      if (peek(1) === "&") {
        tokens.push({ type: "op", op: "&&", line });
        i += 2;
        continue;
      }
      throw new ShellSyntaxError(line, "background jobs (&) are not supported");
    }
    if (c === "|") {
      if (peek(1) === "|") {
        tokens.push({ type: "op", op: "||", line });
        i += 2;
      } else {
        tokens.push({ type: "op", op: "|", line });
        i++;
      }
      continue;
    }
    if (c === "(" || c === ")") throw new ShellSyntaxError(line, `"${c}" unexpected`);
    if (c === "<" || c === ">") {
      const r = readRedirOp(src, i, line);
      tokens.push({ type: "redir", fd: undefined, op: r.op, line });
      i = r.next;
      continue;
    }
    // An fd number directly followed by < or > is part of the redirection (2>&1).
    const fdMatch = /^(\d+)[<>]/.exec(src.slice(i, i + 12));
    if (fdMatch) {
      const fd = Number(fdMatch[1]);
      const r = readRedirOp(src, i + fdMatch[1]!.length, line);
      tokens.push({ type: "redir", fd, op: r.op, line });
      i = r.next;
      continue;
    }
    const w = readWord(src, i, line);
    tokens.push({ type: "word", word: w.word, raw: src.slice(i, w.next), line });
    line = w.line;
    i = w.next;
  }
  return tokens;
}

function readRedirOp(src: string, i: number, line: number): { op: RedirectOp; next: number } {
  const two = src.slice(i, i + 2);
  if (two === "<<") throw new ShellSyntaxError(line, "here-documents are not supported");
  if (two === ">>") return { op: ">>", next: i + 2 };
  if (two === ">&") return { op: ">&", next: i + 2 };
  if (two === "<&") return { op: "<&", next: i + 2 };
  if (two === ">|") return { op: ">|", next: i + 2 };
  if (two === "<>") throw new ShellSyntaxError(line, '"<>" is not supported');
  return { op: src[i] === ">" ? ">" : "<", next: i + 1 };
}

function isWordEnd(c: string | undefined): boolean {
  return (
    c === undefined ||
    c === " " ||
    c === "\t" ||
    c === "\n" ||
    c === ";" ||
    c === "&" ||
    c === "|" ||
    c === "<" ||
    c === ">" ||
    c === "(" ||
    c === ")"
  );
}

function readParam(
  src: string,
  i: number,
  line: number,
  quoted: boolean,
): { part: WordPart | undefined; next: number } {
  // src[i] === "$"
  const n = src[i + 1];
  if (n === "(") throw new ShellSyntaxError(line, "command substitution $( ) is not supported");
  if (n === "{") {
    const close = src.indexOf("}", i + 2);
    if (close < 0) throw new ShellSyntaxError(line, "missing }");
    const name = src.slice(i + 2, close);
    if (!/^([A-Za-z_][A-Za-z0-9_]*|[?$#0-9!])$/.test(name))
      throw new ShellSyntaxError(line, `\${${name}} bad substitution`);
    return { part: { kind: "param", name, quoted }, next: close + 1 };
  }
  if (n !== undefined && SPECIAL_PARAMS.has(n))
    return { part: { kind: "param", name: n, quoted }, next: i + 2 };
  if (n !== undefined && NAME_START.test(n)) {
    let j = i + 1;
    while (j < src.length && NAME_CHAR.test(src[j]!)) j++;
    return { part: { kind: "param", name: src.slice(i + 1, j), quoted }, next: j };
  }
  return { part: undefined, next: i + 1 };
}

function readWord(src: string, start: number, startLine: number): { word: Word; next: number; line: number } {
  const parts: WordPart[] = [];
  let lit = "";
  let litQuoted = false;
  let line = startLine;
  const flush = (): void => {
    if (lit.length > 0 || litQuoted) parts.push({ kind: "lit", text: lit, quoted: litQuoted });
    lit = "";
    litQuoted = false;
  };
  const addLit = (text: string, quoted: boolean): void => {
    if (quoted !== litQuoted && lit.length > 0) flush();
    litQuoted = quoted;
    lit += text;
  };

  let i = start;
  while (!isWordEnd(src[i])) {
    const c = src[i]!;
    if (c === "`") throw new ShellSyntaxError(line, "command substitution with backticks is not supported");
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) {
        addLit("\\", false);
        i++;
      } else if (n === "\n") {
        line++;
        i += 2;
      } else {
        addLit(n, true);
        i += 2;
      }
      continue;
    }
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) throw new ShellSyntaxError(line, "Unterminated quoted string");
      const text = src.slice(i + 1, close);
      line += text.split("\n").length - 1;
      addLit(text, true);
      // An empty '' still makes a (possibly empty) word.
      if (text.length === 0) litQuoted = true;
      i = close + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let sawAnything = false;
      for (;;) {
        const d = src[i];
        if (d === undefined) throw new ShellSyntaxError(line, "Unterminated quoted string");
        if (d === '"') {
          i++;
          break;
        }
        if (d === "`")
          throw new ShellSyntaxError(line, "command substitution with backticks is not supported");
        if (d === "\\") {
          const n = src[i + 1];
          if (n === "$" || n === "`" || n === '"' || n === "\\") {
            addLit(n, true);
            i += 2;
          } else if (n === "\n") {
            line++;
            i += 2;
          } else {
            addLit("\\", true);
            i++;
          }
          sawAnything = true;
          continue;
        }
        if (d === "$") {
          const p = readParam(src, i, line, true);
          if (p.part) {
            flush();
            parts.push(p.part);
          } else addLit("$", true);
          i = p.next;
          sawAnything = true;
          continue;
        }
        if (d === "\n") line++;
        addLit(d, true);
        sawAnything = true;
        i++;
      }
      if (!sawAnything) {
        if (lit.length === 0) litQuoted = true;
        else if (!litQuoted) {
          flush();
          litQuoted = true;
        }
      }
      continue;
    }
    if (c === "$") {
      const p = readParam(src, i, line, false);
      if (p.part) {
        flush();
        parts.push(p.part);
      } else addLit("$", false);
      i = p.next;
      continue;
    }
    addLit(c, false);
    i++;
  }
  flush();
  return { word: { parts }, next: i, line };
}

/** The literal text of a word when it has no expansions and no quoting (for reserved-word checks). */
export function plainText(word: Word): string | undefined {
  if (word.parts.length !== 1) return undefined;
  const p = word.parts[0]!;
  return p.kind === "lit" && !p.quoted ? p.text : undefined;
}
