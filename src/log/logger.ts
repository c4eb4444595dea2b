import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

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

export type { Logger };

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

/** A logger that drops everything, for code paths that take an optional logger. */
export const silentLogger: Logger = pino({ level: "silent" });
