/**
 * The one interface reconcilers use to read and write objects, with Kubernetes semantics so the same
 * reconcilers run against the file store and the Kubernetes API:
 *
 * - every stored object carries `uid`, `resourceVersion`, `generation` and `creationTimestamp`;
 * - `update` changes metadata and spec, `updateStatus` changes status only; both refuse a stale
 *   `resourceVersion` with a `ConflictError` (read again, recompute, write again);
 * - `generation` is bumped only when the spec changes, never by a status write;
 * - `create` and `update` ignore `status` (as a CRD with a status subresource does);
 * - deleting an owner deletes the objects whose owner references name it (by uid) and that have no
 *   other owner left; an object with finalizers is only marked (`deletionTimestamp`) until its
 *   finalizers are removed;
 * - writes that change nothing return the stored object and emit no event.
 */
import type { KindName, RefitObject, RefitObjectOf } from "../../src/api/kinds.js";
import { RetryableError, TerminalError } from "../../src/errors.js";

export interface ObjectKey {
  kind: KindName;
  /** "" in file mode. */
  namespace: string;
  name: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  type: WatchEventType;
  /** The object as committed; for DELETED, its last state. */
  object: RefitObject;
  /** For MODIFIED: the version it replaced, when the store knows it. */
  oldObject?: RefitObject;
}

export type WatchHandler = (event: WatchEvent) => void;

export interface ListOptions {
  /** Equality selector: every label given must be present with this value. */
  labels?: Record<string, string>;
  namespace?: string;
}

export interface WatchOptions {
  /** Only events for these kinds; default all. */
  kinds?: readonly KindName[];
}

export interface ObjectStore {
  /** The object, or undefined when there is none (a missing object is not an error for a reader). */
  get<K extends KindName>(kind: K, namespace: string, name: string): Promise<RefitObjectOf<K> | undefined>;
  list<K extends KindName>(kind: K, options?: ListOptions): Promise<RefitObjectOf<K>[]>;
  /** Calls `handler` for every committed change, in commit order; returns the unsubscribe function. */
  watch(handler: WatchHandler, options?: WatchOptions): () => void;
  /** Throws AlreadyExistsError, ReadOnlyError, InvalidObjectError, NotFoundError (owner missing). */
  create<T extends RefitObject>(obj: T): Promise<T>;
  /** Metadata (labels, annotations, finalizers, owner references) and spec. Throws ConflictError. */
  update<T extends RefitObject>(obj: T): Promise<T>;
  /** Status only; records `status.observedRevision` where the store knows one. Throws ConflictError. */
  updateStatus<T extends RefitObject>(obj: T): Promise<T>;
  /** Throws NotFoundError, ReadOnlyError. */
  delete(kind: KindName, namespace: string, name: string): Promise<void>;
}

export function keyString(key: ObjectKey): string {
  return `${key.kind}/${key.namespace}/${key.name}`;
}

export function keyOf(obj: RefitObject): ObjectKey {
  return { kind: obj.kind, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name };
}

/** `Kind/name`, or `Kind/namespace/name` when namespaced: how messages name an object. */
export function describeKey(key: ObjectKey): string {
  return key.namespace ? `${key.kind}/${key.namespace}/${key.name}` : `${key.kind}/${key.name}`;
}

/** Someone else wrote the object since it was read: read it again, recompute, write again. */
export class ConflictError extends RetryableError {
  constructor(key: ObjectKey, expected: string | undefined, actual: string | undefined) {
    super(
      "Conflict",
      `${describeKey(key)} was changed by someone else (resourceVersion ${expected ?? "none"} given, ${actual ?? "none"} stored); read it again and retry`,
      { kind: key.kind, name: key.name },
    );
  }
}

/** Retryable: a reconcile that raced a deletion runs again, finds the object gone and stops. */
export class NotFoundError extends RetryableError {
  constructor(key: ObjectKey, message = `${describeKey(key)} does not exist`) {
    super("NotFound", message, {
      kind: key.kind,
      name: key.name,
    });
  }
}

/** Retryable: the reconcile runs again and finds the existing object. */
export class AlreadyExistsError extends RetryableError {
  constructor(key: ObjectKey) {
    super("AlreadyExists", `${describeKey(key)} already exists; read it and update it instead`, {
      kind: key.kind,
      name: key.name,
    });
  }
}

/** The object is declared in desired-state files: only a person editing those files may change it. */
export class ReadOnlyError extends TerminalError {
  constructor(key: ObjectKey, message: string) {
    super("ReadOnly", message, { kind: key.kind, name: key.name });
  }
}

/** The object does not satisfy its schema: a bug in whoever built it. */
export class InvalidObjectError extends TerminalError {
  constructor(what: ObjectKey | string, problems: string) {
    const label = typeof what === "string" ? what : describeKey(what);
    super(
      "Invalid",
      `${label} is invalid: ${problems}`,
      typeof what === "string" ? {} : { kind: what.kind, name: what.name },
    );
  }
}
