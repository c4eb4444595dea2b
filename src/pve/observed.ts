import { RefitError, errorMessage } from "../errors.js";

/**
 * One part of an observation: a value, or why it could not be obtained. Gates are fail-closed: a gate
 * that needs an unavailable part stays closed and quotes `reason` and `message`.
 */
export type Observed<T> = Available<T> | Unavailable;

export interface Available<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Unavailable {
  readonly ok: false;
  /** CamelCase reason (PveReason or the transport's reason). */
  readonly reason: string;
  /** For humans: what could not be read, where, and what to do. */
  readonly message: string;
  /** Whether observing again may succeed without a person changing something. */
  readonly retryable: boolean;
}

export function available<T>(value: T): Available<T> {
  return { ok: true, value };
}

export function unavailable(reason: string, message: string, retryable = true): Unavailable {
  return { ok: false, reason, message, retryable };
}

/** Turns a thrown error into an Unavailable, keeping a RefitError's reason. */
export function unavailableFrom(err: unknown): Unavailable {
  if (err instanceof RefitError) return unavailable(err.reason, err.message, err.retryable);
  return unavailable("Unexpected", errorMessage(err), true);
}

/** Runs `fn`, returning its value as Available or its error as Unavailable. */
export function observe<T>(fn: () => T): Observed<T> {
  try {
    return available(fn());
  } catch (err) {
    return unavailableFrom(err);
  }
}

/** Combines two observations; unavailable if either is (the first one's reason wins). */
export function both<A, B, R>(a: Observed<A>, b: Observed<B>, fn: (a: A, b: B) => R): Observed<R> {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return observe(() => fn(a.value, b.value));
}
