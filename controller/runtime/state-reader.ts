/**
 * Reads a controller's state directory from outside the controller: what `refit status`, the demo
 * and tests show. It reads through state-dir.ts, the module the file store writes with, so it sees
 * exactly the objects a file store opening this directory would load.
 *
 * It takes no lock, so it works beside a running controller. The controller replaces each file
 * atomically, so a read sees a whole object, old or new; a file removed between listing and reading
 * is an object deleted meanwhile and is left out; temporary files are skipped.
 */
import { readStateEntries, type UnreadableFile } from "./state-dir.js";
import type { StoredObject } from "./stored-object.js";

export type { UnreadableFile } from "./state-dir.js";
export type { StoredObject, StoredStatus } from "./stored-object.js";

export interface StateSnapshot {
  /** Desired objects (with their status) first, then children; by kind, namespace and name. */
  objects: StoredObject[];
  /** Files that cannot be read or hold no valid object for their path; the controller ignores them too. */
  unreadable: UnreadableFile[];
}

export async function readStateSnapshot(stateDir: string): Promise<StateSnapshot> {
  const { entries, unreadable } = await readStateEntries(stateDir);
  return { objects: entries.map((e) => e.entry.obj), unreadable };
}

/** The objects of the state directory; see readStateSnapshot for the files it could not read. */
export async function readState(stateDir: string): Promise<StoredObject[]> {
  return (await readStateSnapshot(stateDir)).objects;
}
