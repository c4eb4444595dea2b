import { ParseError } from "./errors.js";

/** JSON from a command, or a ParseError naming the runner and command. Empty output is `empty`. */
export function parseJson(runner: string, command: string, text: string, empty?: unknown): unknown {
  if (text.trim() === "" && empty !== undefined) return empty;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ParseError(runner, command, text, "it is not JSON");
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
