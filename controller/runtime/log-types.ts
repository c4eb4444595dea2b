/**
 * The slice of pino the runtime needs. The runtime takes a logger as a parameter instead of
 * creating one, so the CLI decides level, redaction and destination, and tests can record lines.
 */
export interface LogFn {
  (fields: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything; for callers that have nothing to say it to. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
