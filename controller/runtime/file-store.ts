/**
 * The ObjectStore of file mode.
 *
 * Desired objects (clusters, plans, windows, channels) come from the YAML files of the desired-state
 * directory and are read-only here: a person changes them by editing the files, which are watched,
 * so an edit is in force within a second. Their status, and every child object the reconcilers
 * create, live in the state directory as JSON files written atomically. A lock keeps a second
 * controller off the same state directory.
 *
 * State directory layout:
 *   refit.lock                              who holds this directory
 *   desired/<Kind>/<namespace|_>/<name>.json the last valid version of a desired object, its uid,
 *                                           generation, status and source file
 *   objects/<Kind>/<namespace|_>/<name>.json a child object, whole
 *
 * An invalid edit leaves the last valid version in force, reports the problem (logger,
 * `desiredIssues()`) and shows it on the object as Ready=False reason InvalidSpec with file:line:col.
 * While that lasts, every status write keeps Ready at InvalidSpec; the reconciler's own Ready is
 * remembered and put back when the file is fixed.
 */
import { randomUUID } from "node:crypto";
import { readdir, readFile, realpath, rm, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { watch as watchPaths, type FSWatcher } from "chokidar";
import {
  isKindName,
  KINDS,
  type KindName,
  type RefitObject,
  type RefitObjectOf,
} from "../../src/api/kinds.js";
import { fieldPath, formatIssue, type LoadIssue } from "../../src/api/loader/issue.js";
import { loadDesiredState, type SourceLocation } from "../../src/api/loader/load.js";
import type { Condition, ObjectMeta } from "../../src/api/meta.js";
import { systemClock, type Clock } from "../../src/clock.js";
import { errorMessage, RetryableError, TerminalError } from "../../src/errors.js";
import { ensureDir, isTempFile, removeFileDurable, SerialWriter, writeFileAtomic } from "./atomic-file.js";
import { contentHash, sameJson } from "./canonical.js";
import { getCondition, READY, setReady } from "./conditions.js";
import { planSync } from "./desired-sync.js";
import { DEFAULT_GIT_TIMEOUT_MS, gitDir, gitRevision } from "./git-revision.js";
import type { Logger } from "../../src/log/logger.js";
import { StateLock } from "./state-lock.js";
import {
  AlreadyExistsError,
  ConflictError,
  describeKey,
  InvalidObjectError,
  keyOf,
  keyString,
  NotFoundError,
  ReadOnlyError,
  type ListOptions,
  type ObjectKey,
  type ObjectStore,
  type WatchEvent,
  type WatchHandler,
  type WatchOptions,
} from "./store.js";

export const DEFAULT_STATE_DIR = "/var/lib/refit";
export const INVALID_SPEC = "InvalidSpec";

export interface FileStoreOptions {
  desiredDir: string;
  /** Default /var/lib/refit. */
  stateDir?: string;
  log: Logger;
  clock?: Clock;
  /** Watch the desired-state directory for edits; default true. */
  watch?: boolean;
  /** Quiet time after the last file event before reloading; default 200 ms. */
  debounceMs?: number;
  gitTimeoutMs?: number;
  /**
   * While watching, the directory is also re-read this often, in case an event was missed or the
   * directory was swapped (a symlink pointed elsewhere); default 60 s.
   */
  resyncMs?: number;
}

type Status = Record<string, unknown> & {
  observedGeneration?: number;
  conditions?: Condition[];
  observedRevision?: string;
};

/** Any kind, seen through the fields every kind shares. */
interface Obj {
  apiVersion: string;
  kind: KindName;
  metadata: ObjectMeta;
  spec: unknown;
  status?: Status;
}

interface DesiredInfo {
  specHash: string;
  source?: SourceLocation;
  /** Formatted issues while the object is kept at its last valid version. */
  issues?: string[];
  /** The Ready condition the reconciler last wrote, to restore when the issues are fixed. */
  readyBeforeInvalid?: Condition;
}

interface Entry {
  obj: Obj;
  desired?: DesiredInfo;
}

interface DesiredRecord extends DesiredInfo {
  object: Obj;
}

const DEFAULT_RESYNC_MS = 60_000;
/** How often a vanished desired-state directory is looked for. */
const ROOT_POLL_MS = 1_000;
/** Debounced reloads still happen at least this often while events keep coming. */
const MAX_DEBOUNCE_MS = 800;
const NO_NAMESPACE_DIR = "_";

function clone<T>(v: T): T {
  return structuredClone(v);
}

function asObj(o: RefitObject): Obj {
  return o;
}

function asRefit<T extends RefitObject = RefitObject>(o: Obj): T {
  return o as unknown as T;
}

/** Metadata a writer of `update` may change. */
function userMeta(m: ObjectMeta): Partial<ObjectMeta> {
  return {
    labels: m.labels,
    annotations: m.annotations,
    finalizers: m.finalizers,
    ownerReferences: m.ownerReferences,
  };
}

/** Metadata a person may set in a desired-state file; the rest is the store's. */
function desiredMeta(m: ObjectMeta): ObjectMeta {
  return { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations };
}

function stripUndefined<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

async function directoryIdentity(dir: string): Promise<string | undefined> {
  try {
    const real = await realpath(dir);
    const st = await stat(real);
    return st.isDirectory() ? `${real}:${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export class FileStore implements ObjectStore {
  readonly desiredDir: string;
  readonly stateDir: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private readonly gitTimeoutMs: number;

  private readonly entries = new Map<string, Entry>();
  private readonly handlers = new Set<{ handler: WatchHandler; kinds?: ReadonlySet<KindName> }>();
  private readonly writer = new SerialWriter();
  private lastRv = 0;
  private rev: string | undefined;
  private revWhyNot: string | undefined;
  private issues: LoadIssue[] = [];
  private readonly resyncMs: number;
  /** Watchers of git metadata; the desired directory's own watcher is `desiredWatcher`. */
  private watchers: FSWatcher[] = [];
  private desiredWatcher: FSWatcher | undefined;
  /** Identity (real path, device, inode) of the directory being watched; undefined while it is missing. */
  private watchedRoot: string | undefined;
  private watching = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private firstEventAt: number | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private closed = false;

  private constructor(
    options: FileStoreOptions,
    private readonly lock: StateLock,
  ) {
    this.desiredDir = resolve(options.desiredDir);
    this.stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.debounceMs = options.debounceMs ?? 200;
    this.gitTimeoutMs = options.gitTimeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    this.resyncMs = options.resyncMs ?? DEFAULT_RESYNC_MS;
  }

  /**
   * Takes the state directory's lock (TerminalError naming the holder if another controller has it),
   * loads the state and the desired-state directory, and starts watching it.
   */
  static async open(options: FileStoreOptions): Promise<FileStore> {
    const desiredDir = resolve(options.desiredDir);
    if (!(await stat(desiredDir).catch(() => undefined))?.isDirectory()) {
      throw new TerminalError(
        "DesiredStateMissing",
        `the desired-state directory ${desiredDir} does not exist or is not a directory; create it or point the controller at the right one`,
        { path: desiredDir },
      );
    }
    const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
    await ensureDir(stateDir);
    const clock = options.clock ?? systemClock;
    const lock = await StateLock.acquire(stateDir, { clock, log: options.log });
    const store = new FileStore(options, lock);
    try {
      await store.sweepTempFiles();
      await store.loadState();
      await store.reloadOnce();
      await store.collectGarbage(true);
      if (options.watch ?? true) {
        await store.startWatching();
        // Catches edits made between the first load and the watcher being ready.
        await store.reload();
      }
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  // ---- ObjectStore -------------------------------------------------------------------------------

  get<K extends KindName>(kind: K, namespace: string, name: string): Promise<RefitObjectOf<K> | undefined> {
    const entry = this.entries.get(keyString({ kind, namespace, name }));
    return Promise.resolve(entry ? clone(asRefit<RefitObjectOf<K>>(entry.obj)) : undefined);
  }

  list<K extends KindName>(kind: K, options: ListOptions = {}): Promise<RefitObjectOf<K>[]> {
    const out: Obj[] = [];
    for (const { obj } of this.entries.values()) {
      if (obj.kind !== kind) continue;
      if (options.namespace !== undefined && (obj.metadata.namespace ?? "") !== options.namespace) continue;
      const labels = obj.metadata.labels ?? {};
      if (options.labels && !Object.entries(options.labels).every(([k, v]) => labels[k] === v)) continue;
      out.push(obj);
    }
    out.sort(
      (a, b) =>
        (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    return Promise.resolve(out.map((o) => clone(asRefit<RefitObjectOf<K>>(o))));
  }

  watch(handler: WatchHandler, options: WatchOptions = {}): () => void {
    const sub = { handler, kinds: options.kinds ? new Set(options.kinds) : undefined };
    this.handlers.add(sub);
    return () => {
      this.handlers.delete(sub);
    };
  }

  async create<T extends RefitObject>(input: T): Promise<T> {
    this.assertOpen();
    const key = this.keyOfInput(input);
    const k = keyString(key);
    if (!KINDS[key.kind].child) throw this.readOnly(key, undefined, "create");
    if (this.entries.has(k)) throw new AlreadyExistsError(key);
    const m = input.metadata;
    for (const ref of m.ownerReferences ?? []) {
      if (!this.findUid(ref.uid)) {
        throw new NotFoundError(
          key,
          `cannot create ${describeKey(key)}: its owner ${ref.kind}/${ref.name} (uid ${ref.uid}) does not exist; it was deleted or recreated, read it again`,
        );
      }
    }
    const obj = this.parse(key, {
      apiVersion: input.apiVersion,
      kind: input.kind,
      metadata: stripUndefined({
        name: m.name,
        namespace: m.namespace,
        ...userMeta(m),
        uid: randomUUID(),
        resourceVersion: this.nextRv(),
        generation: 1,
        creationTimestamp: this.nowIso(),
      }),
      spec: clone(input.spec),
    });
    await this.commit(key, undefined, { obj }, { type: "ADDED", object: asRefit(obj) });
    return clone(asRefit<T>(obj));
  }

  async update<T extends RefitObject>(input: T): Promise<T> {
    this.assertOpen();
    const key = this.keyOfInput(input);
    const entry = this.entries.get(keyString(key));
    if (!entry) throw new NotFoundError(key);
    if (entry.desired) throw this.readOnly(key, entry, "update");
    this.checkVersion(key, entry, input);
    const cur = entry.obj;
    const next = this.parse(key, {
      apiVersion: cur.apiVersion,
      kind: cur.kind,
      metadata: stripUndefined({ ...cur.metadata, ...userMeta(input.metadata) }),
      spec: clone(input.spec),
      status: cur.status,
    });
    const specChanged = !sameJson(next.spec, cur.spec);
    if (!specChanged && sameJson(userMeta(next.metadata), userMeta(cur.metadata)))
      return clone(asRefit<T>(cur));
    next.metadata.resourceVersion = this.nextRv();
    if (specChanged) next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      // The last finalizer is gone: the deletion asked for earlier completes now.
      await this.commit(key, entry, undefined, { type: "DELETED", object: asRefit(next) });
      await this.collectGarbage();
    } else {
      await this.commit(
        key,
        entry,
        { obj: next },
        { type: "MODIFIED", object: asRefit(next), oldObject: asRefit(cur) },
      );
    }
    return clone(asRefit<T>(next));
  }

  async updateStatus<T extends RefitObject>(input: T): Promise<T> {
    this.assertOpen();
    const key = this.keyOfInput(input);
    const entry = this.entries.get(keyString(key));
    if (!entry) throw new NotFoundError(key);
    this.checkVersion(key, entry, input);
    const cur = entry.obj;
    let status = clone(asObj(input).status);
    let desired = entry.desired;
    if (desired?.issues) ({ status, desired } = this.invalidOverlay(cur, status, desired));
    const next = this.parse(key, { ...cur, status: this.stampRevision(status) });
    const shadowChanged = !sameJson(desired?.readyBeforeInvalid, entry.desired?.readyBeforeInvalid);
    if (sameJson(next.status, cur.status) && !shadowChanged) return clone(asRefit<T>(cur));
    next.metadata.resourceVersion = this.nextRv();
    await this.commit(
      key,
      entry,
      { obj: next, desired },
      { type: "MODIFIED", object: asRefit(next), oldObject: asRefit(cur) },
    );
    return clone(asRefit<T>(next));
  }

  async delete(kind: KindName, namespace: string, name: string): Promise<void> {
    this.assertOpen();
    const key = { kind, namespace, name };
    const entry = this.entries.get(keyString(key));
    if (!entry) throw new NotFoundError(key);
    if (entry.desired) throw this.readOnly(key, entry, "delete");
    await this.deleteEntry(key, entry);
    await this.collectGarbage();
  }

  // ---- file mode extras --------------------------------------------------------------------------

  /** Problems of the desired-state directory as of the last load, `file:line:col: …`. */
  desiredIssues(): string[] {
    return this.issues.map(formatIssue);
  }

  /** Git revision of the desired-state directory (`<sha>` or `<sha>-dirty`), if it is a checkout. */
  revision(): string | undefined {
    return this.rev;
  }

  /** Reads the desired-state directory now (the watcher does this by itself after edits). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.reloadAgain = false;
          try {
            await this.reloadOnce();
          } catch (err) {
            this.log.error(
              { dir: this.desiredDir, err: errorMessage(err) },
              "could not reload the desired-state directory; the objects in force stay as they were",
            );
          }
        } while (this.reloadAgain && !this.closed);
      } finally {
        this.reloading = undefined;
      }
    };
    this.reloading = run();
    return this.reloading;
  }

  /** Stops watching, waits for pending writes and releases the state directory's lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.resyncTimer);
    const watchers = this.desiredWatcher ? [...this.watchers, this.desiredWatcher] : this.watchers;
    await Promise.allSettled(watchers.map((w) => w.close()));
    this.watchers = [];
    this.desiredWatcher = undefined;
    await this.reloading?.catch(() => undefined);
    await this.writer.idle();
    this.handlers.clear();
    await this.lock.release();
  }

  // ---- writes ------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new RetryableError("StoreClosed", `the file store for ${this.stateDir} is closed`);
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private nextRv(): string {
    return String(++this.lastRv);
  }

  private keyOfInput(input: RefitObject): ObjectKey {
    const kind: unknown = input?.kind;
    if (!isKindName(kind)) {
      throw new InvalidObjectError(
        `object ${JSON.stringify(input?.metadata?.name)}`,
        `unknown kind ${JSON.stringify(kind)} (expected one of ${Object.keys(KINDS).join(", ")})`,
      );
    }
    return keyOf(input);
  }

  private parse(key: ObjectKey, value: unknown): Obj {
    const result = KINDS[key.kind].schema.safeParse(value);
    if (!result.success) {
      const problems = result.error.issues.map((i) => `${fieldPath(i.path) || "(object)"}: ${i.message}`);
      throw new InvalidObjectError(key, problems.join("; "));
    }
    return result.data;
  }

  private checkVersion(key: ObjectKey, entry: Entry, input: RefitObject): void {
    const given = input.metadata.resourceVersion;
    if (given === undefined)
      throw new InvalidObjectError(
        key,
        "metadata.resourceVersion is required for an update; read the object first",
      );
    if (given !== entry.obj.metadata.resourceVersion)
      throw new ConflictError(key, given, entry.obj.metadata.resourceVersion);
  }

  private readOnly(
    key: ObjectKey,
    entry: Entry | undefined,
    verb: "create" | "update" | "delete",
  ): ReadOnlyError {
    const src = entry?.desired?.source;
    if (verb === "create" || !src) {
      return new ReadOnlyError(
        key,
        `${key.kind} objects are declared in the desired-state directory ${this.desiredDir}; add ${describeKey(key)} to a YAML file there instead`,
      );
    }
    const where = `${src.file}:${src.line}:${src.col}`;
    const what = verb === "update" ? `edit ${src.file} instead` : `remove it from ${src.file} instead`;
    return new ReadOnlyError(key, `${describeKey(key)} is declared in ${where}; ${what}`);
  }

  private findUid(uid: string): Entry | undefined {
    for (const e of this.entries.values()) if (e.obj.metadata.uid === uid) return e;
    return undefined;
  }

  /** Every status write records the revision the store knows (and none when it knows none). */
  private stampRevision(status: Status | undefined): Status | undefined {
    if (this.rev === undefined) {
      if (status && "observedRevision" in status) delete status.observedRevision;
      return status;
    }
    return { ...(status ?? {}), observedRevision: this.rev };
  }

  private statePath(key: ObjectKey, desired: boolean): string {
    return join(
      this.stateDir,
      desired ? "desired" : "objects",
      key.kind,
      key.namespace || NO_NAMESPACE_DIR,
      `${key.name}.json`,
    );
  }

  private serialize(entry: Entry): string {
    const value: Obj | DesiredRecord = entry.desired ? { ...entry.desired, object: entry.obj } : entry.obj;
    return `${JSON.stringify(value, null, 2)}\n`;
  }

  /** Queues the write of `entry` (or the removal of the key's file) behind earlier writes of that file. */
  private persist(key: ObjectKey, desired: boolean, entry: Entry | undefined): Promise<void> {
    const path = this.statePath(key, desired);
    const text = entry ? this.serialize(entry) : undefined;
    return this.writer.run(path, () =>
      text === undefined ? removeFileDurable(path) : writeFileAtomic(path, text),
    );
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
    const k = keyString(key);
    const desired = Boolean((next ?? prev)?.desired);
    if (next) this.entries.set(k, next);
    else this.entries.delete(k);
    try {
      await this.persist(key, desired, next);
    } catch (err) {
      if (this.entries.get(k) === next) {
        if (prev) this.entries.set(k, prev);
        else this.entries.delete(k);
        this.persist(key, desired, prev).catch(() => undefined);
      }
      throw new RetryableError(
        "StateWriteFailed",
        `could not write ${describeKey(key)} to ${this.statePath(key, desired)}: ${errorMessage(err)}; check free space and permissions of ${this.stateDir}`,
        { kind: key.kind, name: key.name },
        { cause: err },
      );
    }
    this.emit([event]);
  }

  private emit(events: WatchEvent[]): void {
    for (const event of events) {
      for (const sub of this.handlers) {
        if (sub.kinds && !sub.kinds.has(event.object.kind)) continue;
        try {
          sub.handler(clone(event));
        } catch (err) {
          this.log.error({ err: errorMessage(err), kind: event.object.kind }, "watch handler threw");
        }
      }
    }
  }

  /** Deletes now, or only marks the object when finalizers still hold it. */
  private async deleteEntry(key: ObjectKey, entry: Entry): Promise<void> {
    const cur = entry.obj;
    if (cur.metadata.finalizers?.length) {
      if (cur.metadata.deletionTimestamp) return;
      const obj: Obj = {
        ...cur,
        metadata: { ...cur.metadata, deletionTimestamp: this.nowIso(), resourceVersion: this.nextRv() },
      };
      await this.commit(
        key,
        entry,
        { obj },
        { type: "MODIFIED", object: asRefit(obj), oldObject: asRefit(cur) },
      );
      return;
    }
    await this.commit(key, entry, undefined, { type: "DELETED", object: asRefit(cur) });
  }

  /**
   * Deletes (Kubernetes background cascading) every owned object none of whose owners exists any
   * more, until nothing changes. At startup an object whose owner exists under the same name but
   * another uid is kept with a warning: that only happens when the state directory lost records, and
   * the child may hold the only proof of a step in flight.
   */
  private async collectGarbage(startup = false): Promise<void> {
    const spared = new Set<string>();
    for (;;) {
      const uids = new Set<string>();
      const names = new Set<string>();
      for (const e of this.entries.values()) {
        if (e.obj.metadata.uid) uids.add(e.obj.metadata.uid);
        names.add(keyString(keyOf(asRefit(e.obj))));
      }
      let victim: { key: ObjectKey; entry: Entry } | undefined;
      for (const entry of this.entries.values()) {
        const refs = entry.obj.metadata.ownerReferences ?? [];
        if (entry.desired || refs.length === 0 || refs.some((r) => uids.has(r.uid))) continue;
        if (entry.obj.metadata.deletionTimestamp && entry.obj.metadata.finalizers?.length) continue;
        const key = keyOf(asRefit(entry.obj));
        const k = keyString(key);
        if (spared.has(k)) continue;
        const ns = key.namespace;
        if (
          startup &&
          refs.some(
            (r) => isKindName(r.kind) && names.has(keyString({ kind: r.kind, namespace: ns, name: r.name })),
          )
        ) {
          spared.add(k);
          this.log.warn(
            { object: describeKey(key), owners: refs.map((r) => `${r.kind}/${r.name} uid ${r.uid}`) },
            "owner exists with another uid (state records lost?); keeping this object instead of deleting it",
          );
          continue;
        }
        victim = { key, entry };
        break;
      }
      if (!victim) return;
      try {
        await this.deleteEntry(victim.key, victim.entry);
      } catch (err) {
        this.log.error(
          { object: describeKey(victim.key), err: errorMessage(err) },
          "could not delete an orphaned object",
        );
        return;
      }
    }
  }

  // ---- desired state -----------------------------------------------------------------------------

  private invalidMessage(issues: readonly string[]): string {
    return `the desired-state file is invalid, so the last valid version stays in force: ${issues.join("; ")}`;
  }

  /**
   * Ready=False reason InvalidSpec on top of `status`, remembering the Ready it replaces. The stored
   * InvalidSpec condition is the base, so its lastTransitionTime survives the reconciler's writes.
   */
  private invalidOverlay(
    cur: Obj,
    incoming: Status | undefined,
    info: DesiredInfo,
  ): { status: Status; desired: DesiredInfo } {
    const status: Status = clone(incoming ?? {});
    const theirs = getCondition(status, READY);
    const saved = theirs && theirs.reason !== INVALID_SPEC ? theirs : info.readyBeforeInvalid;
    const stored = getCondition(cur.status, READY);
    if (stored?.reason === INVALID_SPEC) {
      status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== READY), clone(stored)];
    }
    const observedGeneration = status.observedGeneration;
    setReady(
      status,
      { status: "False", reason: INVALID_SPEC, message: this.invalidMessage(info.issues ?? []) },
      cur.metadata.generation ?? 1,
      this.clock.now(),
    );
    // The reconciler's observedGeneration stays: the store did not compute anything for the spec.
    if (observedGeneration === undefined) delete status.observedGeneration;
    else status.observedGeneration = observedGeneration;
    return { status, desired: { ...info, readyBeforeInvalid: saved } };
  }

  /** Puts back the Ready the reconciler had before the spec became invalid (or none if it had none). */
  private withoutOverlay(status: Status | undefined, info: DesiredInfo): Status | undefined {
    if (!status?.conditions) return status;
    const s = clone(status);
    const conditions = s.conditions ?? [];
    const i = conditions.findIndex((c) => c.type === READY && c.reason === INVALID_SPEC);
    if (i < 0) return s;
    if (info.readyBeforeInvalid) conditions[i] = clone(info.readyBeforeInvalid);
    else conditions.splice(i, 1);
    return s;
  }

  private async readRevision(): Promise<void> {
    const r = await gitRevision(this.desiredDir, this.gitTimeoutMs);
    if (r.revision !== undefined) {
      if (r.revision !== this.rev)
        this.log.info({ dir: this.desiredDir, revision: r.revision }, "desired-state revision");
      this.rev = r.revision;
      this.revWhyNot = undefined;
      return;
    }
    if (this.revWhyNot !== r.reason)
      this.log.debug(
        { dir: this.desiredDir, reason: r.reason },
        "desired-state directory has no git revision",
      );
    this.rev = undefined;
    this.revWhyNot = r.reason;
  }

  /** Loads the directory once and brings the objects in force up to date with it. */
  private async reloadOnce(): Promise<void> {
    if (this.watching) await this.rewatchIfMoved();
    const result = await loadDesiredState(this.desiredDir);
    await this.readRevision();
    if (this.closed) return;

    // From here to the writes nothing awaits, so API calls see either the old or the new state.
    const now = this.nowIso();
    const inForce = [...this.entries.values()]
      .filter((e) => e.desired)
      .map((e) => ({ key: keyOf(asRefit(e.obj)), sourceFile: e.desired?.source?.file }));
    const plan = planSync(inForce, result);
    const writes: Promise<void>[] = [];
    // Each event goes out once its own write has ended, so per object, events follow write order. The
    // files are the truth for desired objects: a failed record write is logged, the change still holds.
    const record = (key: ObjectKey, entry: Entry | undefined, event?: WatchEvent): void => {
      const written = this.persist(key, true, entry);
      writes.push(event ? written.finally(() => this.emit([event])) : written);
    };
    const put = (key: ObjectKey, entry: Entry, event?: WatchEvent): void => {
      this.entries.set(keyString(key), entry);
      record(key, entry, event);
    };

    for (const lo of plan.present) {
      const key: ObjectKey = { kind: lo.kind, namespace: lo.namespace, name: lo.name };
      const prev = this.entries.get(keyString(key));
      const loaded = asObj(lo.object);
      const hash = contentHash(loaded.spec);
      const meta = stripUndefined(desiredMeta(loaded.metadata));
      if (!prev?.desired) {
        const obj: Obj = {
          apiVersion: loaded.apiVersion,
          kind: loaded.kind,
          metadata: {
            ...meta,
            uid: randomUUID(),
            resourceVersion: this.nextRv(),
            generation: 1,
            creationTimestamp: now,
          },
          spec: loaded.spec,
        };
        put(
          key,
          { obj, desired: { specHash: hash, source: lo.source } },
          { type: "ADDED", object: asRefit(obj) },
        );
        continue;
      }
      const cur = prev.obj;
      const info = prev.desired;
      const specChanged = hash !== info.specHash;
      const metaChanged = !sameJson(desiredMeta(cur.metadata), meta);
      const status = info.issues ? this.stampRevision(this.withoutOverlay(cur.status, info)) : cur.status;
      const desired: DesiredInfo = { specHash: hash, source: lo.source };
      if (!specChanged && !metaChanged && !info.issues && sameJson(status, cur.status)) {
        const moved = info.source?.file !== lo.source.file;
        const entry = { obj: cur, desired: { ...info, source: lo.source } };
        if (moved) put(key, entry);
        else this.entries.set(keyString(key), entry);
        continue;
      }
      const obj: Obj = {
        apiVersion: loaded.apiVersion,
        kind: loaded.kind,
        metadata: {
          ...meta,
          uid: cur.metadata.uid,
          resourceVersion: this.nextRv(),
          generation: (cur.metadata.generation ?? 1) + (specChanged ? 1 : 0),
          creationTimestamp: cur.metadata.creationTimestamp,
        },
        spec: loaded.spec,
        ...(status === undefined ? {} : { status }),
      };
      put(key, { obj, desired }, { type: "MODIFIED", object: asRefit(obj), oldObject: asRefit(cur) });
    }

    for (const kept of plan.kept) {
      const entry = this.entries.get(keyString(kept.key));
      if (!entry?.desired) continue;
      const issues = [...new Set(kept.issues.map(formatIssue))];
      if (sameJson(issues, entry.desired.issues)) continue;
      const cur = entry.obj;
      const { status, desired } = this.invalidOverlay(cur, cur.status, { ...entry.desired, issues });
      const obj: Obj = {
        ...cur,
        metadata: { ...cur.metadata, resourceVersion: this.nextRv() },
        status: this.stampRevision(status),
      };
      put(kept.key, { obj, desired }, { type: "MODIFIED", object: asRefit(obj), oldObject: asRefit(cur) });
    }

    for (const key of plan.removed) {
      const k = keyString(key);
      const entry = this.entries.get(k);
      if (!entry) continue;
      this.entries.delete(k);
      record(key, undefined, { type: "DELETED", object: asRefit(entry.obj) });
    }

    this.reportIssues(result.issues);
    for (const r of await Promise.allSettled(writes)) {
      if (r.status === "rejected")
        this.log.error(
          { dir: this.stateDir, err: errorMessage(r.reason) },
          "could not record desired object state",
        );
    }
    if (plan.removed.length > 0) await this.collectGarbage();
    this.scheduleResync();
  }

  private reportIssues(issues: LoadIssue[]): void {
    const before = new Set(this.issues.map(formatIssue));
    for (const issue of issues) {
      const text = formatIssue(issue);
      if (before.has(text)) continue;
      this.log.warn(
        { file: issue.file, line: issue.line, col: issue.col, object: issue.object, field: issue.field },
        `invalid desired state: ${text}`,
      );
    }
    if (this.issues.length > 0 && issues.length === 0)
      this.log.info({ dir: this.desiredDir }, "desired state is valid again");
    this.issues = issues;
  }

  // ---- state directory ---------------------------------------------------------------------------

  /** Temporary files left by a crash between write and rename; only ours exist, since we hold the lock. */
  private async sweepTempFiles(): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      const items = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const it of items) {
        const p = join(dir, it.name);
        if (it.isDirectory()) await walk(p);
        else if (isTempFile(it.name)) await rm(p, { force: true });
      }
    };
    await walk(join(this.stateDir, "desired"));
    await walk(join(this.stateDir, "objects"));
  }

  private async stateFiles(root: string): Promise<{ path: string; key: ObjectKey }[]> {
    const out: { path: string; key: ObjectKey }[] = [];
    const kinds = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const k of kinds) {
      if (!k.isDirectory() || !isKindName(k.name)) continue;
      const kindDir = join(root, k.name);
      for (const ns of await readdir(kindDir, { withFileTypes: true })) {
        if (!ns.isDirectory()) continue;
        const nsDir = join(kindDir, ns.name);
        for (const f of await readdir(nsDir, { withFileTypes: true })) {
          if (!f.isFile() || !f.name.endsWith(".json") || isTempFile(f.name)) continue;
          out.push({
            path: join(nsDir, f.name),
            key: {
              kind: k.name,
              namespace: ns.name === NO_NAMESPACE_DIR ? "" : ns.name,
              name: f.name.slice(0, -".json".length),
            },
          });
        }
      }
    }
    return out;
  }

  /** Reads children and desired records. A file that does not parse is reported and left alone. */
  private async loadState(): Promise<void> {
    const read = async (path: string, key: ObjectKey, desired: boolean): Promise<Entry | undefined> => {
      try {
        const raw = JSON.parse(await readFile(path, "utf8")) as unknown;
        const record = (desired ? raw : { object: raw }) as Partial<DesiredRecord>;
        const obj = this.parse(key, record.object);
        if (keyString(keyOf(asRefit(obj))) !== keyString(key))
          throw new Error(`it holds ${describeKey(keyOf(asRefit(obj)))}, not ${describeKey(key)}`);
        if (desired && KINDS[key.kind].child) throw new Error(`${key.kind} is not a desired kind`);
        if (!desired && !KINDS[key.kind].child) throw new Error(`${key.kind} is a desired kind`);
        const rv = Number(obj.metadata.resourceVersion);
        if (Number.isSafeInteger(rv)) this.lastRv = Math.max(this.lastRv, rv);
        if (!desired) return { obj };
        return {
          obj,
          desired: stripUndefined({
            specHash: typeof record.specHash === "string" ? record.specHash : contentHash(obj.spec),
            source: record.source,
            issues: record.issues,
            readyBeforeInvalid: record.readyBeforeInvalid,
          }),
        };
      } catch (err) {
        this.log.error(
          { file: path, err: errorMessage(err) },
          "state file cannot be read; it is ignored (move it away once you have looked at it)",
        );
        return undefined;
      }
    };
    for (const desired of [true, false]) {
      const root = join(this.stateDir, desired ? "desired" : "objects");
      for (const f of await this.stateFiles(root)) {
        const entry = await read(f.path, f.key, desired);
        if (entry) this.entries.set(keyString(f.key), entry);
      }
    }
  }

  // ---- watching ----------------------------------------------------------------------------------

  private ignoredPath(path: string): boolean {
    const rel = relative(this.desiredDir, path);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return false;
    if (isInside(path, this.stateDir)) return true;
    return rel.split(sep).some((seg) => seg.startsWith(".") || seg === "node_modules");
  }

  private async startWatching(): Promise<void> {
    this.watching = true;
    await this.rewatchIfMoved();
    // Commits and checkouts move HEAD and refs without touching the files: watch those too, so the
    // recorded revision follows.
    const gd = await gitDir(this.desiredDir, this.gitTimeoutMs);
    if (gd) {
      const refs = watchPaths([join(gd, "HEAD"), join(gd, "refs"), join(gd, "packed-refs")], {
        ignoreInitial: true,
      });
      this.watchers.push(refs);
      await this.whenReady(refs);
    }
  }

  /**
   * A watcher follows the directory it started on. When the directory vanished, came back, or the
   * path now leads to another directory (a deploy that swaps a symlink), watch the new one.
   */
  private async rewatchIfMoved(): Promise<void> {
    const id = await directoryIdentity(this.desiredDir);
    if (id === this.watchedRoot && (id === undefined || this.desiredWatcher)) return;
    await this.desiredWatcher?.close();
    this.desiredWatcher = undefined;
    if (this.watchedRoot !== undefined || id === undefined)
      this.log.warn(
        { dir: this.desiredDir },
        id === undefined
          ? "desired-state directory is gone; the objects in force stay until it is back"
          : "desired-state directory was replaced; watching the new one",
      );
    this.watchedRoot = id;
    if (id === undefined || this.closed) return;
    const w = watchPaths(this.desiredDir, {
      ignoreInitial: true,
      ignored: (p: string) => this.ignoredPath(p),
    });
    this.desiredWatcher = w;
    await this.whenReady(w);
  }

  /** Real timers, like the debounce: resync is a guard against missed file-system events. */
  private scheduleResync(): void {
    if (!this.watching || this.closed) return;
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(
      () => void this.reload(),
      this.watchedRoot === undefined ? ROOT_POLL_MS : this.resyncMs,
    );
    this.resyncTimer.unref();
  }

  private whenReady(w: FSWatcher): Promise<void> {
    w.on("all", () => this.scheduleReload());
    w.on("error", (err) =>
      this.log.warn({ dir: this.desiredDir, err: errorMessage(err) }, "file watcher error"),
    );
    return new Promise((resolvePromise) => w.once("ready", () => resolvePromise()));
  }

  /**
   * Real timers on purpose: this coalesces bursts of file-system events (an editor's save, a git
   * checkout), which happen in real time whatever clock the controller runs on.
   */
  private scheduleReload(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstEventAt ??= now;
    clearTimeout(this.debounceTimer);
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstEventAt + MAX_DEBOUNCE_MS - now));
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.firstEventAt = undefined;
      void this.reload();
    }, wait);
  }
}
