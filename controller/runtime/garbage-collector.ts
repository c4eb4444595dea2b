/**
 * Kubernetes background cascading deletion: an object that has owner references, none of whose
 * owners exists any more (by uid), is an orphan to delete. An object marked for deletion but held by
 * finalizers is already on its way and is not picked again.
 */
import { isKindName } from "../../src/api/kinds.js";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { describeKey, keyString, type ObjectKey } from "./store.js";
import { storedKey, type Entry } from "./stored-object.js";

export interface Orphan {
  key: ObjectKey;
  entry: Entry;
  /**
   * An owner exists under the same name but another uid. At startup that only happens when the
   * state directory lost records, and the child may hold the only proof of a step in flight.
   */
  ownerNamedAgain: boolean;
}

/** The first orphan among `entries` whose key is not in `skip`. */
function findOrphan(entries: readonly Entry[], skip: ReadonlySet<string>): Orphan | undefined {
  const uids = new Set<string>();
  const names = new Set<string>();
  for (const e of entries) {
    if (e.obj.metadata.uid) uids.add(e.obj.metadata.uid);
    names.add(keyString(storedKey(e.obj)));
  }
  for (const entry of entries) {
    const { metadata } = entry.obj;
    const refs = metadata.ownerReferences ?? [];
    if (entry.desired || refs.length === 0 || refs.some((r) => uids.has(r.uid))) continue;
    if (metadata.deletionTimestamp && metadata.finalizers?.length) continue;
    const key = storedKey(entry.obj);
    if (skip.has(keyString(key))) continue;
    const ownerNamedAgain = refs.some(
      (r) =>
        isKindName(r.kind) && names.has(keyString({ kind: r.kind, namespace: key.namespace, name: r.name })),
    );
    return { key, entry, ownerNamedAgain };
  }
  return undefined;
}

export interface Collection {
  entries(): Entry[];
  /** Deletes the object, or marks it while finalizers hold it. */
  remove(key: ObjectKey, entry: Entry): Promise<void>;
  log: Logger;
}

function warnSpared(log: Logger, { key, entry }: Orphan): void {
  const owners = (entry.obj.metadata.ownerReferences ?? []).map((r) => `${r.kind}/${r.name} uid ${r.uid}`);
  log.warn(
    { object: describeKey(key), owners },
    "owner exists with another uid (state records lost?); keeping this object instead of deleting it",
  );
}

/**
 * Deletes every orphan, until nothing changes. At startup an orphan whose owner exists under the same
 * name but another uid is kept, with a warning. A failed deletion is logged and ends the collection.
 */
export async function collectGarbage(c: Collection, startup: boolean): Promise<void> {
  const spared = new Set<string>();
  for (;;) {
    const orphan = findOrphan(c.entries(), spared);
    if (!orphan) return;
    if (startup && orphan.ownerNamedAgain) {
      spared.add(keyString(orphan.key));
      warnSpared(c.log, orphan);
      continue;
    }
    try {
      await c.remove(orphan.key, orphan.entry);
    } catch (err) {
      c.log.error(
        { object: describeKey(orphan.key), err: errorMessage(err) },
        "could not delete an orphaned object",
      );
      return;
    }
  }
}
