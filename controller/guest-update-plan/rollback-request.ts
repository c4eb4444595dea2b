/**
 * `refit rollback <plan> <vmid> [--to SNAPSHOT]` in file mode. The controller holds the state
 * directory's lock, so the CLI does not write objects: it drops a request file under
 * <state>/requests/, and the plan's reconciler turns it into the rollback annotations on the
 * container's latest GuestUpdate (the flow acts on those), then removes the file. In Kubernetes mode
 * the annotations are set with kubectl directly.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { snapshotName } from "../../src/api/guest-update.js";
import { vmid } from "../../src/api/primitives.js";
import { ANNOTATION_ROLLBACK_REQUESTED_AT, ANNOTATION_ROLLBACK_TO } from "../../src/api/version.js";

export const rollbackRequest = z.strictObject({
  vmid,
  to: snapshotName.optional(),
  requestedAt: z.iso.datetime(),
});
export type RollbackRequest = z.infer<typeof rollbackRequest>;

export function requestDir(stateDir: string, namespace: string, plan: string): string {
  return join(stateDir, "requests", "GuestUpdatePlan", namespace || "_", plan);
}

/** Writes the request atomically; a second request for the same container replaces the first. */
export async function writeRollbackRequest(
  stateDir: string,
  namespace: string,
  plan: string,
  req: RollbackRequest,
): Promise<string> {
  const dir = requestDir(stateDir, namespace, plan);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `rollback-${req.vmid}.json`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(rollbackRequest.parse(req))}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

export interface PendingRequest {
  path: string;
  request: RollbackRequest | undefined;
  error?: string;
}

export async function readRollbackRequests(
  stateDir: string,
  namespace: string,
  plan: string,
): Promise<PendingRequest[]> {
  const dir = requestDir(stateDir, namespace, plan);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: PendingRequest[] = [];
  for (const n of names.filter((x) => /^rollback-\d+\.json$/.test(x)).sort()) {
    const path = join(dir, n);
    try {
      out.push({ path, request: rollbackRequest.parse(JSON.parse(await readFile(path, "utf8"))) });
    } catch (err) {
      out.push({ path, request: undefined, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

export async function removeRequest(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The GuestUpdate a rollback of `vmid` is about: its latest cycle's. */
export function latestChild(children: readonly GuestUpdate[], vmid: number): GuestUpdate | undefined {
  return children
    .filter((c) => c.spec.vmid === vmid)
    .sort((a, b) => b.spec.cycle.localeCompare(a.spec.cycle))[0];
}

/** The child with the request's annotations set (a new object; the input is not changed). */
export function annotated(child: GuestUpdate, req: RollbackRequest): GuestUpdate {
  const annotations = { ...(child.metadata.annotations ?? {}) };
  annotations[ANNOTATION_ROLLBACK_REQUESTED_AT] = req.requestedAt;
  if (req.to) annotations[ANNOTATION_ROLLBACK_TO] = req.to;
  else delete annotations[ANNOTATION_ROLLBACK_TO];
  return { ...child, metadata: { ...child.metadata, annotations } };
}
