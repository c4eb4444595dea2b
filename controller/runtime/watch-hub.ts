/**
 * The watchers of a store: each committed change goes to every watcher of its kind, in commit
 * order, each with its own copy. A watcher that throws is logged and does not stop the others.
 */
import type { KindName } from "../../src/api/kinds.js";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import type { WatchEvent, WatchHandler, WatchOptions } from "./store.js";
import { clone } from "./stored-object.js";

interface Subscription {
  handler: WatchHandler;
  kinds?: ReadonlySet<KindName>;
}

export class WatchHub {
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly log: Logger) {}

  /** Returns the unsubscribe function. */
  watch(handler: WatchHandler, options: WatchOptions): () => void {
    const sub = { handler, kinds: options.kinds ? new Set(options.kinds) : undefined };
    this.subscriptions.add(sub);
    return () => {
      this.subscriptions.delete(sub);
    };
  }

  emit(event: WatchEvent): void {
    for (const sub of this.subscriptions) {
      if (sub.kinds && !sub.kinds.has(event.object.kind)) continue;
      try {
        sub.handler(clone(event));
      } catch (err) {
        this.log.error({ err: errorMessage(err), kind: event.object.kind }, "watch handler threw");
      }
    }
  }

  clear(): void {
    this.subscriptions.clear();
  }
}
