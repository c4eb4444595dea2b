/** The shell subset's syntax tree (contract 2). */

export type WordPart =
  { kind: "lit"; text: string; quoted: boolean } | { kind: "param"; name: string; quoted: boolean };

export interface Word {
  parts: WordPart[];
}

export type RedirectOp = ">" | ">>" | "<" | ">&" | "<&" | ">|";

export interface Redirect {
  fd: number;
  op: RedirectOp;
  target: Word;
}

export interface SimpleCommand {
  line: number;
  assigns: { name: string; value: Word }[];
  words: Word[];
  redirects: Redirect[];
}

export interface Pipeline {
  negate: boolean;
  commands: SimpleCommand[];
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
