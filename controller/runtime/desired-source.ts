/**
 * The desired-state directory as the source of the desired objects: each load of its YAML files
 * (src/api/loader), with the directory's git revision, is handed to `apply`. Problems are reported
 * once each, and when the directory is valid again. While watching (desired-watcher.ts), the
 * directory is loaded again after every edit; overlapping requests to load run one after another.
 */
import { stat } from "node:fs/promises";
import { formatIssue, type LoadIssue } from "../../src/api/loader/issue.js";
import { loadDesiredState, type LoadResult } from "../../src/api/loader/load.js";
import { errorMessage, TerminalError } from "../../src/errors.js";
import { DesiredWatcher, type DesiredDirSettings } from "./desired-watcher.js";
import { gitRevision } from "./git-revision.js";

export interface DesiredLoad {
  result: LoadResult;
  /** `<sha>` or `<sha>-dirty` when the directory is a git checkout. */
  revision: string | undefined;
}

export interface DesiredSourceOptions extends DesiredDirSettings {
  /** Brings the objects in force up to date with a load. */
  apply: (load: DesiredLoad) => Promise<void>;
}

/** TerminalError DesiredStateMissing unless `dir` is a directory. */
export async function requireDesiredDir(dir: string): Promise<void> {
  if ((await stat(dir).catch(() => undefined))?.isDirectory()) return;
  throw new TerminalError(
    "DesiredStateMissing",
    `the desired-state directory ${dir} does not exist or is not a directory; create it or point the controller at the right one`,
    { path: dir },
  );
}

export class DesiredSource {
  private rev: string | undefined;
  private revWhyNot: string | undefined;
  private issues: LoadIssue[] = [];
  private watcher: DesiredWatcher | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private closed = false;

  constructor(private readonly options: DesiredSourceOptions) {}

  /** Git revision of the directory as of the last load. */
  revision(): string | undefined {
    return this.rev;
  }

  /** Problems of the directory as of the last load, `file:line:col: …`. */
  issueTexts(): string[] {
    return this.issues.map(formatIssue);
  }

  /** Loads the directory once and applies it; throws what loading or applying throws. */
  async loadOnce(): Promise<void> {
    await this.watcher?.rewatchIfMoved();
    const result = await loadDesiredState(this.options.dir);
    await this.readRevision();
    if (this.closed) return;
    this.reportIssues(result.issues);
    await this.options.apply({ result, revision: this.rev });
    this.watcher?.scheduleResync();
  }

  /** Loads the directory now, or again once the load under way ends; failures are logged. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = this.reloadUntilSettled().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  async watch(): Promise<void> {
    const { apply: _apply, ...settings } = this.options;
    this.watcher = new DesiredWatcher({ ...settings, onChange: () => void this.reload() });
    await this.watcher.start();
  }

  /** Stops watching and waits for the load under way. */
  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.close();
    await this.reloading?.catch(() => undefined);
  }

  private async reloadUntilSettled(): Promise<void> {
    do {
      this.reloadAgain = false;
      try {
        await this.loadOnce();
      } catch (err) {
        this.options.log.error(
          { dir: this.options.dir, err: errorMessage(err) },
          "could not reload the desired-state directory; the objects in force stay as they were",
        );
      }
    } while (this.reloadAgain && !this.closed);
  }

  private async readRevision(): Promise<void> {
    const { dir, log, gitTimeoutMs } = this.options;
    const r = await gitRevision(dir, gitTimeoutMs);
    if (r.revision !== undefined) {
      if (r.revision !== this.rev) log.info({ dir, revision: r.revision }, "desired-state revision");
      this.rev = r.revision;
      this.revWhyNot = undefined;
      return;
    }
    if (this.revWhyNot !== r.reason)
      log.debug({ dir, reason: r.reason }, "desired-state directory has no git revision");
    this.rev = undefined;
    this.revWhyNot = r.reason;
  }

  private reportIssues(issues: LoadIssue[]): void {
    const before = new Set(this.issueTexts());
    for (const issue of issues) {
      const text = formatIssue(issue);
      if (before.has(text)) continue;
      const { file, line, col, object, field } = issue;
      this.options.log.warn({ file, line, col, object, field }, `invalid desired state: ${text}`);
    }
    if (this.issues.length > 0 && issues.length === 0)
      this.options.log.info({ dir: this.options.dir }, "desired state is valid again");
    this.issues = issues;
  }
}
