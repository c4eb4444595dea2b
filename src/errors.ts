/**
 * Typed errors. Every failure Refit reports is either retryable (the world may change: a host is
 * unreachable, a lock is held, a command timed out) or terminal (retrying cannot help: the spec is
 * invalid, a command does not exist). Reconcilers retry the first with backoff and stop on the second.
 */

export type ErrorContext = Record<string, string | number | boolean | undefined>;

export abstract class RefitError extends Error {
  abstract readonly retryable: boolean;
  /** A stable CamelCase reason, usable as a condition reason. */
  readonly reason: string;
  readonly context: ErrorContext;

  constructor(reason: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
    this.context = context;
  }
}

/** The world may change: try again later (host unreachable, lock held, timeout, connection dropped). */
export class RetryableError extends RefitError {
  readonly retryable = true;
}

/** Retrying cannot help until a person changes something (invalid spec, missing command, refused host key). */
export class TerminalError extends RefitError {
  readonly retryable = false;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RefitError ? err.retryable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
