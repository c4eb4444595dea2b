/**
 * Runs one reconciler per kind over a work queue. Watch events become keys of the changed object and,
 * through owner references with `controller: true`, of its owner, so a plan is reconciled when one
 * of its children changes. A reconcile that throws a RetryableError (or anything unknown) is retried
 * with backoff; a TerminalError is logged and waits until the object changes; success resets the
 * backoff and honours `requeueAfter`. A reconciler's `watches` map events of other kinds to its own keys.
 */
import type { Clock } from "../../src/clock.js";
import { errorMessage, RefitError, TerminalError } from "../../src/errors.js";
import { isKindName, type KindName, type RefitObject } from "../../src/api/kinds.js";
import type { Logger } from "../../src/log/logger.js";
import { WorkQueue, type WorkQueueOptions } from "./queue.js";
import { keyOf, keyString, type ObjectKey, type ObjectStore, type WatchEvent } from "./store.js";

export interface ReconcileContext {
  /** Aborted when the manager stops with `abort: true`; pass it to every wait. */
  signal: AbortSignal;
  log: Logger;
  clock: Clock;
}

export type ReconcileResult = { requeueAfter?: number } | void;

/**
 * Events of another kind that are news to a reconciler (controller-runtime's `Watches` with a map
 * function): `keys` names the objects of the reconciler's own kind to reconcile for the event.
 */
export interface Watch {
  kind: KindName;
  keys(event: WatchEvent): ObjectKey[];
}

export interface Reconciler {
  kind: KindName;
  reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult>;
  watches?: readonly Watch[];
}

export interface ManagerOptions {
  store: ObjectStore;
  clock: Clock;
  log: Logger;
  /** Reconciles running at once, across kinds; default 2. */
  concurrency?: number;
  /** Backoff tuning and jitter source, passed to the queue. */
  queue?: Pick<WorkQueueOptions, "baseDelayMs" | "maxDelayMs" | "random">;
}

export function parseKey(key: string): ObjectKey {
  const [kind, namespace, name, ...rest] = key.split("/");
  if (!isKindName(kind) || namespace === undefined || !name || rest.length > 0)
    throw new TypeError(`not a reconcile key: ${JSON.stringify(key)}`);
  return { kind, namespace, name };
}

function canonical(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/**
 * A change to the object's own status is written by its own reconciler: reconciling again for it
 * would only loop. Spec (generation), labels, annotations (`refit.dev/requested-at`), finalizers,
 * owners and deletion still count.
 */
function isStatusOnly(event: WatchEvent): boolean {
  if (event.type !== "MODIFIED" || !event.oldObject) return false;
  const a = event.oldObject.metadata;
  const b = event.object.metadata;
  return (
    a.generation === b.generation &&
    a.deletionTimestamp === b.deletionTimestamp &&
    canonical(a.labels) === canonical(b.labels) &&
    canonical(a.annotations) === canonical(b.annotations) &&
    canonical(a.finalizers) === canonical(b.finalizers) &&
    canonical(a.ownerReferences) === canonical(b.ownerReferences)
  );
}

export class Manager {
  private readonly reconcilers = new Map<KindName, Reconciler>();
  private readonly store: ObjectStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly queue: WorkQueue;
  private readonly abort = new AbortController();
  /** Keys whose last reconcile ended in a TerminalError: only a change of the object retries them. */
  private readonly terminal = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private started = false;

  constructor(options: ManagerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log;
    this.queue = new WorkQueue((key) => this.run(key), {
      clock: options.clock,
      concurrency: options.concurrency ?? 2,
      ...options.queue,
      onError: (key, err) => this.log.error({ key, err: errorMessage(err) }, "work queue error"),
    });
  }

  register(reconciler: Reconciler): this {
    if (this.started) throw new Error("register reconcilers before start()");
    if (this.reconcilers.has(reconciler.kind))
      throw new Error(`a reconciler for ${reconciler.kind} is already registered`);
    this.reconcilers.set(reconciler.kind, reconciler);
    return this;
  }

  /** Subscribes to changes, then queues every existing object of a reconciled kind once. */
  async start(): Promise<void> {
    if (this.started) throw new Error("manager already started");
    this.started = true;
    this.unsubscribe = this.store.watch((event) => this.onEvent(event));
    for (const kind of this.reconcilers.keys()) {
      for (const obj of await this.store.list(kind)) this.enqueueChanged(keyOf(obj));
    }
    this.log.info({ kinds: [...this.reconcilers.keys()] }, "manager started");
  }

  /**
   * Stops taking work and resolves when running reconciles finish. With `abort`, their signal is
   * aborted first, so waits inside them end early.
   */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (options.abort) this.abort.abort(new Error("controller is stopping"));
    await this.queue.shutdown();
    this.log.info({}, "manager stopped");
  }

  /**
   * Queues a reconcile of `key` (an external nudge, e.g. another plan released a mutex). An object
   * whose last reconcile failed terminally stays put until it changes.
   */
  enqueue(key: ObjectKey): void {
    if (this.reconcilers.has(key.kind)) this.queue.add(keyString(key));
  }

  private enqueueChanged(key: ObjectKey): void {
    this.terminal.delete(keyString(key));
    this.enqueue(key);
  }

  private onEvent(event: WatchEvent): void {
    const obj = event.object;
    if (!isStatusOnly(event)) this.enqueueChanged(keyOf(obj));
    // A child's change is news to its owner but not a change of it: a terminal owner stays put.
    for (const owner of controllerOwners(obj)) this.enqueue(owner);
    for (const reconciler of this.reconcilers.values()) {
      for (const watch of reconciler.watches ?? []) {
        if (watch.kind !== obj.kind) continue;
        for (const key of watch.keys(event)) if (key.kind === reconciler.kind) this.enqueue(key);
      }
    }
  }

  private async run(key: string): Promise<void> {
    const parsed = parseKey(key);
    const reconciler = this.reconcilers.get(parsed.kind);
    // Delayed requeues and child events of a terminally failed object wait for the object to change.
    if (!reconciler || this.terminal.has(key)) return;
    const log = this.log.child({
      kind: parsed.kind,
      name: parsed.name,
      ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
    });
    let result: ReconcileResult;
    try {
      result = await reconciler.reconcile({ signal: this.abort.signal, log, clock: this.clock }, parsed);
    } catch (err) {
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        this.terminal.add(key);
        log.error(
          { reason: err.reason, err: err.message },
          "reconcile failed and will not be retried until the object changes",
        );
        return;
      }
      if (this.abort.signal.aborted) return;
      const delayMs = this.queue.addRateLimited(key);
      log.warn(
        {
          reason: err instanceof RefitError ? err.reason : "Unexpected",
          err: errorMessage(err),
          retries: this.queue.retries(key),
          delayMs,
        },
        "reconcile failed; retrying with backoff",
      );
      return;
    }
    this.terminal.delete(key);
    this.queue.forget(key);
    const after = result?.requeueAfter;
    if (after !== undefined && after >= 0) this.queue.addAfter(key, after);
  }
}

function controllerOwners(obj: RefitObject): ObjectKey[] {
  const out: ObjectKey[] = [];
  for (const ref of obj.metadata.ownerReferences ?? []) {
    if (ref.controller !== true || !isKindName(ref.kind)) continue;
    out.push({ kind: ref.kind, namespace: obj.metadata.namespace ?? "", name: ref.name });
  }
  return out;
}
