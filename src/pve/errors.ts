import { RetryableError, TerminalError } from "../errors.js";
import { quoteArgv } from "../ssh/quote.js";
import { PveReason } from "./reasons.js";

const EXCERPT_CHARS = 160;
const TAIL_CHARS = 400;
const COMMAND_CHARS = 200;

/** Who ran what: lets a parser name the command and host in its error without running anything. */
export interface ParseContext {
  /** The command line as sent (defaults to the parser's canonical command). */
  readonly command?: string;
  readonly host?: string;
}

/** The command line as a human reads it, bounded so a long argv cannot flood a condition message. */
export function describeCommand(argv: readonly string[]): string {
  return bounded(quoteArgv(argv), COMMAND_CHARS);
}

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The start of some output, quoted, so an error shows what the parser was looking at. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) return "(empty output)";
  return JSON.stringify(bounded(trimmed, max));
}

/** The end of some output: error messages from CLIs come last. */
export function tail(text: string, max = TAIL_CHARS): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(trimmed.length - max)}`;
}

function onHost(host: string | undefined): string {
  return host === undefined ? "" : ` on ${host}`;
}

/**
 * A remote command printed something we cannot read. Retryable because the host may answer
 * differently next time (a half-written file, a transient error page), but until it does every gate
 * that needs this value stays closed.
 */
export class UnparseableOutputError extends RetryableError {
  readonly command: string;
  readonly excerpt: string;
  readonly problem: string;
  constructor(command: string, output: string, problem: string, host?: string) {
    const shown = excerpt(output);
    super(
      PveReason.UnparseableOutput,
      `Could not read the output of \`${command}\`${onHost(host)}: ${problem}; output begins ${shown}. ` +
        `Gates that depend on it stay closed; check the command by hand on the host and that its Proxmox version is supported.`,
      { host, command },
    );
    this.command = command;
    this.excerpt = shown;
    this.problem = problem;
  }
}

/** Throws an UnparseableOutputError naming the command from the context or the parser's default. */
export function unparseable(
  ctx: ParseContext | undefined,
  defaultCommand: string,
  output: string,
  problem: string,
): never {
  throw new UnparseableOutputError(ctx?.command ?? defaultCommand, output, problem, ctx?.host);
}

/** A remote command exited non-zero (or was killed); carries the exit code and the output's tail. */
export class CommandFailedError extends RetryableError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly outputTail: string;
  constructor(
    reason: PveReason,
    message: string,
    command: string,
    exitCode: number | null,
    outputTail: string,
    host?: string,
  ) {
    super(reason, message, { host, command, exitCode: exitCode ?? undefined });
    this.command = command;
    this.exitCode = exitCode;
    this.outputTail = outputTail;
  }
}

/** The remote shell could not find the program (exit 127): retrying cannot help until it is installed. */
export class CommandMissingError extends TerminalError {
  readonly command: string;
  readonly program: string;
  readonly outputTail: string;
  constructor(command: string, program: string, outputTail: string, host?: string) {
    super(
      PveReason.CommandMissing,
      `\`${program}\` is not installed${onHost(host)} (\`${command}\` exited 127: ${JSON.stringify(outputTail)}); ` +
        `install it or use a profile that does not need it.`,
      { host, command, exitCode: 127 },
    );
    this.command = command;
    this.program = program;
    this.outputTail = outputTail;
  }
}

/** A batched exec came back without a step's end marker: the connection or the output was cut. */
export class BatchTruncatedError extends RetryableError {
  constructor(message: string, host?: string) {
    super(PveReason.BatchTruncated, message, { host });
  }
}

/** A value that would go into argv is not valid (and could be read as an option or path). */
export class InvalidArgumentError extends TerminalError {
  constructor(message: string, context: Record<string, string | number | undefined> = {}) {
    super(PveReason.InvalidArgument, message, context);
  }
}

// dpkg/apt (`Could not get lock /var/lib/dpkg/lock-frontend`, `Unable to acquire the dpkg frontend
// lock`) and Proxmox's PVE::Tools::lock_file (`trying to acquire lock...`, `can't lock file ... got timeout`).
const LOCK_HELD = [
  /trying to acquire lock/i,
  /can't lock file/i,
  /Could not get lock/i,
  /Unable to acquire the dpkg frontend lock/i,
];
// apt-pkg/contrib/fileutl.cc GetLock: "Could not get lock /var/lib/dpkg/lock-frontend. It is held by
// process 1234 (unattended-upgr)"; dpkg lib/dpkg/file.c: "... was locked by another process with pid 1234".
const APT_LOCK_HOLDER = /Could not get lock (\S+?)\.? It is held by process (\d+)(?: \(([^)]*)\))?/;
const DPKG_LOCK_HOLDER = /dpkg frontend lock was locked by another process with pid (\d+)/;
const APT_LOCK =
  /Could not get lock \/var\/lib\/(?:dpkg|apt)\/|Unable to acquire the dpkg frontend lock|dpkg frontend lock was locked/;

// apt-pkg/deb/debsystem.cc debSystem::Lock when dpkg's journal (/var/lib/dpkg/updates) is dirty.
const DPKG_INTERRUPTED = /dpkg was interrupted, you must manually run '(?:sudo )?dpkg --configure -a'/;

/** "package manager busy (pid 1234, unattended-upgr)" when apt or dpkg named the lock's holder. */
export function packageManagerBusy(output: string): string | undefined {
  if (!APT_LOCK.test(output)) return undefined;
  const apt = APT_LOCK_HOLDER.exec(output);
  if (apt) return `package manager busy (pid ${apt[2]}${apt[3] ? `, ${apt[3]}` : ""})`;
  const dpkg = DPKG_LOCK_HOLDER.exec(output);
  return dpkg ? `package manager busy (pid ${dpkg[1]})` : "package manager busy";
}

/**
 * What PVE's CLIs print while a cluster service restarts (src/pve/REFERENCE-cluster-services.md):
 * pmxcfs down (PVE::Cluster `ipcc_send_rec[<msgid>] failed: <errno>`, then PVE::RPCEnvironment's
 * `Unable to load access control list: <errno>`), a node without quorum refusing writes
 * (PVE::Cluster::check_cfs_quorum `cluster not ready - no quorum?`), and the API proxy's 595.
 */
const CLUSTER_SERVICE_RESTARTING = [
  /ipcc_send_rec\[\d+\] failed: (?:Connection refused|Transport endpoint is not connected|Unknown error -1)/,
  /Unable to load access control list: (?:Connection refused|Transport endpoint is not connected)/,
  /cluster not ready - no quorum\?/,
  /\b595 (?:Errors during connection establishment|Connection refused|Connection timed out)/,
];

/** Whether output shows a transient cluster-service failure (a restart in progress), not a refusal. */
export function isClusterServiceRestarting(output: string): boolean {
  return CLUSTER_SERVICE_RESTARTING.some((re) => re.test(output));
}

// PVE::AbstractConfig::check_lock: "VM 100 is locked (backup)" / "CT 101 is locked (snapshot)".
const GUEST_LOCKED = /\b(?:VM|CT) \d+ is locked \(([^)]*)\)/;

/** The program an argv runs: the first word that is not a leading `NAME=value` assignment. */
export function programOf(argv: readonly string[]): string {
  return argv.find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) ?? argv[0] ?? "";
}

export interface FailedRun {
  readonly exitCode: number | null;
  readonly signal?: string | null;
  /** stderr, or stdout+stderr when they were merged (batch steps). */
  readonly output: string;
}

/**
 * Classifies a failed run: 127 → CommandMissing (terminal), a held lock → LockHeld, a locked guest →
 * GuestLocked, a signal → CommandKilled, anything else → CommandFailed (all retryable).
 */
export function commandError(
  argv: readonly string[],
  run: FailedRun,
  host?: string,
): CommandFailedError | CommandMissingError {
  const command = describeCommand(argv);
  const outTail = tail(run.output);
  if (run.exitCode === 127) return new CommandMissingError(command, programOf(argv), outTail, host);
  if (run.exitCode === null) {
    return new CommandFailedError(
      PveReason.CommandKilled,
      `\`${command}\`${onHost(host)} was ended by signal ${run.signal ?? "unknown"} before it finished; it will be tried again.`,
      command,
      null,
      outTail,
      host,
    );
  }
  const busy = packageManagerBusy(run.output);
  if (busy)
    return new CommandFailedError(
      PveReason.LockHeld,
      `${busy}: \`${command}\`${onHost(host)} could not take the dpkg lock (exit ${run.exitCode}: ${JSON.stringify(outTail)}); ` +
        `it is tried again once that run (often unattended-upgrades) ends.`,
      command,
      run.exitCode,
      outTail,
      host,
    );
  if (DPKG_INTERRUPTED.test(run.output))
    return new CommandFailedError(
      PveReason.DpkgInterrupted,
      `\`${command}\`${onHost(host)} refused: dpkg was interrupted (a package run was cut off) and must be finished with \`dpkg --configure -a\` first (exit ${run.exitCode}: ${JSON.stringify(outTail)}).`,
      command,
      run.exitCode,
      outTail,
      host,
    );
  if (LOCK_HELD.some((re) => re.test(run.output))) {
    return new CommandFailedError(
      PveReason.LockHeld,
      `\`${command}\`${onHost(host)} could not take a lock that another process holds (exit ${run.exitCode}: ${JSON.stringify(outTail)}); ` +
        `it will be tried again once the other job finishes.`,
      command,
      run.exitCode,
      outTail,
      host,
    );
  }
  if (isClusterServiceRestarting(run.output)) {
    return new CommandFailedError(
      PveReason.ClusterNotReady,
      `\`${command}\`${onHost(host)} failed while a cluster service was restarting (exit ${run.exitCode}: ${JSON.stringify(outTail)}); ` +
        `it will be tried again once pve-cluster and corosync answer (an upgrade of them restarts them).`,
      command,
      run.exitCode,
      outTail,
      host,
    );
  }
  const locked = GUEST_LOCKED.exec(run.output);
  if (locked) {
    return new CommandFailedError(
      PveReason.GuestLocked,
      `\`${command}\`${onHost(host)} refused: the guest is locked (${locked[1] ?? "unknown"}); ` +
        `it will be tried again when the lock is released (or clear a stale lock with \`qm unlock\`/\`pct unlock\`).`,
      command,
      run.exitCode,
      outTail,
      host,
    );
  }
  return new CommandFailedError(
    PveReason.CommandFailed,
    `\`${command}\`${onHost(host)} failed with exit ${run.exitCode}: ${JSON.stringify(outTail)}.`,
    command,
    run.exitCode,
    outTail,
    host,
  );
}
