/** The shell subset's syntax tree (contract 2). */

/**
 * `${NAME:-word}` and friends; `#` is `${#NAME}` (length); `#pat` `##pat` `%pat` `%%pat` remove
 * the shortest/longest matching prefix/suffix (ops `#p`, `##`, `%`, `%%`).
 */
export type ParamOp =
  | ":-"
  | "-"
  | ":="
  | "="
  | ":+"
  | "+"
  | ":?"
  | "?"
  | "#"
  | "#p"
  | "##"
  | "%"
  | "%%"
  /** bash's `${x/pat/repl}` and `${x//pat/repl}` (dash: Bad substitution). */
  | "/"
  | "//";

export type WordPart =
  | { kind: "lit"; text: string; quoted: boolean }
  | { kind: "param"; name: string; quoted: boolean; op?: ParamOp; operand?: Word; replacement?: Word }
  /** `$( … )` or backticks: runs in a subshell, trailing newlines dropped. */
  | { kind: "cmdsub"; script: Script; quoted: boolean }
  /** `$(( … ))`: the expression is expanded first, then evaluated. */
  | { kind: "arith"; expr: Word; quoted: boolean };

export interface Word {
  parts: WordPart[];
}

export type RedirectOp = ">" | ">>" | "<" | ">&" | "<&" | ">|" | "<<";

export interface Redirect {
  fd: number;
  op: RedirectOp;
  target: Word;
  /** The here-document's body (`<<`), already expanded-or-literal as its delimiter said. */
  body?: Word;
}

export interface SimpleCommand {
  kind: "simple";
  line: number;
  assigns: { name: string; value: Word }[];
  words: Word[];
  redirects: Redirect[];
}

export interface IfCommand {
  kind: "if";
  line: number;
  clauses: { cond: Script; body: Script }[];
  otherwise?: Script;
  redirects: Redirect[];
}

export interface ForCommand {
  kind: "for";
  line: number;
  name: string;
  /** undefined: `for x; do` iterates over "$@". */
  items?: Word[];
  body: Script;
  redirects: Redirect[];
}

export interface LoopCommand {
  kind: "while" | "until";
  line: number;
  cond: Script;
  body: Script;
  redirects: Redirect[];
}

export interface GroupCommand {
  kind: "group" | "subshell";
  line: number;
  body: Script;
  redirects: Redirect[];
}

export interface CaseCommand {
  kind: "case";
  line: number;
  subject: Word;
  items: { patterns: Word[]; body: Script }[];
  redirects: Redirect[];
}

export interface FunctionDef {
  kind: "function";
  line: number;
  name: string;
  body: Command;
}

export type Command =
  SimpleCommand | IfCommand | ForCommand | LoopCommand | GroupCommand | CaseCommand | FunctionDef;

export interface Pipeline {
  negate: boolean;
  commands: Command[];
}

export interface AndOr {
  first: Pipeline;
  rest: { op: "&&" | "||"; pipeline: Pipeline }[];
}

/** A script is a list of and-or lists separated by `;` or newlines. */
export type Script = AndOr[];

export class ShellSyntaxError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(detail);
    this.name = "ShellSyntaxError";
  }
}
