/**
 * The ObjectStore of file mode.
 *
 * Desired objects (clusters, plans, windows, channels) come from the YAML files of the desired-state
 * directory and are read-only here: a person changes them by editing the files, which are watched,
 * so an edit is in force within a second. Their status, and every child object the reconcilers
 * create, live in the state directory as JSON files written atomically. A lock keeps a second
 * controller off the same state directory.
 *
 * An invalid edit leaves the last valid version in force, reports the problem (logger,
 * `desiredIssues()`) and shows it on the object as Ready=False reason InvalidSpec with file:line:col.
 * While that lasts, every status write keeps Ready at InvalidSpec; the reconciler's own Ready is
 * remembered and put back when the file is fixed.
 *
 * Made of: object-table.ts (the objects in force, Kubernetes semantics), state-dir.ts (the state
 * directory's layout and records), desired-source.ts and desired-watcher.ts (loading and watching
 * the desired-state directory), desired-apply.ts (what a load changes), status-overlay.ts (what the
 * store adds to a status) and state-lock.ts.
 */
import { resolve } from "node:path";
import { KINDS, type KindName, type RefitObject, type RefitObjectOf } from "../../src/api/kinds.js";
import { systemClock, type Clock } from "../../src/clock.js";
import { RetryableError } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { ensureDir } from "./atomic-file.js";
import { applyDesired } from "./desired-apply.js";
import { DesiredSource, requireDesiredDir, type DesiredLoad } from "./desired-source.js";
import { DEFAULT_GIT_TIMEOUT_MS } from "./git-revision.js";
import { ObjectTable, type DecoratedStatus } from "./object-table.js";
import { DEFAULT_STATE_DIR, readStateEntries, StateWriter, sweepTempFiles } from "./state-dir.js";
import { StateLock } from "./state-lock.js";
import { invalidOverlay, stampRevision } from "./status-overlay.js";
import {
  describeKey,
  ReadOnlyError,
  type ListOptions,
  type ObjectKey,
  type ObjectStore,
  type WatchHandler,
  type WatchOptions,
} from "./store.js";
import { asRefit, keyOfInput, type Entry, type StoredStatus } from "./stored-object.js";

export { DEFAULT_STATE_DIR } from "./state-dir.js";
export { INVALID_SPEC } from "./status-overlay.js";

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

const DEFAULT_DEBOUNCE_MS = 200;
const DEFAULT_RESYNC_MS = 60_000;

export class FileStore implements ObjectStore {
  readonly desiredDir: string;
  readonly stateDir: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly writer: StateWriter;
  private readonly table: ObjectTable;
  private readonly source: DesiredSource;
  private closed = false;

  private constructor(
    options: FileStoreOptions,
    private readonly lock: StateLock,
  ) {
    this.desiredDir = resolve(options.desiredDir);
    this.stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.writer = new StateWriter(this.stateDir);
    this.table = new ObjectTable({ writer: this.writer, clock: this.clock, log: this.log });
    this.source = new DesiredSource({
      dir: this.desiredDir,
      stateDir: this.stateDir,
      log: this.log,
      debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      resyncMs: options.resyncMs ?? DEFAULT_RESYNC_MS,
      gitTimeoutMs: options.gitTimeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
      apply: (load) => this.applyLoad(load),
    });
  }

  /**
   * Takes the state directory's lock (TerminalError naming the holder if another controller has it),
   * loads the state and the desired-state directory, and starts watching it.
   */
  static async open(options: FileStoreOptions): Promise<FileStore> {
    await requireDesiredDir(resolve(options.desiredDir));
    const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
    await ensureDir(stateDir);
    const lock = await StateLock.acquire(stateDir, { clock: options.clock ?? systemClock, log: options.log });
    const store = new FileStore(options, lock);
    try {
      await store.start(options.watch ?? true);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  // ---- ObjectStore -------------------------------------------------------------------------------

  get<K extends KindName>(kind: K, namespace: string, name: string): Promise<RefitObjectOf<K> | undefined> {
    const obj = this.table.get({ kind, namespace, name });
    return Promise.resolve(obj && asRefit<RefitObjectOf<K>>(obj));
  }

  list<K extends KindName>(kind: K, options: ListOptions = {}): Promise<RefitObjectOf<K>[]> {
    return Promise.resolve(this.table.list(kind, options).map((o) => asRefit<RefitObjectOf<K>>(o)));
  }

  watch(handler: WatchHandler, options: WatchOptions = {}): () => void {
    return this.table.watchers.watch(handler, options);
  }

  async create<T extends RefitObject>(input: T): Promise<T> {
    this.assertOpen();
    const key = keyOfInput(input);
    if (!KINDS[key.kind].child) throw this.readOnly(key, undefined, "create");
    return asRefit<T>(await this.table.create(key, input));
  }

  async update<T extends RefitObject>(input: T): Promise<T> {
    this.assertOpen();
    const key = keyOfInput(input);
    const entry = this.writable(key, "update");
    return asRefit<T>(await this.table.update(key, entry, input));
  }

  async updateStatus<T extends RefitObject>(input: T): Promise<T> {
    this.assertOpen();
    const key = keyOfInput(input);
    const entry = this.table.existing(key);
    return asRefit<T>(await this.table.updateStatus(key, entry, input, (e, s) => this.decorateStatus(e, s)));
  }

  async delete(kind: KindName, namespace: string, name: string): Promise<void> {
    this.assertOpen();
    const key = { kind, namespace, name };
    await this.table.delete(key, this.writable(key, "delete"));
  }

  // ---- file mode extras --------------------------------------------------------------------------

  /** Problems of the desired-state directory as of the last load, `file:line:col: …`. */
  desiredIssues(): string[] {
    return this.source.issueTexts();
  }

  /** Git revision of the desired-state directory (`<sha>` or `<sha>-dirty`), if it is a checkout. */
  revision(): string | undefined {
    return this.source.revision();
  }

  /** Reads the desired-state directory now (the watcher does this by itself after edits). */
  reload(): Promise<void> {
    return this.source.reload();
  }

  /** Stops watching, waits for pending writes and releases the state directory's lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close();
    await this.writer.idle();
    this.table.watchers.clear();
    await this.lock.release();
  }

  // ---- internals ---------------------------------------------------------------------------------

  private async start(watch: boolean): Promise<void> {
    await sweepTempFiles(this.stateDir);
    await this.loadState();
    await this.source.loadOnce();
    await this.table.collectGarbage(true);
    if (!watch) return;
    await this.source.watch();
    // Catches edits made between the first load and the watcher being ready.
    await this.source.reload();
  }

  /** Reads children and desired records. A file that does not parse is reported and left alone. */
  private async loadState(): Promise<void> {
    const { entries, unreadable } = await readStateEntries(this.stateDir);
    for (const { path, error } of unreadable)
      this.log.error(
        { file: path, err: error },
        "state file cannot be read; it is ignored (move it away once you have looked at it)",
      );
    for (const { key, entry } of entries) this.table.load(key, entry);
  }

  private applyLoad(load: DesiredLoad): Promise<void> {
    const ctx = { table: this.table, writer: this.writer, log: this.log, revision: load.revision };
    return applyDesired(ctx, load.result);
  }

  /** Every status write records the revision; a desired object with issues keeps Ready=InvalidSpec. */
  private decorateStatus(entry: Entry, incoming: StoredStatus | undefined): DecoratedStatus {
    const overlaid = entry.desired?.issues
      ? invalidOverlay(entry.obj, incoming, entry.desired, this.clock.now())
      : { status: incoming, desired: entry.desired };
    return { status: stampRevision(overlaid.status, this.source.revision()), desired: overlaid.desired };
  }

  private assertOpen(): void {
    if (this.closed) throw new RetryableError("StoreClosed", `the file store for ${this.stateDir} is closed`);
  }

  /** The entry of a child, which the reconcilers may change; ReadOnlyError for a desired object. */
  private writable(key: ObjectKey, verb: "update" | "delete"): Entry {
    const entry = this.table.existing(key);
    if (entry.desired) throw this.readOnly(key, entry, verb);
    return entry;
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
}
