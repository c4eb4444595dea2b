import { pino, type DestinationStream, type LoggerOptions } from "pino";

/**
 * Fields that may hold secrets, wherever they appear in a log object. Secret values are read from
 * files, env or Secrets and must never reach a log line; this is the last line of defence.
 */
export const REDACTED_PATHS = [
  "password",
  "passphrase",
  "token",
  "secret",
  "privateKey",
  "authorization",
  "url",
  "*.password",
  "*.passphrase",
  "*.token",
  "*.secret",
  "*.privateKey",
  "*.authorization",
  "*.Authorization",
  "*.webhookUrl",
  "*.botToken",
  "headers.*",
  "*.headers.*",
];

/** The structured fields of one log line (cluster, node, vmid, plan, phase, err, …). */
export type LogFields = Record<string, unknown>;

/** One level of a logger: fields first, then the human message, as pino takes them. */
export type LogFn = (fields: LogFields, msg?: string) => void;

/**
 * The one logger type of Refit. Structural and pino-compatible: a pino logger (what createLogger
 * returns) is one, and so is a test's recorder. Code takes a Logger as a parameter instead of
 * creating one, so the CLI decides level, redaction and destination; `child` adds bindings (kind,
 * name, cluster, node, …) that every line of the child carries.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: LogFields): Logger;
}

export interface LoggerConfig {
  level?: string;
  /** Pretty, human output (default when stdout is a terminal). */
  pretty?: boolean;
  destination?: DestinationStream;
}

/** The process logger: one JSON line per event, secrets redacted, pretty on a terminal. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? process.env.REFIT_LOG_LEVEL ?? "info",
    base: { app: "refit" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = config.pretty ?? (config.destination === undefined && process.stdout.isTTY === true);
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,app" },
      },
    });
  }
  return config.destination ? pino(options, config.destination) : pino(options);
}

const drop: LogFn = () => undefined;

/** A logger that drops everything, for code paths that take an optional logger. */
export const silentLogger: Logger = {
  debug: drop,
  info: drop,
  warn: drop,
  error: drop,
  child: () => silentLogger,
};
