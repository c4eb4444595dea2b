import { readFile, stat } from "node:fs/promises";
import { isAbsolute, resolve as resolvePath } from "node:path";
import type { SecretSource } from "../api/primitives.js";
import { RefitError, RetryableError, TerminalError, errorMessage } from "../errors.js";
import { SecretReason } from "./reasons.js";
import { Secret } from "./secret.js";

/**
 * Reads one key of a Kubernetes Secret. Resolves `undefined` when the Secret or the key does not
 * exist; rejects when the API cannot be asked (Kubernetes mode classifies those errors itself).
 */
export type KubeSecretReader = (namespace: string, name: string, key: string) => Promise<string | undefined>;

export interface SecretContext {
  /** Environment for `env` sources; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Present in Kubernetes mode only; without it a `secretKeyRef` cannot be resolved. */
  kubeSecretReader?: KubeSecretReader;
  /** Directory relative `file` paths are read from (the desired-state directory); default the cwd. */
  baseDir?: string;
  /** Namespace of the object holding the reference, for a `secretKeyRef` that names none. */
  namespace?: string;
}

/** Turns a secret reference into its value; what notification channels and SSH access are given. */
export type SecretResolver = (source: SecretSource) => Promise<Secret>;

/** Files larger than this are a wrong path, not a secret; refusing them keeps memory bounded. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Where a secret comes from, in words, without its value: safe for errors and logs. */
export function describeSecretSource(source: SecretSource, ctx: SecretContext = {}): string {
  if (source.file !== undefined) return `file ${filePath(source.file, ctx)}`;
  if (source.env !== undefined) return `environment variable ${source.env}`;
  if (source.secretKeyRef !== undefined) {
    const ref = source.secretKeyRef;
    return `key ${ref.key} of Secret ${ref.namespace ?? ctx.namespace ?? "default"}/${ref.name}`;
  }
  return "an empty secret reference";
}

function filePath(file: string, ctx: SecretContext): string {
  return isAbsolute(file) ? file : resolvePath(ctx.baseDir ?? process.cwd(), file);
}

function nonEmpty(value: string, source: SecretSource, ctx: SecretContext): Secret {
  if (value.length === 0) {
    throw new TerminalError(
      SecretReason.Empty,
      `The secret in ${describeSecretSource(source, ctx)} is empty; put the value there.`,
    );
  }
  return new Secret(value);
}

async function fromFile(file: string, source: SecretSource, ctx: SecretContext): Promise<Secret> {
  const path = filePath(file, ctx);
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new TerminalError(
        SecretReason.FileUnreadable,
        `Secret file ${path} is not a regular file; point the reference at the file holding the secret.`,
        { file: path },
      );
    }
    if (info.size > MAX_SECRET_FILE_BYTES) {
      throw new TerminalError(
        SecretReason.FileUnreadable,
        `Secret file ${path} is ${info.size} bytes, too large to be a secret (limit ${MAX_SECRET_FILE_BYTES}); check the path.`,
        { file: path },
      );
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof RefitError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new TerminalError(
        SecretReason.FileMissing,
        `Secret file ${path} does not exist; create it or fix the path in the reference.`,
        { file: path },
      );
    }
    // The OS message names the path and the problem, never the file's content.
    throw new TerminalError(
      SecretReason.FileUnreadable,
      `Secret file ${path} cannot be read (${code ?? errorMessage(err)}); check its permissions.`,
      { file: path },
    );
  }
  // Editors and `echo` end files with a newline that is not part of the secret.
  return nonEmpty(text.replace(/\r?\n$/, ""), source, ctx);
}

function fromEnv(name: string, source: SecretSource, ctx: SecretContext): Secret {
  const value = (ctx.env ?? process.env)[name];
  if (value === undefined) {
    throw new TerminalError(
      SecretReason.EnvMissing,
      `Environment variable ${name} is not set; set it in the controller's environment or use a file.`,
      { env: name },
    );
  }
  return nonEmpty(value, source, ctx);
}

async function fromKube(
  ref: NonNullable<SecretSource["secretKeyRef"]>,
  source: SecretSource,
  ctx: SecretContext,
): Promise<Secret> {
  if (ctx.kubeSecretReader === undefined) {
    throw new TerminalError(
      SecretReason.KeyRefUnsupported,
      `secretKeyRef needs Kubernetes mode; use file or env (reference to ${describeSecretSource(source, ctx)}).`,
      { secret: ref.name, key: ref.key },
    );
  }
  const namespace = ref.namespace ?? ctx.namespace ?? "default";
  let value: string | undefined;
  try {
    value = await ctx.kubeSecretReader(namespace, ref.name, ref.key);
  } catch (err) {
    if (err instanceof RefitError) throw err;
    throw new RetryableError(
      SecretReason.ReadFailed,
      `Reading Secret ${namespace}/${ref.name} failed: ${errorMessage(err)}; will retry.`,
      { namespace, secret: ref.name, key: ref.key },
      { cause: err },
    );
  }
  if (value === undefined) {
    throw new TerminalError(
      SecretReason.KeyMissing,
      `Secret ${namespace}/${ref.name} has no key ${ref.key} (or does not exist); create it or fix the reference.`,
      { namespace, secret: ref.name, key: ref.key },
    );
  }
  return nonEmpty(value, source, ctx);
}

/**
 * Resolves a secret reference to its value. Errors name where the secret was looked for (file path,
 * variable name, Secret and key) and never contain a value.
 */
export async function resolveSecret(source: SecretSource, ctx: SecretContext = {}): Promise<Secret> {
  if (source.file !== undefined) return fromFile(source.file, source, ctx);
  if (source.env !== undefined) return fromEnv(source.env, source, ctx);
  if (source.secretKeyRef !== undefined) return fromKube(source.secretKeyRef, source, ctx);
  throw new TerminalError(
    SecretReason.SourceEmpty,
    "A secret reference sets none of file, env or secretKeyRef; set exactly one.",
  );
}

/** A resolver bound to one context (environment, base directory, Kubernetes reader). */
export function secretResolver(ctx: SecretContext = {}): SecretResolver {
  return (source) => resolveSecret(source, ctx);
}
