import { ShellSyntaxError, type RedirectOp, type Word, type WordPart } from "./ast.js";
import { parseScript } from "./parser.js";

/**
 * Tokeniser for the POSIX shell subset of contract 2: words with single quotes, double quotes
 * (backslash escapes only `\ " $ \``, newline), backslash escapes, parameters (`$?`, `$NAME`,
 * `${NAME}`, `${NAME:-word}` …, `${#NAME}`), command substitution (`$( … )` and backticks),
 * arithmetic (`$(( … ))`), the operators `; ;; && || | ( )`, newlines, comments, redirections
 * `[n]> [n]>> [n]< [n]>&m [n]<&m` and here-documents (`<<WORD`, `<<-WORD`, `<<'WORD'`).
 * Constructs real sh has but the subset does not (`&`, `<>`) raise a syntax error instead of
 * being misread.
 */

export type Token =
  | { type: "word"; word: Word; raw: string; line: number }
  | { type: "op"; op: ";" | ";;" | "&&" | "||" | "|" | "newline" | "(" | ")"; line: number }
  | { type: "redir"; fd: number | undefined; op: RedirectOp; line: number; body?: Word };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_PARAMS = new Set("?$#0123456789!-@*".split(""));

interface PendingHeredoc {
  token: Extract<Token, { type: "redir" }>;
  strip: boolean;
  delimiter?: string;
  quoted?: boolean;
}

export function tokenize(src: string, startLine = 1): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = startLine;
  const heredocs: PendingHeredoc[] = [];
  let awaitingDelimiter: PendingHeredoc | undefined;

  const peek = (o = 0): string | undefined => src[i + o];

  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "\n") {
      if (awaitingDelimiter) throw new ShellSyntaxError(line, "missing here-document delimiter");
      tokens.push({ type: "op", op: "newline", line });
      line++;
      i++;
      if (heredocs.length > 0) {
        const r = readHeredocBodies(src, i, line, heredocs.splice(0));
        i = r.next;
        line = r.line;
      }
      continue;
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === ";") {
      if (peek(1) === ";") {
        tokens.push({ type: "op", op: ";;", line });
        i += 2;
        continue;
      }
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
    if (c === "(" || c === ")") {
      tokens.push({ type: "op", op: c, line });
      i++;
      continue;
    }
    let fd: number | undefined;
    let at = i;
    // An fd number directly followed by < or > is part of the redirection (2>&1).
    const fdMatch = /^(\d+)[<>]/.exec(src.slice(i, i + 12));
    if (fdMatch) {
      fd = Number(fdMatch[1]);
      at = i + fdMatch[1]!.length;
    }
    if (src[at] === "<" || src[at] === ">") {
      const r = readRedirOp(src, at, line);
      const token: Extract<Token, { type: "redir" }> = { type: "redir", fd, op: r.op, line };
      tokens.push(token);
      if (r.op === "<<") {
        awaitingDelimiter = { token, strip: r.strip };
        heredocs.push(awaitingDelimiter);
      }
      i = r.next;
      continue;
    }
    const w = readWord(src, i, line);
    const raw = src.slice(i, w.next);
    tokens.push({ type: "word", word: w.word, raw, line });
    if (awaitingDelimiter) {
      awaitingDelimiter.quoted = /['"\\]/.test(raw);
      awaitingDelimiter.delimiter = raw.replace(/\\(.)/g, "$1").replace(/['"]/g, "");
      awaitingDelimiter = undefined;
    }
    line = w.line;
    i = w.next;
  }
  if (awaitingDelimiter) throw new ShellSyntaxError(line, "missing here-document delimiter");
  // A here-document at the very end of the input without its newline: dash reads to EOF.
  if (heredocs.length > 0) readHeredocBodies(src, src.length, line, heredocs);
  return tokens;
}

function readHeredocBodies(
  src: string,
  start: number,
  startLine: number,
  pending: PendingHeredoc[],
): { next: number; line: number } {
  let i = start;
  let line = startLine;
  for (const h of pending) {
    const bodyLine = line;
    let body = "";
    for (;;) {
      if (i >= src.length) break;
      const nl = src.indexOf("\n", i);
      const end = nl < 0 ? src.length : nl;
      let text = src.slice(i, end);
      i = nl < 0 ? src.length : nl + 1;
      line++;
      if (h.strip) text = text.replace(/^\t+/, "");
      if (text === h.delimiter) break;
      body += `${text}\n`;
    }
    h.token.body = h.quoted
      ? { parts: [{ kind: "lit", text: body, quoted: true }] }
      : readQuoted(body, 0, bodyLine, "heredoc").word;
  }
  return { next: i, line };
}

function readRedirOp(src: string, i: number, line: number): { op: RedirectOp; next: number; strip: boolean } {
  const two = src.slice(i, i + 2);
  if (two === "<<") {
    if (src[i + 2] === "<") throw new ShellSyntaxError(line, "here-strings (<<<) are not supported");
    if (src[i + 2] === "-") return { op: "<<", next: i + 3, strip: true };
    return { op: "<<", next: i + 2, strip: false };
  }
  const op = (o: RedirectOp, n: number): { op: RedirectOp; next: number; strip: boolean } => ({
    op: o,
    next: i + n,
    strip: false,
  });
  if (two === ">>") return op(">>", 2);
  if (two === ">&") return op(">&", 2);
  if (two === "<&") return op("<&", 2);
  if (two === ">|") return op(">|", 2);
  if (two === "<>") throw new ShellSyntaxError(line, '"<>" is not supported');
  return op(src[i] === ">" ? ">" : "<", 1);
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

/** Index of the `)` that closes a `$(` whose body starts at `i` (quotes, escapes and nesting aware). */
function scanParen(src: string, i: number, line: number): number {
  let depth = 1;
  let j = i;
  while (j < src.length) {
    const c = src[j]!;
    if (c === "\\") {
      j += 2;
      continue;
    }
    if (c === "'") {
      const close = src.indexOf("'", j + 1);
      if (close < 0) break;
      j = close + 1;
      continue;
    }
    if (c === '"') {
      j++;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === "\\") j++;
        else if (src[j] === "$" && src[j + 1] === "(") j = scanParen(src, j + 2, line);
        else if (src[j] === "`") j = scanBacktick(src, j + 1, line);
        j++;
      }
      j++;
      continue;
    }
    if (c === "`") {
      j = scanBacktick(src, j + 1, line) + 1;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")" && --depth === 0) return j;
    j++;
  }
  throw new ShellSyntaxError(line, "Missing ')'");
}

/** Index of the backtick that closes one whose body starts at `i`. */
function scanBacktick(src: string, i: number, line: number): number {
  let j = i;
  while (j < src.length) {
    if (src[j] === "\\") j += 2;
    else if (src[j] === "`") return j;
    else j++;
  }
  throw new ShellSyntaxError(line, "EOF in backquote substitution");
}

function linesIn(text: string): number {
  return text.split("\n").length - 1;
}

function readDollar(
  src: string,
  i: number,
  line: number,
  quoted: boolean,
): { part: WordPart | undefined; next: number } {
  // src[i] === "$"
  const n = src[i + 1];
  if (n === "(" && src[i + 2] === "(") {
    const close = scanParen(src, i + 3, line);
    if (src[close + 1] !== ")") throw new ShellSyntaxError(line, "Missing '))'");
    const expr = readQuoted(src.slice(i + 3, close), 0, line, "arith").word;
    return { part: { kind: "arith", expr, quoted }, next: close + 2 };
  }
  if (n === "(") {
    const close = scanParen(src, i + 2, line);
    const script = parseScript(src.slice(i + 2, close), line);
    return { part: { kind: "cmdsub", script, quoted }, next: close + 1 };
  }
  if (n === "{") {
    let close = i + 2;
    let depth = 1;
    while (close < src.length) {
      if (src[close] === "\\") close++;
      else if (src[close] === "{") depth++;
      else if (src[close] === "}" && --depth === 0) break;
      close++;
    }
    if (close >= src.length) throw new ShellSyntaxError(line, "Missing '}'");
    const inner = src.slice(i + 2, close);
    const len = /^#([A-Za-z_][A-Za-z0-9_]*|[?$#0-9!@*-])$/.exec(inner);
    if (len) return { part: { kind: "param", name: len[1]!, quoted, op: "#" }, next: close + 1 };
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[?$#0-9!@*-])(?:(:?[-=+?]|##?|%%?|\/\/?)([\s\S]*))?$/.exec(inner);
    if (!m) throw new ShellSyntaxError(line, `\${${inner}}: Bad substitution`);
    const name = m[1]!;
    if (m[2]) {
      const op = m[2] === "#" ? "#p" : m[2];
      if (op === "/" || op === "//") {
        // pattern/replacement: the first unescaped slash separates them.
        const body = m[3]!;
        let cut = -1;
        for (let k = 0; k < body.length; k++) {
          if (body[k] === "\\") k++;
          else if (body[k] === "/") {
            cut = k;
            break;
          }
        }
        const pat = cut < 0 ? body : body.slice(0, cut);
        const rep = cut < 0 ? "" : body.slice(cut + 1);
        const operand = readQuoted(pat, 0, line, "operand").word;
        const replacement = readQuoted(rep, 0, line, quoted ? "dq-operand" : "operand").word;
        return { part: { kind: "param", name, quoted, op, operand, replacement }, next: close + 1 };
      }
      // A pattern stays a pattern inside double quotes; a word operand is quoted there.
      const pattern = op === "#p" || op === "##" || op === "%" || op === "%%";
      const operand = readQuoted(m[3]!, 0, line, quoted && !pattern ? "dq-operand" : "operand").word;
      return { part: { kind: "param", name, quoted, op: op as never, operand }, next: close + 1 };
    }
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

function readBacktick(
  src: string,
  i: number,
  line: number,
  quoted: boolean,
): { part: WordPart; next: number } {
  const close = scanBacktick(src, i + 1, line);
  // Inside backticks a backslash only escapes $ ` and \ (and " within double quotes).
  const body = src.slice(i + 1, close).replace(quoted ? /\\([$`\\"])/g : /\\([$`\\])/g, "$1");
  return { part: { kind: "cmdsub", script: parseScript(body, line), quoted }, next: close + 1 };
}

class PartBuilder {
  readonly parts: WordPart[] = [];
  private lit = "";
  private litQuoted = false;
  private forced = false;

  add(text: string, quoted: boolean): void {
    if (quoted !== this.litQuoted && this.lit.length > 0) this.flush();
    this.litQuoted = quoted;
    this.lit += text;
  }

  /** An empty quoted string still makes a (possibly empty) word. */
  markQuoted(): void {
    if (this.lit.length === 0) {
      this.litQuoted = true;
      this.forced = true;
    }
  }

  push(part: WordPart): void {
    this.flush();
    this.parts.push(part);
  }

  flush(): void {
    if (this.lit.length > 0 || this.forced)
      this.parts.push({ kind: "lit", text: this.lit, quoted: this.litQuoted });
    this.lit = "";
    this.litQuoted = false;
    this.forced = false;
  }
}

/**
 * Reads quoted-context text up to `"` (mode `dq`) or to the end (a here-document body, an
 * arithmetic expression, a `${x:-…}` operand). What a backslash escapes depends on the context.
 */
function readQuoted(
  src: string,
  start: number,
  startLine: number,
  mode: "dq" | "heredoc" | "arith" | "operand" | "dq-operand",
  into = new PartBuilder(),
): { word: Word; next: number; line: number } {
  let i = start;
  let line = startLine;
  const quoted = mode !== "operand";
  for (;;) {
    const d = src[i];
    if (d === undefined) {
      if (mode === "dq") throw new ShellSyntaxError(line, "Unterminated quoted string");
      break;
    }
    if (mode === "dq" && d === '"') {
      i++;
      break;
    }
    if (mode === "operand" && (d === "'" || d === '"')) {
      // ${x:-'a b'} — quotes inside an unquoted operand quote as usual.
      if (d === "'") {
        const close = src.indexOf("'", i + 1);
        if (close < 0) throw new ShellSyntaxError(line, "Unterminated quoted string");
        into.add(src.slice(i + 1, close), true);
        into.markQuoted();
        i = close + 1;
      } else {
        const r = readQuoted(src, i + 1, line, "dq", into);
        i = r.next;
        line = r.line;
      }
      continue;
    }
    if (d === "`") {
      const p = readBacktick(src, i, line, quoted);
      into.push(p.part);
      line += linesIn(src.slice(i, p.next));
      i = p.next;
      continue;
    }
    if (d === "\\") {
      const n = src[i + 1];
      const escapes =
        mode === "dq" || mode === "dq-operand" ? '$`"\\' : mode === "operand" ? undefined : "$`\\";
      if (n === "\n") {
        line++;
        i += 2;
      } else if (n !== undefined && (escapes === undefined || escapes.includes(n))) {
        into.add(n, true);
        i += 2;
      } else {
        into.add("\\", quoted);
        i++;
      }
      continue;
    }
    if (d === "$") {
      const p = readDollar(src, i, line, quoted);
      if (p.part) into.push(p.part);
      else into.add("$", quoted);
      line += linesIn(src.slice(i, p.next));
      i = p.next;
      continue;
    }
    if (d === "\n") line++;
    into.add(d, quoted);
    i++;
  }
  if (mode === "dq") return { word: { parts: [] }, next: i, line };
  into.flush();
  return { word: { parts: into.parts }, next: i, line };
}

function readWord(src: string, start: number, startLine: number): { word: Word; next: number; line: number } {
  const b = new PartBuilder();
  let line = startLine;
  let i = start;
  while (!isWordEnd(src[i])) {
    const c = src[i]!;
    if (c === "`") {
      const p = readBacktick(src, i, line, false);
      b.push(p.part);
      line += linesIn(src.slice(i, p.next));
      i = p.next;
      continue;
    }
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) {
        b.add("\\", false);
        i++;
      } else if (n === "\n") {
        line++;
        i += 2;
      } else {
        b.add(n, true);
        i += 2;
      }
      continue;
    }
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) throw new ShellSyntaxError(line, "Unterminated quoted string");
      const text = src.slice(i + 1, close);
      line += linesIn(text);
      b.add(text, true);
      b.markQuoted();
      i = close + 1;
      continue;
    }
    if (c === '"') {
      b.markQuoted();
      const r = readQuoted(src, i + 1, line, "dq", b);
      i = r.next;
      line = r.line;
      continue;
    }
    if (c === "$") {
      const p = readDollar(src, i, line, false);
      if (p.part) b.push(p.part);
      else b.add("$", false);
      line += linesIn(src.slice(i, p.next));
      i = p.next;
      continue;
    }
    b.add(c, false);
    i++;
  }
  b.flush();
  return { word: { parts: b.parts }, next: i, line };
}

/** The literal text of a word when it has no expansions and no quoting (for reserved-word checks). */
export function plainText(word: Word): string | undefined {
  if (word.parts.length !== 1) return undefined;
  const p = word.parts[0]!;
  return p.kind === "lit" && !p.quoted ? p.text : undefined;
}
