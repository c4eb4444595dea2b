/**
 * The slice of a pino logger the SSH layer uses. Callers pass their own (usually a pino child with
 * cluster/node bindings); nothing here creates a global logger. Objects logged here never hold key
 * material, passphrases or command arguments beyond the program name.
 */
export interface SshLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLogger: SshLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};
