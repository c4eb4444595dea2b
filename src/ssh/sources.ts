import { readFile } from "node:fs/promises";

/**
 * Where a key, a passphrase or a known_hosts file comes from. Read on every connect, so a rotated
 * file or Secret takes effect on the next connection without a restart. A Kubernetes Secret plugs in
 * as another implementation (`bytesSource("Secret refit/ssh key id_ed25519", data)`).
 */
export interface ByteSource {
  /** Names the source for people (a path, an env var name, a Secret key); never its content. */
  readonly description: string;
  read(): Promise<Buffer>;
}

/** Why a source could not be read; carries no content, only what a person needs to fix it. */
export class SourceReadError extends Error {
  constructor(
    readonly description: string,
    detail: string,
  ) {
    super(`${description}: ${detail}`);
    this.name = "SourceReadError";
  }
}

export function fileSource(path: string, what = "file"): ByteSource {
  return {
    description: `${what} ${path}`,
    async read() {
      try {
        return await readFile(path);
      } catch (err) {
        // Only the errno code is kept: fs messages are safe, but a code is all a person needs.
        const code = (err as NodeJS.ErrnoException).code ?? "read error";
        throw new SourceReadError(`${what} ${path}`, `cannot be read (${code})`);
      }
    },
  };
}

/** Bytes already in memory, e.g. a Secret's data field. */
export function bytesSource(description: string, data: Buffer | string): ByteSource {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  return { description, read: () => Promise.resolve(Buffer.from(bytes)) };
}

/** The value of an environment variable, read when needed (so tests and restarts see the current value). */
export function envSource(name: string, what = "environment variable"): ByteSource {
  return {
    description: `${what} ${name}`,
    read() {
      const value = process.env[name];
      if (value === undefined) {
        return Promise.reject(new SourceReadError(`${what} ${name}`, "is not set"));
      }
      return Promise.resolve(Buffer.from(value, "utf8"));
    },
  };
}
