import type { Logger } from "../../src/log/logger.js";

/** A logger that keeps warnings and errors, to explain a failing assertion; the rest is dropped. */
export function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const keep =
    (level: string) =>
    (a: Record<string, unknown> | string, msg?: string): void => {
      lines.push(`${level} ${typeof a === "string" ? a : `${msg ?? ""} ${JSON.stringify(a)}`}`);
    };
  const log: Logger & { lines: string[] } = {
    lines,
    debug: () => undefined,
    info: () => undefined,
    warn: keep("warn"),
    error: keep("error"),
    child: () => log,
  };
  return log;
}

/** A CLI Io that records what a command printed. */
export function cliIo(): {
  io: { out: (l: string) => void; err: (l: string) => void };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}
