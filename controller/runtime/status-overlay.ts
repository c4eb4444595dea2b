/**
 * What the file store itself puts on a status, over what the reconciler wrote:
 *
 * - `observedRevision`, the git revision of the desired-state directory, on every status write;
 * - while a desired object's file is invalid, Ready=False reason InvalidSpec naming file:line:col.
 *   The Ready the reconciler wrote meanwhile is remembered and put back once the file is fixed.
 */
import type { Condition } from "../../src/api/meta.js";
import { getCondition, READY, setReady } from "./conditions.js";
import { clone, type DesiredInfo, type StoredObject, type StoredStatus } from "./stored-object.js";

export const INVALID_SPEC = "InvalidSpec";

/** The status recording `revision`, or recording none when there is none; `status` is left as it is. */
export function stampRevision(
  status: StoredStatus | undefined,
  revision: string | undefined,
): StoredStatus | undefined {
  if (revision !== undefined) return { ...(status ?? {}), observedRevision: revision };
  if (!status || !("observedRevision" in status)) return status;
  const { observedRevision: _dropped, ...rest } = status;
  return rest;
}

function invalidMessage(issues: readonly string[]): string {
  return `the desired-state file is invalid, so the last valid version stays in force: ${issues.join("; ")}`;
}

/** The Ready to restore later: the reconciler's own, or the one saved before when this is ours. */
function readyToRestore(status: StoredStatus, info: DesiredInfo): Condition | undefined {
  const theirs = getCondition(status, READY);
  return theirs && theirs.reason !== INVALID_SPEC ? theirs : info.readyBeforeInvalid;
}

/**
 * Ready=False reason InvalidSpec on top of `incoming`, remembering the Ready it replaces. The stored
 * InvalidSpec condition is the base, so its lastTransitionTime survives the reconciler's writes.
 */
export function invalidOverlay(
  cur: StoredObject,
  incoming: StoredStatus | undefined,
  info: DesiredInfo,
  now: number,
): { status: StoredStatus; desired: DesiredInfo } {
  const status: StoredStatus = clone(incoming ?? {});
  const saved = readyToRestore(status, info);
  const stored = getCondition(cur.status, READY);
  if (stored?.reason === INVALID_SPEC) {
    status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== READY), clone(stored)];
  }
  const observedGeneration = status.observedGeneration;
  const message = invalidMessage(info.issues ?? []);
  setReady(status, { status: "False", reason: INVALID_SPEC, message }, cur.metadata.generation ?? 1, now);
  // The reconciler's observedGeneration stays: the store did not compute anything for the spec.
  if (observedGeneration === undefined) delete status.observedGeneration;
  else status.observedGeneration = observedGeneration;
  return { status, desired: { ...info, readyBeforeInvalid: saved } };
}

/** Puts back the Ready the reconciler had before the spec became invalid (or none if it had none). */
export function withoutOverlay(
  status: StoredStatus | undefined,
  info: DesiredInfo,
): StoredStatus | undefined {
  if (!status?.conditions) return status;
  const s = clone(status);
  const conditions = s.conditions ?? [];
  const i = conditions.findIndex((c) => c.type === READY && c.reason === INVALID_SPEC);
  if (i < 0) return s;
  if (info.readyBeforeInvalid) conditions[i] = clone(info.readyBeforeInvalid);
  else conditions.splice(i, 1);
  return s;
}
