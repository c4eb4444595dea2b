/**
 * Named mutexes between plans: plans sharing a `mutex` name never act at the same time.
 *
 * The table is in-process and deterministic; its truth lives in plan status (the holder records that it
 * holds the mutex), and `restore` rebuilds it after a restart. Fairness is FIFO by first ask: a plan that
 * asks while the mutex is held becomes a waiter stamped with that first-ask time, and when the mutex is
 * free only the earliest waiter may take it (ties broken by holder key, so the order never depends on
 * event order). Waiters do not get the mutex pushed to them: they take it on their next `acquire`, and
 * `release` names the one to requeue. A plan that is deleted, suspended or no longer wants the mutex
 * must be `forget`-ten, or it blocks the queue; `waiterTimeoutMs` optionally drops waiters that stopped
 * asking.
 */

export interface MutexEntry {
  name: string;
  holderKey: string;
  /** When it was acquired (holder) or first asked for (waiter). */
  sinceMs: number;
}

export type AcquireResult =
  | { acquired: true; holder: string }
  | {
      acquired: false;
      /** Who holds it now; undefined when it is free but an earlier waiter goes first. */
      holder: string | undefined;
      /** Waiters ahead of the caller. */
      ahead: string[];
    };

export interface MutexTableOptions {
  /** Drop a waiter that has not asked again for this long; undefined keeps waiters until `forget`. */
  waiterTimeoutMs?: number;
}

interface Waiter {
  key: string;
  firstAskMs: number;
  lastAskMs: number;
}

interface Slot {
  holder?: { key: string; sinceMs: number };
  waiters: Waiter[];
}

const byArrival = (a: { firstAskMs: number; key: string }, b: { firstAskMs: number; key: string }): number =>
  a.firstAskMs - b.firstAskMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class MutexTable {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: MutexTableOptions = {}) {}

  private slot(name: string): Slot {
    let s = this.slots.get(name);
    if (!s) {
      s = { waiters: [] };
      this.slots.set(name, s);
    }
    return s;
  }

  private prune(name: string): void {
    const s = this.slots.get(name);
    if (s && !s.holder && s.waiters.length === 0) this.slots.delete(name);
  }

  /**
   * Takes `name` for `holderKey` if it is free and no earlier waiter is queued; holding it already
   * counts as acquired. Otherwise records `holderKey` as a waiter (keeping its first-ask time).
   */
  acquire(name: string, holderKey: string, nowMs: number): AcquireResult {
    const s = this.slot(name);
    if (s.holder?.key === holderKey) return { acquired: true, holder: holderKey };
    const timeout = this.options.waiterTimeoutMs;
    if (timeout !== undefined)
      s.waiters = s.waiters.filter((w) => w.key === holderKey || nowMs - w.lastAskMs <= timeout);
    let me = s.waiters.find((w) => w.key === holderKey);
    if (!me) {
      me = { key: holderKey, firstAskMs: nowMs, lastAskMs: nowMs };
      s.waiters.push(me);
      s.waiters.sort(byArrival);
    }
    me.lastAskMs = Math.max(me.lastAskMs, nowMs);
    const ahead = s.waiters.slice(0, s.waiters.indexOf(me)).map((w) => w.key);
    if (s.holder || ahead.length > 0) return { acquired: false, holder: s.holder?.key, ahead };
    s.waiters = s.waiters.filter((w) => w !== me);
    s.holder = { key: holderKey, sinceMs: nowMs };
    return { acquired: true, holder: holderKey };
  }

  /**
   * Releases `name` if `holderKey` holds it. Returns whether it did, and the waiter that may take it
   * next (requeue that plan).
   */
  release(name: string, holderKey: string): { released: boolean; next: string | undefined } {
    const s = this.slots.get(name);
    if (!s || s.holder?.key !== holderKey) return { released: false, next: s?.waiters[0]?.key };
    delete s.holder;
    const next = s.waiters[0]?.key;
    this.prune(name);
    return { released: true, next };
  }

  holderOf(name: string): string | undefined {
    return this.slots.get(name)?.holder?.key;
  }

  /** Waiters of `name`, first in line first. */
  waitersOf(name: string): string[] {
    return (this.slots.get(name)?.waiters ?? []).map((w) => w.key);
  }

  /**
   * Removes `holderKey` everywhere (or only from `name`): from waiting lines and as a holder. Returns
   * the mutexes it released with who may take each next.
   */
  forget(holderKey: string, name?: string): { name: string; next: string | undefined }[] {
    const released: { name: string; next: string | undefined }[] = [];
    for (const [n, s] of [...this.slots]) {
      if (name !== undefined && n !== name) continue;
      s.waiters = s.waiters.filter((w) => w.key !== holderKey);
      if (s.holder?.key === holderKey) {
        delete s.holder;
        released.push({ name: n, next: s.waiters[0]?.key });
      }
      this.prune(n);
    }
    return released;
  }

  /** Holders, for writing to status. */
  holders(): MutexEntry[] {
    return [...this.slots]
      .filter(([, s]) => s.holder)
      .map(([name, s]) => ({ name, holderKey: s.holder?.key ?? "", sinceMs: s.holder?.sinceMs ?? 0 }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Rebuilds the table from holders recorded in plan status (after a restart). Clears everything first.
   * When status claims two holders for one name (a crash between writes, or two controllers), the one
   * with the earliest `sinceMs` (then the smaller key) keeps it and the others become its first waiters;
   * they are returned as conflicts for the controller to report, since both may have been acting.
   */
  restore(entries: readonly MutexEntry[]): { conflicts: MutexEntry[] } {
    this.slots.clear();
    const conflicts: MutexEntry[] = [];
    const sorted = [...entries].sort((a, b) =>
      byArrival({ firstAskMs: a.sinceMs, key: a.holderKey }, { firstAskMs: b.sinceMs, key: b.holderKey }),
    );
    for (const e of sorted) {
      const s = this.slot(e.name);
      if (!s.holder) s.holder = { key: e.holderKey, sinceMs: e.sinceMs };
      else if (s.holder.key !== e.holderKey) {
        conflicts.push(e);
        if (!s.waiters.some((w) => w.key === e.holderKey))
          s.waiters.push({ key: e.holderKey, firstAskMs: e.sinceMs, lastAskMs: e.sinceMs });
      }
    }
    return { conflicts };
  }
}
