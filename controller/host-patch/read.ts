/**
 * Reads what a phase needs, once per reconcile. Reads only: nothing here changes a host. Read
 * errors that are an answer (a rebooting node is unreachable, a stale package index) become
 * readouts; anything else is thrown, retryable, to the queue's backoff.
 */
import { errorMessage, RefitError } from "../../src/errors.js";
import { observeCeph, observeNode, PveActions, PveReader, unavailableFrom } from "../../src/pve/index.js";
import { jobStatus } from "../../src/ssh/index.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import { observeClusterVia } from "../fleet/observe-cluster.js";
import { guestsOn } from "./observe.js";
import { taskKey, type Needs, type Observation, type Readout } from "./observation.js";

async function readout<T>(fn: () => Promise<T>, when: (err: unknown) => boolean): Promise<Readout<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (!when(err)) throw err;
    const reason = err instanceof RefitError ? err.reason : "Unreachable";
    return { ok: false, reason, message: errorMessage(err) };
  }
}

const retryable = (err: unknown): boolean => err instanceof RefitError && err.retryable;
const always = (): boolean => true;

/** Adds to `obs` what `needs` asks for and `obs` does not hold yet. */
export async function read(
  access: ClusterAccess,
  host: string,
  needs: Needs,
  obs: Observation,
  signal?: AbortSignal,
): Promise<Observation> {
  const exec = access.node(host);
  if (needs.refreshIndex && !obs.index)
    obs.index = await readout(async () => {
      await new PveActions(exec).refreshPackageIndex();
      return true as const;
    }, retryable);
  const pending: Promise<void>[] = [];
  if (needs.node && !obs.node) {
    const { pendingUpdates, mayBeDown } = needs.node;
    pending.push(
      readout(
        () => observeNode(exec, host, { pendingUpdates, ...(signal ? { signal } : {}) }),
        mayBeDown ? always : () => false,
      ).then((r) => {
        obs.node = r;
      }),
    );
  }
  if ((needs.cluster || needs.guests) && !obs.cluster)
    pending.push(
      observeClusterVia(access, host).then(async ({ via, obs: cluster }) => {
        obs.cluster = cluster;
        if (needs.guests && cluster.resources.ok)
          obs.guests = await guestsOn(access, via, cluster.resources.value, host);
      }),
    );
  else if (needs.watchQuorum && !obs.cluster)
    pending.push(
      observeClusterVia(access, host).then(
        ({ obs: cluster }) => {
          obs.cluster = cluster;
        },
        (err: unknown) => {
          if (!retryable(err)) throw err;
        },
      ),
    );
  for (const j of needs.jobs ?? [])
    if (!obs.jobs[j.id])
      pending.push(
        jobStatus(access.node(j.on), j.id, { logLines: 20 }).then((s) => {
          obs.jobs[j.id] = s;
        }),
      );
  for (const t of needs.tasks ?? []) {
    const key = taskKey(t.on, t.vmid);
    if (obs.tasks?.[key]) continue;
    const tasks = (obs.tasks ??= {});
    pending.push(
      readout(() => new PveReader(access.node(t.on)).guestTasks(t.on, t.vmid), always).then((r) => {
        tasks[key] = r;
      }),
    );
  }
  if (needs.services && !obs.services) {
    const units = needs.services;
    pending.push(
      readout(() => new PveReader(exec).servicesActive(units), always).then((r) => {
        obs.services = r;
      }),
    );
  }
  if (needs.ceph && !obs.ceph)
    pending.push(
      observeCeph(exec, signal ? { signal } : {}).then(
        (r) => {
          obs.ceph = r;
        },
        (err: unknown) => {
          // Unreachable or timed out: Ceph's state is unknown, and unknown closes its gate.
          obs.ceph = unavailableFrom(err);
        },
      ),
    );
  await Promise.all(pending);
  return obs;
}
