/**
 * Remote jobs: long work run on the host as a transient systemd unit, so neither a dropped SSH
 * connection nor a restarted controller interrupts it (shared contract 4). Everything here talks to
 * the host only through HostExec.
 */
import { RetryableError, TerminalError } from "../errors.js";
import { quoteArgv } from "./quote.js";
import { SshReason } from "./reasons.js";
import type { SystemdProperties } from "./systemd.js";
import {
  escapeExecStartArg,
  journalUnitResult,
  parseSystemctlShow,
  parseSystemdTimestamp,
} from "./systemd.js";
import type { ExecResult, HostExec } from "./types.js";

export type JobState = "running" | "exited" | "failed" | "timed-out" | "unknown";

export interface JobStatus {
  /**
   * `unknown`: systemd knows no such unit and its journal holds no result, either because it never
   * started or because its end has not been logged yet. It is never a reason to start the job again:
   * startJob refuses to start an id that left any journal line.
   */
  state: JobState;
  /** The job's own exit code (from its `@@refit-exit:` journal line, or systemd's when that is all there is). */
  exitCode?: number;
  /** Epoch ms; only while systemd still holds the unit (a collected unit's times are gone). */
  startedAt?: number;
  finishedAt?: number;
  /** The unit's last journal lines (job output and systemd's lines about it), oldest first. */
  log: string[];
}

const JOB_ID = /^[a-z0-9-]{1,64}$/;
const EXIT_MARKER = /^@@refit-exit:(\d+)$/;
const SHOW_PROPERTIES = [
  "LoadState",
  "ActiveState",
  "SubState",
  "Result",
  "ExecMainStatus",
  "ExecMainStartTimestamp",
  "ExecMainExitTimestamp",
];
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
/** Journal lines fetched beyond what the caller wants, so the exit marker and systemd's result lines are seen. */
const JOURNAL_MARGIN = 10;

export function validateJobId(id: string): void {
  if (!JOB_ID.test(id)) {
    throw new TerminalError(
      SshReason.InvalidJobId,
      `Job id ${JSON.stringify(id.slice(0, 80))} is not valid: use 1 to 64 characters from a-z, 0-9 and '-'.`,
      { jobId: id.slice(0, 80) },
    );
  }
}

export function jobUnit(id: string): string {
  validateJobId(id);
  return `refit-${id}`;
}

/** The job's argv wrapped so its exit code reaches the journal and survives the unit's collection. */
export function wrapJobCommand(argv: readonly string[]): string {
  return `${quoteArgv(argv)}; echo "@@refit-exit:$?"`;
}

export function startJobArgv(id: string, argv: readonly string[], runtimeMaxSec: number): string[] {
  return [
    "systemd-run",
    "--unit",
    jobUnit(id),
    "--property",
    `RuntimeMaxSec=${runtimeMaxSec}`,
    "--collect",
    "--quiet",
    "--",
    "sh",
    "-c",
    escapeExecStartArg(wrapJobCommand(argv)),
  ];
}

/** `TZ=UTC` makes systemctl print timestamps in UTC, which parse without guessing a zone abbreviation. */
export function showJobArgv(id: string): string[] {
  return ["TZ=UTC", "systemctl", "show", jobUnit(id), `--property=${SHOW_PROPERTIES.join(",")}`];
}

export function journalJobArgv(id: string, lines: number): string[] {
  return ["journalctl", "-u", jobUnit(id), "-o", "cat", "--no-pager", "-n", String(lines)];
}

/** journalctl's own notices, which are not journal entries. */
const JOURNAL_NOTICE = /^-- (No entries|Boot [0-9a-f]+) --$/;

export function parseJournal(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.filter((l) => !JOURNAL_NOTICE.test(l));
}

const ACTIVE_STATES = new Set(["active", "activating", "deactivating", "reloading", "refreshing"]);

/** Decides a job's state from `systemctl show` and its journal (pure; the rules are in one place). */
export function interpretJob(
  id: string,
  show: SystemdProperties,
  journal: readonly string[],
  logLines: number,
): JobStatus {
  const unit = `${jobUnit(id)}.service`;
  let marker: number | undefined;
  for (const line of journal) {
    const m = EXIT_MARKER.exec(line);
    if (m) marker = Number(m[1]);
  }
  const output = journal.filter((l) => !EXIT_MARKER.test(l));
  const log = logLines > 0 ? output.slice(-logLines) : [];
  const loaded = show.LoadState !== undefined && show.LoadState !== "" && show.LoadState !== "not-found";
  const times = loaded
    ? stripUndefined({
        startedAt: parseSystemdTimestamp(show.ExecMainStartTimestamp),
        finishedAt: parseSystemdTimestamp(show.ExecMainExitTimestamp),
      })
    : {};

  if (loaded && ACTIVE_STATES.has(show.ActiveState ?? "")) {
    return { state: "running", ...stripUndefined({ startedAt: times.startedAt }), log };
  }
  const result = (loaded ? show.Result : undefined) || journalUnitResult(journal, unit);
  if (result === "timeout") return { state: "timed-out", ...times, log };
  if (marker !== undefined)
    return { state: marker === 0 ? "exited" : "failed", exitCode: marker, ...times, log };
  if ((loaded && show.ActiveState === "failed") || (result !== undefined && result !== "success")) {
    const status = Number(show.ExecMainStatus);
    const exitCode = loaded && result === "exit-code" && Number.isInteger(status) ? status : undefined;
    return { state: "failed", ...stripUndefined({ exitCode }), ...times, log };
  }
  return { state: "unknown", ...times, log };
}

function stripUndefined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: number;
  };
}

export interface StartJobOptions {
  /** The job's whole run time; becomes RuntimeMaxSec (rounded up to whole seconds). */
  timeoutMs: number;
  /** Timeout of each SSH command used to start it. Default 30 s. */
  commandTimeoutMs?: number;
}

/**
 * Starts `argv` as unit `refit-<id>` unless that id already ran or runs: a unit systemd still knows,
 * or any journal line for it, means it was started before, and starting it again could run an
 * upgrade twice. Returns whether this call started it.
 */
export async function startJob(
  exec: HostExec,
  id: string,
  argv: readonly string[],
  opts: StartJobOptions,
): Promise<{ started: boolean }> {
  validateJobId(id);
  if (argv.length === 0) {
    throw new TerminalError(
      SshReason.InvalidCommand,
      `Job ${id} has an empty command; give it at least a program name.`,
      {
        jobId: id,
      },
    );
  }
  if (!(opts.timeoutMs > 0)) {
    throw new TerminalError(
      SshReason.InvalidCommand,
      `Job ${id} needs a positive timeout, got ${opts.timeoutMs} ms.`,
      {
        jobId: id,
      },
    );
  }
  const timeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const show = await runTool(exec, id, showJobArgv(id), timeoutMs);
  if ((parseSystemctlShow(show.stdout).LoadState ?? "not-found") !== "not-found") return { started: false };
  const journal = await runTool(exec, id, journalJobArgv(id, 1), timeoutMs);
  if (parseJournal(journal.stdout).length > 0) return { started: false };

  const runtimeMaxSec = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
  const run = await exec.exec(startJobArgv(id, argv, runtimeMaxSec), { timeoutMs });
  if (run.exitCode === 0) return { started: true };
  // Another caller started it between our check and our start.
  if (/already (exists|loaded)/.test(run.stderr)) return { started: false };
  if (run.exitCode === 127) throw toolMissing(exec, id, "systemd-run");
  throw new RetryableError(
    SshReason.JobStartFailed,
    `systemd-run could not start job ${id} on ${exec.host} (exit ${run.exitCode ?? run.signal}): ${firstLine(run.stderr)}. Refit will retry; check systemd on the host if it persists.`,
    { host: exec.host, jobId: id },
  );
}

export interface JobStatusOptions {
  /** How many of the unit's last journal lines to return. Default 50. */
  logLines?: number;
  /** Timeout of each SSH command. Default 30 s. */
  commandTimeoutMs?: number;
}

export async function jobStatus(exec: HostExec, id: string, opts: JobStatusOptions = {}): Promise<JobStatus> {
  validateJobId(id);
  const logLines = Math.max(0, Math.floor(opts.logLines ?? 50));
  const timeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const show = await runTool(exec, id, showJobArgv(id), timeoutMs);
  const journal = await runTool(exec, id, journalJobArgv(id, logLines + JOURNAL_MARGIN), timeoutMs);
  const props = parseSystemctlShow(show.stdout);
  if (props.LoadState === undefined) {
    throw new RetryableError(
      SshReason.JobStatusFailed,
      `systemctl show printed no LoadState for job ${id} on ${exec.host}; its state cannot be read. Refit will retry.`,
      { host: exec.host, jobId: id },
    );
  }
  return interpretJob(id, props, parseJournal(journal.stdout), logLines);
}

async function runTool(exec: HostExec, id: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
  const r = await exec.exec(argv, { timeoutMs });
  if (r.exitCode === 0) return r;
  const tool = argv.find((a) => !a.includes("=")) ?? argv[0] ?? "";
  if (r.exitCode === 127) throw toolMissing(exec, id, tool);
  throw new RetryableError(
    SshReason.JobStatusFailed,
    `\`${tool}\` failed on ${exec.host} while reading job ${id} (exit ${r.exitCode ?? r.signal}): ${firstLine(r.stderr)}. Refit will retry.`,
    { host: exec.host, jobId: id },
  );
}

function toolMissing(exec: HostExec, id: string, tool: string): TerminalError {
  return new TerminalError(
    SshReason.JobToolMissing,
    `\`${tool}\` is not installed on ${exec.host}, so job ${id} cannot run there. Remote jobs need systemd (systemd-run, systemctl, journalctl) on the host.`,
    { host: exec.host, jobId: id },
  );
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line || "(no message)";
}
