/**
 * An object as the file store holds it: any kind, seen through the fields every kind shares, and
 * beside a desired object what the store knows about it (its spec hash, the file it came from, and
 * what it keeps while that file is invalid).
 */
import { isKindName, KINDS, type KindName, type RefitObject } from "../../src/api/kinds.js";
import { fieldPath } from "../../src/api/loader/issue.js";
import type { SourceLocation } from "../../src/api/loader/load.js";
import type { Condition, ObjectMeta } from "../../src/api/meta.js";
import { InvalidObjectError, keyOf, type ObjectKey } from "./store.js";

/** The status fields kinds share (and `refit status` shows); the rest are each kind's own. */
export type StoredStatus = Record<string, unknown> & {
  observedGeneration?: number;
  conditions?: Condition[];
  observedRevision?: string;
  phase?: string;
  phaseSince?: string;
  message?: string;
};

/** An object of any kind, as validated by its kind's schema. */
export interface StoredObject {
  apiVersion: string;
  kind: KindName;
  metadata: ObjectMeta;
  spec: Record<string, unknown>;
  status?: StoredStatus;
}

export interface DesiredInfo {
  specHash: string;
  source?: SourceLocation;
  /** Formatted issues while the object is kept at its last valid version. */
  issues?: string[];
  /** The Ready condition the reconciler last wrote, to restore when the issues are fixed. */
  readyBeforeInvalid?: Condition;
}

/** One object in force; `desired` is set for objects declared in the desired-state directory. */
export interface Entry {
  obj: StoredObject;
  desired?: DesiredInfo;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Drops undefined members, as writing the value to JSON and reading it back would. */
export function stripUndefined<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

export function asStored(o: RefitObject): StoredObject {
  return o;
}

export function asRefit<T extends RefitObject = RefitObject>(o: StoredObject): T {
  return o as unknown as T;
}

export function storedKey(o: StoredObject): ObjectKey {
  return keyOf(asRefit(o));
}

/** The value checked against the schema of `key.kind`, defaults applied; InvalidObjectError if it fails. */
export function validateObject(key: ObjectKey, value: unknown): StoredObject {
  const result = KINDS[key.kind].schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${fieldPath(i.path) || "(object)"}: ${i.message}`);
    throw new InvalidObjectError(key, problems.join("; "));
  }
  return result.data;
}

/** The key of an object handed in by a caller, refusing a kind the API does not have. */
export function keyOfInput(input: RefitObject): ObjectKey {
  const kind: unknown = input?.kind;
  if (!isKindName(kind)) {
    throw new InvalidObjectError(
      `object ${JSON.stringify(input?.metadata?.name)}`,
      `unknown kind ${JSON.stringify(kind)} (expected one of ${Object.keys(KINDS).join(", ")})`,
    );
  }
  return keyOf(input);
}
