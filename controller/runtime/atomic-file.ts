/**
 * Crash-safe file writes for the state directory. A reader (or a controller starting after a power
 * cut) sees either the old content or the new, never a torn file: the content goes to a temporary
 * file in the same directory, is fsynced, renamed over the target, and the directory is fsynced so
 * the rename itself is durable.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { afterDurableWrite } from "./crash-points.js";

const TMP_SUFFIX = ".tmp";

/** Temporary files are dot-files ending in `.tmp`, so loaders skip them and startup can sweep them. */
export function isTempFile(name: string): boolean {
  return name.startsWith(".") && name.endsWith(TMP_SUFFIX);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `mkdir -p`, making each new directory durable in its parent. */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  let d = dir;
  const created: string[] = [];
  while (d.length >= first.length) {
    created.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const c of created) await fsyncDir(dirname(c));
}

export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}${TMP_SUFFIX}`);
  const fh = await open(tmp, "wx", mode);
  try {
    try {
      await fh.writeFile(data, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
  afterDurableWrite(`write ${path}`);
}

/** Removes `path` (absent is fine) and makes the removal durable. */
export async function removeFileDurable(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  await fsyncDir(dirname(path));
  afterDurableWrite(`remove ${path}`);
}

/**
 * Runs operations on one path strictly one after another, in the order they were submitted, so the
 * last write submitted is the one left on disk even when writers overlap.
 */
export class SerialWriter {
  private readonly chains = new Map<string, Promise<void>>();

  run(path: string, op: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(path) ?? Promise.resolve();
    const next = prev.then(op, op);
    this.chains.set(path, next);
    const cleanup = (): void => {
      if (this.chains.get(path) === next) this.chains.delete(path);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Resolves when every submitted operation has ended. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }
}
