/**
 * The objects in force, in memory, with the Kubernetes semantics described in store.ts:
 * resourceVersion conflicts, generation bumped by spec changes only, owner references checked on
 * create, deletion held by finalizers and cascading to what an owner owned. Every change is written
 * to the state directory before watchers hear of it, and undone when that write fails.
 *
 * The table does not know which objects are read-only or what the store adds to a status: the
 * file store checks the first and passes the second in.
 */
import { randomUUID } from "node:crypto";
import type { KindName, RefitObject } from "../../src/api/kinds.js";
import type { ObjectMeta } from "../../src/api/meta.js";
import type { Clock } from "../../src/clock.js";
import { errorMessage, RetryableError } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { sameJson } from "./canonical.js";
import { collectGarbage } from "./garbage-collector.js";
import type { StateWriter } from "./state-dir.js";
import { WatchHub } from "./watch-hub.js";
import {
  AlreadyExistsError,
  ConflictError,
  describeKey,
  InvalidObjectError,
  keyString,
  NotFoundError,
  type ListOptions,
  type ObjectKey,
  type WatchEvent,
} from "./store.js";
import {
  asRefit,
  asStored,
  clone,
  stripUndefined,
  validateObject,
  type DesiredInfo,
  type Entry,
  type StoredObject,
  type StoredStatus,
} from "./stored-object.js";

export interface ObjectTableOptions {
  writer: StateWriter;
  clock: Clock;
  log: Logger;
}

/** A status to store, with the desired info that goes with it. */
export interface DecoratedStatus {
  status: StoredStatus | undefined;
  desired: DesiredInfo | undefined;
}

/** Turns the status a reconciler wrote into the one stored. */
export type StatusDecorator = (entry: Entry, status: StoredStatus | undefined) => DecoratedStatus;

/** Metadata a writer of `update` may change; the rest is the store's. */
function userMeta(m: ObjectMeta): Partial<ObjectMeta> {
  return {
    labels: m.labels,
    annotations: m.annotations,
    finalizers: m.finalizers,
    ownerReferences: m.ownerReferences,
  };
}

function byNamespaceAndName(a: StoredObject, b: StoredObject): number {
  return (
    (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

function matches(obj: StoredObject, kind: KindName, options: ListOptions): boolean {
  if (obj.kind !== kind) return false;
  if (options.namespace !== undefined && (obj.metadata.namespace ?? "") !== options.namespace) return false;
  const labels = obj.metadata.labels ?? {};
  return !options.labels || Object.entries(options.labels).every(([k, v]) => labels[k] === v);
}

function checkVersion(key: ObjectKey, entry: Entry, input: RefitObject): void {
  const given = input.metadata.resourceVersion;
  if (given === undefined)
    throw new InvalidObjectError(
      key,
      "metadata.resourceVersion is required for an update; read the object first",
    );
  if (given !== entry.obj.metadata.resourceVersion)
    throw new ConflictError(key, given, entry.obj.metadata.resourceVersion);
}

/** The MODIFIED event of `cur` becoming `next`. */
export function modifiedEvent(next: StoredObject, cur: StoredObject): WatchEvent {
  return { type: "MODIFIED", object: asRefit(next), oldObject: asRefit(cur) };
}

export class ObjectTable {
  private readonly entries = new Map<string, Entry>();
  private lastRv = 0;
  /** Who hears of committed changes. */
  readonly watchers: WatchHub;

  constructor(private readonly options: ObjectTableOptions) {
    this.watchers = new WatchHub(options.log);
  }

  // ---- reading -----------------------------------------------------------------------------------

  /** The entry itself, for the store's own use; callers outside the store get copies. */
  entry(key: ObjectKey): Entry | undefined {
    return this.entries.get(keyString(key));
  }

  existing(key: ObjectKey): Entry {
    const entry = this.entry(key);
    if (!entry) throw new NotFoundError(key);
    return entry;
  }

  desiredEntries(): Entry[] {
    return [...this.entries.values()].filter((e) => e.desired);
  }

  get(key: ObjectKey): StoredObject | undefined {
    const entry = this.entry(key);
    return entry ? clone(entry.obj) : undefined;
  }

  list(kind: KindName, options: ListOptions): StoredObject[] {
    const out = [...this.entries.values()].map((e) => e.obj).filter((o) => matches(o, kind, options));
    return out.sort(byNamespaceAndName).map((o) => clone(o));
  }

  // ---- versions and time -------------------------------------------------------------------------

  nextRv(): string {
    return String(++this.lastRv);
  }

  now(): number {
    return this.options.clock.now();
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  // ---- changes whose record the caller writes ----------------------------------------------------

  /** An entry read from the state directory: new resourceVersions continue above its own. */
  load(key: ObjectKey, entry: Entry): void {
    const rv = Number(entry.obj.metadata.resourceVersion);
    if (Number.isSafeInteger(rv)) this.lastRv = Math.max(this.lastRv, rv);
    this.set(key, entry);
  }

  set(key: ObjectKey, entry: Entry): void {
    this.entries.set(keyString(key), entry);
  }

  remove(key: ObjectKey): void {
    this.entries.delete(keyString(key));
  }

  // ---- writes ------------------------------------------------------------------------------------

  /** Throws AlreadyExistsError, NotFoundError (an owner is missing), InvalidObjectError. */
  async create(key: ObjectKey, input: RefitObject): Promise<StoredObject> {
    if (this.entry(key)) throw new AlreadyExistsError(key);
    const m = input.metadata;
    for (const ref of m.ownerReferences ?? []) {
      if (this.findUid(ref.uid)) continue;
      throw new NotFoundError(
        key,
        `cannot create ${describeKey(key)}: its owner ${ref.kind}/${ref.name} (uid ${ref.uid}) does not exist; it was deleted or recreated, read it again`,
      );
    }
    const metadata = stripUndefined({
      name: m.name,
      namespace: m.namespace,
      ...userMeta(m),
      uid: randomUUID(),
      resourceVersion: this.nextRv(),
      generation: 1,
      creationTimestamp: this.nowIso(),
    });
    const obj = validateObject(key, { ...this.typeOf(input), metadata, spec: clone(input.spec) });
    await this.commit(key, undefined, { obj }, { type: "ADDED", object: asRefit(obj) });
    return clone(obj);
  }

  /** Metadata and spec; removing the last finalizer of a marked object completes its deletion. */
  async update(key: ObjectKey, entry: Entry, input: RefitObject): Promise<StoredObject> {
    checkVersion(key, entry, input);
    const cur = entry.obj;
    const next = validateObject(key, {
      ...this.typeOf(cur),
      metadata: stripUndefined({ ...cur.metadata, ...userMeta(input.metadata) }),
      spec: clone(input.spec),
      status: cur.status,
    });
    const specChanged = !sameJson(next.spec, cur.spec);
    if (!specChanged && sameJson(userMeta(next.metadata), userMeta(cur.metadata))) return clone(cur);
    next.metadata.resourceVersion = this.nextRv();
    if (specChanged) next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      await this.commit(key, entry, undefined, { type: "DELETED", object: asRefit(next) });
      await this.collectGarbage();
    } else {
      await this.commit(key, entry, { obj: next }, modifiedEvent(next, cur));
    }
    return clone(next);
  }

  /** Status only; `decorate` adds what the store itself records. */
  async updateStatus(
    key: ObjectKey,
    entry: Entry,
    input: RefitObject,
    decorate: StatusDecorator,
  ): Promise<StoredObject> {
    checkVersion(key, entry, input);
    const cur = entry.obj;
    const { status, desired } = decorate(entry, clone(asStored(input).status));
    const next = validateObject(key, { ...cur, status });
    const shadowChanged = !sameJson(desired?.readyBeforeInvalid, entry.desired?.readyBeforeInvalid);
    if (sameJson(next.status, cur.status) && !shadowChanged) return clone(cur);
    next.metadata.resourceVersion = this.nextRv();
    await this.commit(key, entry, { obj: next, desired }, modifiedEvent(next, cur));
    return clone(next);
  }

  /** Deletes the object (or marks it, while finalizers hold it) and what it owned. */
  async delete(key: ObjectKey, entry: Entry): Promise<void> {
    await this.markOrDelete(key, entry);
    await this.collectGarbage();
  }

  /** Deletes what no owner holds any more (garbage-collector.ts). */
  collectGarbage(startup = false): Promise<void> {
    const entries = (): Entry[] => [...this.entries.values()];
    const remove = (key: ObjectKey, entry: Entry): Promise<void> => this.markOrDelete(key, entry);
    return collectGarbage({ entries, remove, log: this.options.log }, startup);
  }

  private typeOf(o: { apiVersion: string; kind: string }): { apiVersion: string; kind: string } {
    return { apiVersion: o.apiVersion, kind: o.kind };
  }

  private findUid(uid: string): Entry | undefined {
    for (const e of this.entries.values()) if (e.obj.metadata.uid === uid) return e;
    return undefined;
  }

  /** Deletes now, or only marks the object when finalizers still hold it. */
  private async markOrDelete(key: ObjectKey, entry: Entry): Promise<void> {
    const cur = entry.obj;
    if (!cur.metadata.finalizers?.length) {
      await this.commit(key, entry, undefined, { type: "DELETED", object: asRefit(cur) });
      return;
    }
    if (cur.metadata.deletionTimestamp) return;
    const metadata = { ...cur.metadata, deletionTimestamp: this.nowIso(), resourceVersion: this.nextRv() };
    const obj: StoredObject = { ...cur, metadata };
    await this.commit(key, entry, { obj }, modifiedEvent(obj, cur));
  }

  /**
   * Makes `next` (undefined: deletion) current, writes it, and only then tells watchers. When the
   * write fails, the previous version is put back, so a caller never acts on a change that a crash
   * would forget.
   */
  private async commit(
    key: ObjectKey,
    prev: Entry | undefined,
    next: Entry | undefined,
    event: WatchEvent,
  ): Promise<void> {
    const { writer } = this.options;
    if (next) this.set(key, next);
    else this.remove(key);
    try {
      await writer.write(key, next);
    } catch (err) {
      if (this.entry(key) === next) {
        if (prev) this.set(key, prev);
        else this.remove(key);
        writer.write(key, prev).catch(() => undefined);
      }
      throw new RetryableError(
        "StateWriteFailed",
        `could not write ${describeKey(key)} to ${writer.pathOf(key)}: ${errorMessage(err)}; check free space and permissions of ${writer.stateDir}`,
        { kind: key.kind, name: key.name },
        { cause: err },
      );
    }
    this.watchers.emit(event);
  }
}
