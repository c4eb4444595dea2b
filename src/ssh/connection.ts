import type { Client, ClientChannel } from "ssh2";
import type { Clock } from "../clock.js";
import { RetryableError } from "../errors.js";
import { signalChannel } from "./channel-signal.js";
import { SshReason } from "./reasons.js";
import { TailBuffer } from "./tail-buffer.js";
import type { SshTarget } from "./target.js";
import { targetAddress } from "./target.js";
import type { ExecResult } from "./types.js";

export interface ChannelRequest {
  command: string;
  /** The program name, the only part of a command that appears in errors and logs. */
  program: string;
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: string | Buffer;
  signal?: AbortSignal;
  /** Called once when the channel no longer counts against the server's session limit. */
  release: () => void;
}

export interface ConnectionEvents {
  /** The connection closed; `expected` when Refit closed it (shutdown or retirement). */
  gone(conn: SshConnection, info: { expected: boolean; cause: Error | undefined }): void;
  /** A stopped channel did not close within the grace period, so the connection is being retired. */
  stuck(conn: SshConnection, program: string): void;
  /** The server refused a channel open that will be tried again. */
  openRetried(conn: SshConnection): void;
}

const OPEN_RETRIES = 5;
const OPEN_RETRY_BASE_MS = 20;

interface Running {
  /** The connection is gone: settle the command (if not yet) and give its slot back. */
  lost(err: RetryableError | undefined): void;
  /** Signal the remote process and close its channel. */
  stop(): void;
}

/**
 * One authenticated ssh2 connection and the commands running on it. When it drops, every running
 * command fails with ConnectionLost; the pool then opens a new connection for the next command.
 *
 * A command that times out is sent SIGKILL and its channel is closed. sshd delivers that signal only
 * for non-root users: root logins run without post-auth privilege separation, and sshd refuses
 * signals there ("session signalling requires privilege separation"). sshd then keeps the session,
 * and our channel, until the process exits on its own, and the session still counts against
 * MaxSessions. So a slot is held until the channel really closes; if it has not closed after
 * `stuckGraceMs`, the slot is given back and the connection is retired: it takes no new commands and
 * closes once its other commands are done, while the pool opens a fresh connection.
 */
export class SshConnection {
  private readonly running = new Set<Running>();
  private closedByUs = false;
  private retiring = false;
  private lastError: Error | undefined;
  private open = true;
  /** Cancels the forced-close fallback once the connection has closed. */
  private readonly closed = new AbortController();

  constructor(
    private readonly client: Client,
    private readonly target: SshTarget,
    private readonly clock: Clock,
    private readonly stuckGraceMs: number,
    private readonly events: ConnectionEvents,
  ) {
    client.on("error", (err: Error) => {
      this.lastError = err;
    });
    client.on("close", () => this.gone());
  }

  /** Open and not retired: new commands may use it. */
  get usable(): boolean {
    return this.open && !this.retiring;
  }

  /**
   * Ends the connection on purpose: running commands are sent SIGKILL (sshd would otherwise leave
   * them running without a connection) and fail with PoolClosed.
   */
  close(): void {
    if (!this.open || this.closedByUs) return;
    this.closedByUs = true;
    for (const r of this.running) r.stop();
    this.client.end();
    // end() waits for the server to close; a wedged socket must not keep the connection forever.
    this.clock.sleep(2_000, this.closed.signal).then(
      () => {
        if (this.open) this.client.destroy();
      },
      () => {},
    );
  }

  private retire(): void {
    this.retiring = true;
    if (this.running.size === 0) this.close();
  }

  private gone(): void {
    if (!this.open) return;
    this.open = false;
    this.closed.abort();
    const err = this.closedByUs
      ? new RetryableError(
          SshReason.PoolClosed,
          `The SSH connection to ${this.target.name} was closed by Refit while a command ran (shutdown).`,
          { host: this.target.name },
        )
      : undefined;
    for (const r of [...this.running]) r.lost(err);
    this.running.clear();
    this.events.gone(this, { expected: this.closedByUs, cause: this.lastError });
  }

  private lostError(program: string): RetryableError {
    const cause = this.lastError ? ` (${this.lastError.message})` : "";
    return new RetryableError(
      SshReason.ConnectionLost,
      `The SSH connection to ${this.target.name} (${targetAddress(this.target)}) dropped${cause} while \`${program}\` was running; it may or may not have completed on the host. Refit reconnects on the next command; long work should run as a remote job so a drop cannot interrupt it.`,
      { host: this.target.name, program },
      this.lastError ? { cause: this.lastError } : undefined,
    );
  }

  exec(req: ChannelRequest): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const started = this.clock.now();
      const stdout = new TailBuffer(req.maxOutputBytes);
      const stderr = new TailBuffer(req.maxOutputBytes);
      const timer = new AbortController();
      const grace = new AbortController();
      let exit: { code: number | null; signal: string | null } | undefined;
      let channel: ClientChannel | undefined;
      let settled = false;
      let released = false;
      /** A channel open request is on the wire and unanswered. */
      let opening = false;

      const running: Running = {
        lost: (err) => {
          release();
          // OpenSSH sends exit-status after all output, so a known status means the output is complete.
          if (exit) settle(result());
          else settle(err ?? this.lostError(req.program));
        },
        stop: () => {
          if (channel) stop(channel);
        },
      };
      // The slot is held until the channel is really gone (closed by the server, or with the
      // connection), even when the caller has already been answered.
      const release = (): void => {
        if (released) return;
        released = true;
        grace.abort();
        this.running.delete(running);
        req.release();
        if (this.retiring && this.running.size === 0) this.close();
      };
      const settle = (outcome: ExecResult | Error): void => {
        if (settled) return;
        settled = true;
        timer.abort();
        req.signal?.removeEventListener("abort", onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const result = (): ExecResult => ({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs: this.clock.now() - started,
      });
      const stop = (ch: ClientChannel): void => {
        signalChannel(ch, "KILL");
        ch.close();
      };
      /** Stops the command after a timeout or abort, and watches that its channel really goes away. */
      const abandon = (): void => {
        if (!channel && !opening) {
          // No channel exists or is being opened, so nothing on the server holds the slot.
          release();
          return;
        }
        if (channel) stop(channel);
        this.clock.sleep(this.stuckGraceMs, grace.signal).then(
          () => {
            if (released) return;
            release();
            this.events.stuck(this, req.program);
            this.retire();
          },
          () => {},
        );
      };
      const onAbort = (): void => {
        if (settled) return;
        settle(
          new RetryableError(
            SshReason.ExecAborted,
            `\`${req.program}\` on ${this.target.name} was aborted by the caller; Refit closed its channel and sent it SIGKILL.`,
            { host: this.target.name, program: req.program },
          ),
        );
        abandon();
      };

      if (!this.open) {
        settle(this.lostError(req.program));
        req.release();
        return;
      }
      this.running.add(running);
      req.signal?.addEventListener("abort", onAbort, { once: true });
      if (req.signal?.aborted) {
        onAbort();
        return;
      }
      this.clock.sleep(req.timeoutMs, timer.signal).then(
        () => {
          if (settled) return;
          settle(
            new RetryableError(
              SshReason.CommandTimeout,
              `\`${req.program}\` on ${this.target.name} did not finish within ${req.timeoutMs} ms; Refit closed its channel and sent it SIGKILL. Check the host's load, or raise the timeout; long work should run as a remote job.`,
              { host: this.target.name, program: req.program, timeoutMs: req.timeoutMs },
            ),
          );
          abandon();
        },
        () => {},
      );

      const onChannel = (ch: ClientChannel): void => {
        channel = ch;
        ch.on("close", () => {
          release();
          if (exit) settle(result());
          else
            settle(
              this.open
                ? new RetryableError(
                    SshReason.ExitStatusMissing,
                    `\`${req.program}\` on ${this.target.name} ended without an exit status; its outcome is unknown. Refit will retry.`,
                    { host: this.target.name, program: req.program },
                  )
                : this.lostError(req.program),
            );
        });
        ch.on("error", (e: Error) => {
          this.lastError = e;
        });
        if (settled) {
          // Timed out or aborted while the channel was being opened.
          stop(ch);
          return;
        }
        ch.on("data", (d: Buffer) => stdout.push(d));
        ch.stderr.on("data", (d: Buffer) => stderr.push(d));
        ch.on("exit", (code: number | null, signal?: string) => {
          exit = { code: typeof code === "number" ? code : null, signal: signal ?? null };
        });
        if (req.stdin !== undefined) ch.end(req.stdin);
        else ch.end();
      };
      const open = (attempt: number): void => {
        opening = true;
        try {
          this.client.exec(req.command, (err, ch) => {
            opening = false;
            if (!err) {
              onChannel(ch);
              return;
            }
            if (settled) {
              release();
              return;
            }
            // sshd frees a finished session only after it has read the whole batch of packets that
            // carried our CLOSE, so an OPEN sent right behind it can meet "no more sessions"
            // although we stay below MaxSessions. A moment later the same request succeeds.
            if (this.open && attempt < OPEN_RETRIES) {
              this.events.openRetried(this);
              this.clock.sleep(OPEN_RETRY_BASE_MS * 2 ** attempt, timer.signal).then(
                () => open(attempt + 1),
                () => release(),
              );
              return;
            }
            release();
            settle(
              this.open
                ? new RetryableError(
                    SshReason.ChannelOpenFailed,
                    `${this.target.name} refused to open a session for \`${req.program}\`: ${err.message}. The host may limit sessions (sshd MaxSessions) or be overloaded; Refit will retry.`,
                    { host: this.target.name, program: req.program },
                  )
                : this.lostError(req.program),
            );
          });
        } catch (err) {
          opening = false;
          release();
          settle(err instanceof Error ? this.lostError(req.program) : new Error(String(err)));
        }
      };
      open(0);
    });
  }
}
