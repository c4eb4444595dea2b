/**
 * Crash points: a TEST HOOK that makes the controller process die abruptly at an exact, countable
 * moment, so a test can prove that every single durable state write and every single remote action
 * is a safe place to crash ("Intent is recorded before it is acted on", "Long remote work survives
 * the controller"). It is inert unless its environment variable is set, and it is never meant to be
 * set outside tests.
 *
 * Environment (read once, when this module is first imported, i.e. at controller startup):
 *
 *   REFIT_CRASH_AT=write:N    die right AFTER the Nth durable state write of this process
 *   REFIT_CRASH_AT=action:N   die right BEFORE the Nth remote action of this process
 *                             (N is a decimal integer ≥ 1; unset or empty: no crash point)
 *   REFIT_CRASH_COUNT_FILE=p  after every increment, write the counters to `p` as JSON
 *                             `{"writes":W,"actions":A,"lastWrite":"…","lastAction":"…"}`
 *                             (temporary file + rename, so a reader sees the old or the new
 *                             counters, never a torn file). Works with or without REFIT_CRASH_AT:
 *                             a clean run with only this variable tells a test the totals.
 *
 * A malformed REFIT_CRASH_AT (or a whitespace-only REFIT_CRASH_COUNT_FILE) throws a CrashPointConfigError
 * at import, so the controller refuses to start instead of running without the crash it was asked
 * for. When neither variable is set, both hooks are one comparison against `undefined`.
 *
 * "Dies" means `process.kill(process.pid, "SIGKILL")`: exactly what a kill -9 or an OOM kill would
 * do. No `finally`, no exit handler, no stream flush, no lock release runs; the counters in the
 * count file are written (synchronously) before the signal, so the test knows where it died.
 *
 * Contract for the call sites (one call per event, synchronous, never awaited):
 *
 * - `afterDurableWrite(what)` — called by controller/runtime/atomic-file.ts, the one place every
 *   state-directory object write goes through, after the rename and the directory fsync (the write
 *   is durable: a crash right after it must find it on disk), and after a durable removal. Nothing
 *   else calls it.
 *
 * - `beforeRemoteAction(what)` — to be called by the HostPatch flow's applier, the one place that
 *   performs remote actions, once per action it performs: upgrade job start, migration start, HA
 *   maintenance enter/leave, guest shutdown, reboot, guest start. Call it
 *     * after the action's intent has been written to status (so `action:N` crashes with the
 *       intent durable and the action not yet sent: the resume must send it, exactly once),
 *     * immediately before the first command of the action is sent to the host, with no await in
 *       between,
 *     * again on every retry or re-issue of an action (each attempt is a remote action),
 *     * never from the pure decide functions, observation (read-only commands), or `refit plan`.
 *   `what` is a short human label for the report, e.g. "reboot pve1", "migrate 100 pve1->pve2".
 */
import { renameSync, writeFileSync } from "node:fs";

export const CRASH_AT_ENV = "REFIT_CRASH_AT";
export const CRASH_COUNT_FILE_ENV = "REFIT_CRASH_COUNT_FILE";

export type CrashKind = "write" | "action";

export interface CrashAt {
  kind: CrashKind;
  /** 1-based: the Nth event of `kind` in this process. */
  n: number;
}

export interface CrashCounts {
  writes: number;
  actions: number;
  lastWrite?: string;
  lastAction?: string;
}

export class CrashPointConfigError extends Error {
  override readonly name = "CrashPointConfigError";
}

/** Parses a REFIT_CRASH_AT value; `undefined` for unset or empty; throws on anything malformed. */
export function parseCrashAt(value: string | undefined): CrashAt | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const m = /^(write|action):([1-9][0-9]*)$/.exec(value.trim());
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(n)) {
    throw new CrashPointConfigError(
      `${CRASH_AT_ENV}=${JSON.stringify(value)} is not a crash point: expected write:N or action:N with N a whole number ≥ 1 (e.g. ${CRASH_AT_ENV}=write:17); unset it to run without the test hook`,
    );
  }
  return { kind: m[1] as CrashKind, n };
}

/** The hook's state in one process; exported for unit tests, the controller uses the module functions. */
export class CrashPoints {
  private readonly counts: CrashCounts = { writes: 0, actions: 0 };

  constructor(
    readonly crashAt: CrashAt | undefined,
    readonly countFile: string | undefined,
    private readonly die: () => void = () => {
      process.kill(process.pid, "SIGKILL");
    },
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): CrashPoints | undefined {
    const crashAt = parseCrashAt(env[CRASH_AT_ENV]);
    const file = env[CRASH_COUNT_FILE_ENV];
    const countFile = file === undefined || file === "" ? undefined : file;
    if (countFile !== undefined && countFile.trim() === "") {
      throw new CrashPointConfigError(`${CRASH_COUNT_FILE_ENV} is blank; give a file path or unset it`);
    }
    if (crashAt === undefined && countFile === undefined) return undefined;
    return new CrashPoints(crashAt, countFile);
  }

  snapshot(): CrashCounts {
    return { ...this.counts };
  }

  afterDurableWrite(what: string): void {
    this.counts.writes++;
    this.counts.lastWrite = what;
    this.record("write", this.counts.writes);
  }

  beforeRemoteAction(what: string): void {
    this.counts.actions++;
    this.counts.lastAction = what;
    this.record("action", this.counts.actions);
  }

  private record(kind: CrashKind, n: number): void {
    if (this.countFile !== undefined) {
      const tmp = `${this.countFile}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(this.counts)}\n`);
      renameSync(tmp, this.countFile);
    }
    if (this.crashAt?.kind === kind && this.crashAt.n === n) this.die();
  }
}

const active: CrashPoints | undefined = CrashPoints.fromEnv();

/** Test hook: call right after a durable state write (see the contract above). Inert when unset. */
export function afterDurableWrite(what: string): void {
  if (active !== undefined) active.afterDurableWrite(what);
}

/** Test hook: call right before a remote action is sent (see the contract above). Inert when unset. */
export function beforeRemoteAction(what: string): void {
  if (active !== undefined) active.beforeRemoteAction(what);
}
