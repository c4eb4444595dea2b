/**
 * Brings the desired objects in force up to date with a fresh load of the desired-state directory
 * (desired-sync.ts decides what the load means for each object):
 *
 * - a new object gets a uid, generation 1 and a creation time;
 * - a changed one keeps its uid and creation time, and its generation moves with its spec only;
 * - one whose file is invalid keeps its last valid version and shows Ready=False InvalidSpec;
 * - a removed one is deleted, and with it what it owned.
 *
 * The desired-state files are the truth: a failed write of a record is logged, the change holds.
 */
import { randomUUID } from "node:crypto";
import type { LoadedObject, LoadResult } from "../../src/api/loader/load.js";
import { formatIssue } from "../../src/api/loader/issue.js";
import type { ObjectMeta } from "../../src/api/meta.js";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { contentHash, sameJson } from "./canonical.js";
import { planSync, type KeptObject } from "./desired-sync.js";
import { modifiedEvent, type ObjectTable } from "./object-table.js";
import type { StateWriter } from "./state-dir.js";
import { invalidOverlay, stampRevision, withoutOverlay } from "./status-overlay.js";
import type { ObjectKey, WatchEvent } from "./store.js";
import {
  asRefit,
  asStored,
  storedKey,
  stripUndefined,
  type Entry,
  type StoredObject,
} from "./stored-object.js";

export interface DesiredApplyContext {
  table: ObjectTable;
  writer: StateWriter;
  log: Logger;
  /** The git revision of the load, recorded on the statuses this writes. */
  revision: string | undefined;
}

/** Metadata a person may set in a desired-state file; the rest is the store's. */
function desiredMeta(m: ObjectMeta): ObjectMeta {
  return { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations };
}

/** Changes made in one go: each event goes out once its own record is written, in write order. */
class RecordBatch {
  private readonly writes: Promise<void>[] = [];

  constructor(private readonly ctx: DesiredApplyContext) {}

  put(key: ObjectKey, entry: Entry, event?: WatchEvent): void {
    this.ctx.table.set(key, entry);
    this.record(key, entry, event);
  }

  remove(key: ObjectKey, event: WatchEvent): void {
    this.ctx.table.remove(key);
    this.record(key, undefined, event);
  }

  async settle(): Promise<void> {
    for (const r of await Promise.allSettled(this.writes)) {
      if (r.status === "fulfilled") continue;
      const fields = { dir: this.ctx.writer.stateDir, err: errorMessage(r.reason) };
      this.ctx.log.error(fields, "could not record desired object state");
    }
  }

  private record(key: ObjectKey, entry: Entry | undefined, event: WatchEvent | undefined): void {
    const written = this.ctx.writer.write(key, entry);
    this.writes.push(event ? written.finally(() => this.ctx.table.watchers.emit(event)) : written);
  }
}

function applyNew(
  ctx: DesiredApplyContext,
  batch: RecordBatch,
  key: ObjectKey,
  lo: LoadedObject,
  now: string,
): void {
  const loaded = asStored(lo.object);
  const metadata = {
    ...stripUndefined(desiredMeta(loaded.metadata)),
    uid: randomUUID(),
    resourceVersion: ctx.table.nextRv(),
    generation: 1,
    creationTimestamp: now,
  };
  const obj: StoredObject = { apiVersion: loaded.apiVersion, kind: loaded.kind, metadata, spec: loaded.spec };
  const desired = { specHash: contentHash(loaded.spec), source: lo.source };
  batch.put(key, { obj, desired }, { type: "ADDED", object: asRefit(obj) });
}

function applyPresent(ctx: DesiredApplyContext, batch: RecordBatch, lo: LoadedObject, now: string): void {
  const key: ObjectKey = { kind: lo.kind, namespace: lo.namespace, name: lo.name };
  const prev = ctx.table.entry(key);
  const info = prev?.desired;
  if (!prev || !info) return applyNew(ctx, batch, key, lo, now);
  const cur = prev.obj;
  const loaded = asStored(lo.object);
  const hash = contentHash(loaded.spec);
  const meta = stripUndefined(desiredMeta(loaded.metadata));
  const specChanged = hash !== info.specHash;
  if (!specChanged && !info.issues && sameJson(desiredMeta(cur.metadata), meta)) {
    // Unchanged; only a move to another file is worth a record.
    const entry = { obj: cur, desired: { ...info, source: lo.source } };
    if (info.source?.file !== lo.source.file) batch.put(key, entry);
    else ctx.table.set(key, entry);
    return;
  }
  const status = info.issues ? stampRevision(withoutOverlay(cur.status, info), ctx.revision) : cur.status;
  const obj: StoredObject = {
    apiVersion: loaded.apiVersion,
    kind: loaded.kind,
    metadata: {
      ...meta,
      uid: cur.metadata.uid,
      resourceVersion: ctx.table.nextRv(),
      generation: (cur.metadata.generation ?? 1) + (specChanged ? 1 : 0),
      creationTimestamp: cur.metadata.creationTimestamp,
    },
    spec: loaded.spec,
    ...(status === undefined ? {} : { status }),
  };
  batch.put(key, { obj, desired: { specHash: hash, source: lo.source } }, modifiedEvent(obj, cur));
}

function applyKept(ctx: DesiredApplyContext, batch: RecordBatch, kept: KeptObject): void {
  const entry = ctx.table.entry(kept.key);
  if (!entry?.desired) return;
  const issues = [...new Set(kept.issues.map(formatIssue))];
  if (sameJson(issues, entry.desired.issues)) return;
  const cur = entry.obj;
  const info = { ...entry.desired, issues };
  const { status, desired } = invalidOverlay(cur, cur.status, info, ctx.table.now());
  const obj: StoredObject = {
    ...cur,
    metadata: { ...cur.metadata, resourceVersion: ctx.table.nextRv() },
    status: stampRevision(status, ctx.revision),
  };
  batch.put(kept.key, { obj, desired }, modifiedEvent(obj, cur));
}

function applyRemoved(ctx: DesiredApplyContext, batch: RecordBatch, key: ObjectKey): void {
  const entry = ctx.table.entry(key);
  if (entry) batch.remove(key, { type: "DELETED", object: asRefit(entry.obj) });
}

export async function applyDesired(ctx: DesiredApplyContext, result: LoadResult): Promise<void> {
  // From here to the writes nothing awaits, so API calls see either the old or the new state.
  const now = ctx.table.nowIso();
  const inForce = ctx.table
    .desiredEntries()
    .map((e) => ({ key: storedKey(e.obj), sourceFile: e.desired?.source?.file }));
  const plan = planSync(inForce, result);
  const batch = new RecordBatch(ctx);
  for (const lo of plan.present) applyPresent(ctx, batch, lo, now);
  for (const kept of plan.kept) applyKept(ctx, batch, kept);
  for (const key of plan.removed) applyRemoved(ctx, batch, key);
  await batch.settle();
  if (plan.removed.length > 0) await ctx.table.collectGarbage();
}
