/**
 * Watches the desired-state directory, so an edit is in force within a second:
 *
 * - bursts of file events (an editor's save, a git checkout) are coalesced into one reload;
 * - the directory is also re-read every `resyncMs`, in case an event was missed, and looked for
 *   every second while it is missing;
 * - when the path leads to another directory (a deploy that swaps a symlink), or the directory
 *   vanished and came back, the new one is watched;
 * - git's HEAD and refs are watched too, so the recorded revision follows commits and checkouts that
 *   touch no watched file.
 *
 * Timers are real time on purpose: file-system events happen in real time whatever clock the
 * controller runs on.
 */
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { watch as watchPaths, type FSWatcher } from "chokidar";
import { errorMessage } from "../../src/errors.js";
import type { Logger } from "../../src/log/logger.js";
import { gitDir } from "./git-revision.js";

/** How often a vanished desired-state directory is looked for. */
const ROOT_POLL_MS = 1_000;
/** Debounced reloads still happen at least this often while events keep coming. */
const MAX_DEBOUNCE_MS = 800;

/** Where the desired state is and how eagerly it is watched. */
export interface DesiredDirSettings {
  dir: string;
  /** Ignored when it lies inside `dir`. */
  stateDir: string;
  log: Logger;
  debounceMs: number;
  resyncMs: number;
  gitTimeoutMs: number;
}

export interface DesiredWatcherOptions extends DesiredDirSettings {
  /** Called when the directory should be read again. */
  onChange: () => void;
}

/** Real path, device and inode of the directory `dir` leads to; undefined when there is none. */
async function directoryIdentity(dir: string): Promise<string | undefined> {
  try {
    const real = await realpath(dir);
    const st = await stat(real);
    return st.isDirectory() ? `${real}:${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export class DesiredWatcher {
  /** Watchers of git metadata; the directory's own watcher is `dirWatcher`. */
  private refWatchers: FSWatcher[] = [];
  private dirWatcher: FSWatcher | undefined;
  /** Identity of the directory being watched; undefined while it is missing. */
  private watchedRoot: string | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private firstEventAt: number | undefined;
  private closed = false;

  constructor(private readonly options: DesiredWatcherOptions) {}

  async start(): Promise<void> {
    await this.rewatchIfMoved();
    const gd = await gitDir(this.options.dir, this.options.gitTimeoutMs);
    if (!gd) return;
    const refs = watchPaths([join(gd, "HEAD"), join(gd, "refs"), join(gd, "packed-refs")], {
      ignoreInitial: true,
    });
    this.refWatchers.push(refs);
    await this.whenReady(refs);
  }

  /**
   * A watcher follows the directory it started on. When the directory vanished, came back, or the
   * path now leads to another directory, watch the new one.
   */
  async rewatchIfMoved(): Promise<void> {
    const { dir, log } = this.options;
    const id = await directoryIdentity(dir);
    if (id === this.watchedRoot && (id === undefined || this.dirWatcher)) return;
    await this.dirWatcher?.close();
    this.dirWatcher = undefined;
    if (this.watchedRoot !== undefined || id === undefined)
      log.warn(
        { dir },
        id === undefined
          ? "desired-state directory is gone; the objects in force stay until it is back"
          : "desired-state directory was replaced; watching the new one",
      );
    this.watchedRoot = id;
    if (id === undefined || this.closed) return;
    const w = watchPaths(dir, { ignoreInitial: true, ignored: (p: string) => this.ignored(p) });
    this.dirWatcher = w;
    await this.whenReady(w);
  }

  /** The next read when no event comes: soon while the directory is missing, else after `resyncMs`. */
  scheduleResync(): void {
    if (this.closed) return;
    clearTimeout(this.resyncTimer);
    const wait = this.watchedRoot === undefined ? ROOT_POLL_MS : this.options.resyncMs;
    this.resyncTimer = setTimeout(() => this.options.onChange(), wait);
    this.resyncTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.resyncTimer);
    const watchers = this.dirWatcher ? [...this.refWatchers, this.dirWatcher] : this.refWatchers;
    await Promise.allSettled(watchers.map((w) => w.close()));
    this.refWatchers = [];
    this.dirWatcher = undefined;
  }

  /** Dot-files, node_modules and the state directory (should it lie inside) are not desired state. */
  private ignored(path: string): boolean {
    const rel = relative(this.options.dir, path);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return false;
    if (isInside(path, this.options.stateDir)) return true;
    return rel.split(sep).some((seg) => seg.startsWith(".") || seg === "node_modules");
  }

  private whenReady(w: FSWatcher): Promise<void> {
    w.on("all", () => this.scheduleReload());
    w.on("error", (err) =>
      this.options.log.warn({ dir: this.options.dir, err: errorMessage(err) }, "file watcher error"),
    );
    return new Promise((resolvePromise) => w.once("ready", () => resolvePromise()));
  }

  /** Waits `debounceMs` after the last event, but no more than MAX_DEBOUNCE_MS after the first. */
  private scheduleReload(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstEventAt ??= now;
    clearTimeout(this.debounceTimer);
    const wait = Math.max(0, Math.min(this.options.debounceMs, this.firstEventAt + MAX_DEBOUNCE_MS - now));
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.firstEventAt = undefined;
      this.options.onChange();
    }, wait);
  }
}
