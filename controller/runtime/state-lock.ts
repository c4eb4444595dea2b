/**
 * One controller per state directory. Two controllers sharing one would each believe its own status
 * and could reboot the same node twice, so the second one refuses to start and names the holder.
 *
 * The lock is `refit.lock`, created with O_EXCL and holding pid, hostname and start time. A lock
 * whose process is gone (same host, pid not running) is stale and taken over, with a log line.
 * Takeover itself is guarded by `refit.lock.takeover` (also O_EXCL), so two controllers finding the
 * same stale lock cannot both take it.
 */
import { open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/clock.js";
import { TerminalError } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";

export const LOCK_FILE = "refit.lock";

export interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** Locks this process holds: a lock naming our own pid but not in here is from an earlier life of that pid. */
const heldHere = new Set<string>();

/**
 * A lock file that cannot be parsed is normally one being written this very moment; only when it
 * is older than this (file-system time) is it treated as left behind by a crash.
 */
const UNREADABLE_GRACE_MS = 10_000;

export function pidAlive(pid: number): boolean {
  // kill(0) and negative pids address process groups: never probe those.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function describe(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.hostname} since ${h.startedAt}`;
}

type Probe =
  | { kind: "missing" }
  | { kind: "holder"; holder: LockHolder; text: string }
  | { kind: "unreadable"; ageMs: number; text: string };

async function probe(path: string): Promise<Probe> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await readFile(path, "utf8");
    mtimeMs = (await stat(path)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === "number" && typeof v.hostname === "string" && typeof v.startedAt === "string")
      return { kind: "holder", holder: { pid: v.pid, hostname: v.hostname, startedAt: v.startedAt }, text };
  } catch {
    // fall through: unreadable
  }
  return { kind: "unreadable", ageMs: Date.now() - mtimeMs, text };
}

function isStale(p: Probe, path: string): boolean {
  if (p.kind === "missing") return true;
  if (p.kind === "unreadable") return p.ageMs > UNREADABLE_GRACE_MS;
  const h = p.holder;
  if (h.hostname !== hostname()) return false;
  if (h.pid === process.pid) return !heldHere.has(path);
  return !pidAlive(h.pid);
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    await fh.writeFile(content, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

async function removeIfSame(path: string, text: string): Promise<void> {
  const now = await readFile(path, "utf8").catch(() => undefined);
  if (now === text) await unlink(path).catch(() => undefined);
}

export class StateLock {
  private released = false;

  private constructor(
    readonly path: string,
    readonly holder: LockHolder,
    private readonly text: string,
  ) {}

  static async acquire(stateDir: string, options: { clock: Clock; log: Logger }): Promise<StateLock> {
    const path = join(stateDir, LOCK_FILE);
    const holder: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date(options.clock.now()).toISOString(),
    };
    const text = `${JSON.stringify(holder)}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await createExclusive(path, text)) {
        heldHere.add(path);
        return new StateLock(path, holder, text);
      }
      const found = await probe(path);
      if (!isStale(found, path)) throw lockedError(stateDir, path, found);
      await takeOver(path, found, holder, options.log);
    }
    throw new TerminalError(
      "StateDirLocked",
      `could not take the lock ${path}: it kept changing hands; make sure only one controller uses ${stateDir}`,
      { path },
    );
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.path);
    await removeIfSame(this.path, this.text);
  }
}

function lockedError(stateDir: string, path: string, found: Probe): TerminalError {
  const who =
    found.kind === "holder"
      ? describe(found.holder)
      : `an unknown process (the lock file cannot be read: ${JSON.stringify(found.kind === "unreadable" ? found.text.slice(0, 80) : "")})`;
  const context =
    found.kind === "holder" ? { path, pid: found.holder.pid, host: found.holder.hostname } : { path };
  return new TerminalError(
    "StateDirLocked",
    `state directory ${stateDir} is in use by another controller: ${who}; stop that controller, or remove ${path} if you are sure it is not running`,
    context,
  );
}

async function takeOver(path: string, stale: Probe, me: LockHolder, log: Logger): Promise<void> {
  const guard = `${path}.takeover`;
  const mine = `${JSON.stringify(me)}\n`;
  if (!(await createExclusive(guard, mine))) {
    const other = await probe(guard);
    if (!isStale(other, guard)) {
      throw new TerminalError(
        "StateDirLocked",
        `another controller is taking over the stale lock ${path} right now (${other.kind === "holder" ? describe(other.holder) : "see " + guard}); only one may run`,
        { path },
      );
    }
    // A takeover that crashed half-way: clear its guard and let the caller try again.
    if (other.kind !== "missing") await removeIfSame(guard, other.text);
    return;
  }
  try {
    const now = await probe(path);
    // Someone else may have taken (or released) the lock between our look and our guard.
    if (stale.kind !== "missing" && now.kind !== "missing" && now.text === stale.text) {
      log.warn(
        { lock: path, previous: stale.kind === "holder" ? stale.holder : stale.text },
        stale.kind === "holder"
          ? `taking over stale state lock held by ${describe(stale.holder)}: that process is not running`
          : "taking over an unreadable state lock left behind by a crash",
      );
      await unlink(path);
    }
  } finally {
    await removeIfSame(guard, mine);
  }
}
