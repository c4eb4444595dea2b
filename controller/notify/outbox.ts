/**
 * The notification outbox: every notice the controller sends is first written here, one file per
 * event under `<state>/outbox/`, with its idempotency key and, per channel, whether it is still owed
 * (Pending), Delivered or Failed. Files are replaced atomically (atomic-file.ts), each file's writes
 * strictly in order, so a crash leaves the old record or the new one. The sender
 * (outbox-sender.ts) delivers what is owed in the background and marks each channel as it ends; a
 * restart loads this directory and resends only what is still Pending.
 *
 * The event and the channel names are stored, never a channel's URL, token or headers: those are
 * resolved from the channel at each delivery.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import type { NotificationEvent } from "../../src/notify/index.js";
import { isTempFile, removeFileDurable, SerialWriter, writeFileAtomic } from "../runtime/atomic-file.js";

export type OutboxChannelState = "Pending" | "Delivered" | "Failed";

/** One channel's share of an entry. */
export interface OutboxChannel {
  name: string;
  state: OutboxChannelState;
  /** HTTP attempts made so far (a restart continues the count). */
  attempts: number;
  /** When the state or attempt count last changed, ISO 8601 on the controller's clock. */
  at?: string;
  /** Why the last attempt failed; names the channel, never a URL or token. */
  message?: string;
  reason?: string;
}

/** One event owed to (or delivered to) its channels. */
export interface OutboxEntry {
  version: 1;
  /** The idempotency key: enqueueing a key that is already here is a no-op. */
  key: string;
  /** Namespace of the plan (and of its channels). */
  namespace: string;
  event: NotificationEvent;
  enqueuedAt: string;
  /** When the last channel left Pending. */
  finishedAt?: string;
  channels: OutboxChannel[];
}

/** Finished entries are kept this long (so a late duplicate is still recognised), then removed. */
export const DEFAULT_OUTBOX_RETENTION_MS = 7 * 24 * 3_600_000;

export function outboxDir(stateDir: string): string {
  return join(stateDir, "outbox");
}

function fileName(key: string): string {
  return `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.json`;
}

function isEntry(raw: unknown): raw is OutboxEntry {
  const e = raw as Partial<OutboxEntry> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    e.version === 1 &&
    typeof e.key === "string" &&
    typeof e.namespace === "string" &&
    typeof e.event === "object" &&
    Array.isArray(e.channels) &&
    e.channels.every(
      (c) =>
        typeof c.name === "string" &&
        ["Pending", "Delivered", "Failed"].includes(c.state) &&
        typeof c.attempts === "number",
    )
  );
}

/** The outbox's records; in memory after `load`, every change written through atomically. */
export class Outbox {
  readonly dir: string;
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly writer = new SerialWriter();
  private loading: Promise<void> | undefined;

  constructor(
    stateDir: string,
    private readonly log?: Logger,
  ) {
    this.dir = outboxDir(stateDir);
  }

  /** Reads the directory once (later calls wait for the first); unreadable files are logged and left. */
  load(): Promise<void> {
    this.loading ??= this.read();
    return this.loading;
  }

  private async read(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      // We hold the state directory's lock: a temporary file is a write a crash cut short.
      if (isTempFile(name)) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith(".json")) continue;
      try {
        const raw: unknown = JSON.parse(await readFile(path, "utf8"));
        if (!isEntry(raw) || fileName(raw.key) !== name) throw new Error("not an outbox entry");
        this.entries.set(raw.key, raw);
      } catch (err) {
        this.log?.warn({ path, err: errorMessage(err) }, "outbox entry unreadable; left as it is");
      }
    }
  }

  get(key: string): OutboxEntry | undefined {
    return this.entries.get(key);
  }

  all(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.enqueuedAt.localeCompare(b.enqueuedAt));
  }

  /** Every (entry, channel) still owed, oldest entry first. */
  owed(): { entry: OutboxEntry; channel: OutboxChannel }[] {
    return this.all().flatMap((entry) =>
      entry.channels.filter((c) => c.state === "Pending").map((channel) => ({ entry, channel })),
    );
  }

  /**
   * Records `entry` durably unless its key is already here. Returns the entry in force (the earlier
   * one for a repeated key) and whether this call added it.
   */
  async enqueue(entry: OutboxEntry): Promise<{ entry: OutboxEntry; added: boolean }> {
    await this.load();
    const existing = this.entries.get(entry.key);
    if (existing) return { entry: existing, added: false };
    this.entries.set(entry.key, entry);
    await this.save(entry);
    return { entry, added: true };
  }

  /** Writes the entry's current content (the last save submitted is the one left on disk). */
  save(entry: OutboxEntry): Promise<void> {
    const path = join(this.dir, fileName(entry.key));
    return this.writer.run(path, () => writeFileAtomic(path, `${JSON.stringify(entry, null, 2)}\n`));
  }

  /** Removes finished entries older than `retentionMs`. */
  async prune(now: number, retentionMs = DEFAULT_OUTBOX_RETENTION_MS): Promise<number> {
    let removed = 0;
    for (const entry of [...this.entries.values()]) {
      const finished = entry.finishedAt === undefined ? NaN : Date.parse(entry.finishedAt);
      if (!(now - finished > retentionMs)) continue;
      this.entries.delete(entry.key);
      const path = join(this.dir, fileName(entry.key));
      await this.writer.run(path, () => removeFileDurable(path));
      removed++;
    }
    return removed;
  }

  /** Resolves when every submitted write has ended. */
  idle(): Promise<void> {
    return this.writer.idle();
  }
}
