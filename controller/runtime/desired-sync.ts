/**
 * Decides what a fresh load of the desired-state directory means for the objects in force. Valid
 * objects replace their previous version. An object missing from the load is deleted only when
 * nothing suggests it is merely unreadable: if an issue names it, if its file has any issue, or if
 * some document could not be attributed to any object (a YAML syntax error may hide it), the last
 * valid version stays in force. Deleting a plan cascades to its children, so this fails closed.
 */
import type { LoadedObject, LoadResult } from "../../src/api/loader/load.js";
import type { LoadIssue } from "../../src/api/loader/issue.js";
import { keyString, type ObjectKey } from "./store.js";

export interface InForce {
  key: ObjectKey;
  /** The file its last valid version came from. */
  sourceFile?: string;
}

export interface KeptObject {
  key: ObjectKey;
  /** Why it is kept; never empty. */
  issues: LoadIssue[];
}

export interface SyncPlan {
  present: LoadedObject[];
  kept: KeptObject[];
  removed: ObjectKey[];
}

export function planSync(inForce: Iterable<InForce>, result: LoadResult): SyncPlan {
  const present = new Set(
    result.objects.map((o) => keyString({ kind: o.kind, namespace: o.namespace, name: o.name })),
  );
  const unattributed = result.issues.filter((i) => !i.object);
  const kept: KeptObject[] = [];
  const removed: ObjectKey[] = [];
  for (const o of inForce) {
    if (present.has(keyString(o.key))) continue;
    // Issues name objects `Kind/name`, without namespace (names are unique per kind in file mode).
    const label = `${o.key.kind}/${o.key.name}`;
    let issues = result.issues.filter(
      (i) => i.object === label || (o.sourceFile !== undefined && i.file === o.sourceFile),
    );
    if (issues.length === 0) issues = unattributed;
    if (issues.length > 0) kept.push({ key: o.key, issues });
    else removed.push(o.key);
  }
  return { present: result.objects, kept, removed };
}
