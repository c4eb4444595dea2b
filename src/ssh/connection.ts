import type { Client, ClientChannel } from "ssh2";
import type { Clock } from "../clock.js";
import { RetryableError } from "../errors.js";
import { SshReason } from "./reasons.js";
import { TailBuffer } from "./tail-buffer.js";
import type { SshTarget } from "./target.js";
import { targetAddress } from "./target.js";
import type { ExecResult } from "./types.js";

export interface ChannelRequest {
  command: string;
  /** argv[0], the only part of a command that appears in errors and logs. */
  program: string;
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: string | Buffer;
  signal?: AbortSignal;
  /** Called once when the channel no longer counts against the server's session limit. */
  release: () => void;
}

interface Running {
  /** The connection is gone: settle the command (if not yet) and give its slot back. */
  lost(err: RetryableError | undefined): void;
}

/**
 * One authenticated ssh2 connection and the commands running on it. When it drops, every running
 * command fails with ConnectionLost; the pool then opens a new connection for the next command.
 */
export class SshConnection {
  private readonly running = new Set<Running>();
  private closedByUs = false;
  private lastError: Error | undefined;
  private open = true;

  constructor(
    private readonly client: Client,
    private readonly target: SshTarget,
    private readonly clock: Clock,
    private readonly onGone: (conn: SshConnection, err: Error | undefined) => void,
  ) {
    client.on("error", (err: Error) => {
      this.lastError = err;
    });
    client.on("close", () => this.gone());
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Ends the connection on purpose; running commands fail with PoolClosed. */
  close(): void {
    if (!this.open) return;
    this.closedByUs = true;
    this.client.end();
    // end() waits for the server; if the socket is wedged, close now rather than hang shutdown.
    setImmediate(() => {
      if (this.open) this.client.destroy();
    });
  }

  private gone(): void {
    if (!this.open) return;
    this.open = false;
    const err = this.closedByUs
      ? new RetryableError(
          SshReason.PoolClosed,
          `The SSH connection to ${this.target.name} was closed by Refit while a command ran (shutdown).`,
          { host: this.target.name },
        )
      : undefined;
    for (const r of [...this.running]) r.lost(err);
    this.running.clear();
    this.onGone(this, this.lastError);
  }

  private lostError(program?: string): RetryableError {
    const what = program
      ? `while \`${program}\` was running; it may or may not have completed on the host`
      : "";
    const cause = this.lastError ? ` (${this.lastError.message})` : "";
    return new RetryableError(
      SshReason.ConnectionLost,
      `The SSH connection to ${this.target.name} (${targetAddress(this.target)}) dropped${cause}${what ? ` ${what}` : ""}. Refit reconnects on the next command; long work should run as a remote job so a drop cannot interrupt it.`,
      { host: this.target.name, ...(program ? { program } : {}) },
      this.lastError ? { cause: this.lastError } : undefined,
    );
  }

  exec(req: ChannelRequest): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const started = this.clock.now();
      const stdout = new TailBuffer(req.maxOutputBytes);
      const stderr = new TailBuffer(req.maxOutputBytes);
      const timer = new AbortController();
      let exit: { code: number | null; signal: string | null } | undefined;
      let channel: ClientChannel | undefined;
      let settled = false;
      let released = false;

      // The slot is held until the channel is really gone (closed by the server, or with the
      // connection), even when the caller has already been answered.
      const release = (): void => {
        if (released) return;
        released = true;
        this.running.delete(running);
        req.release();
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
      /** Ends the remote side: the signal ends the process (and frees sshd's session), close frees the channel. */
      const stop = (ch: ClientChannel): void => {
        try {
          ch.signal("KILL");
        } catch {
          // The channel may already be half-closed; closing still works.
        }
        ch.close();
      };
      const running: Running = {
        lost: (err) => {
          release();
          // OpenSSH sends exit-status after all output, so a known status means the output is complete.
          if (exit) settle(result());
          else settle(err ?? this.lostError(req.program));
        },
      };
      const onAbort = (): void => {
        if (channel) stop(channel);
        settle(
          new RetryableError(
            SshReason.ExecAborted,
            `\`${req.program}\` on ${this.target.name} was aborted by the caller; the channel was closed and the process signalled.`,
            { host: this.target.name, program: req.program },
          ),
        );
      };

      if (!this.open) {
        release();
        settle(this.lostError(req.program));
        return;
      }
      this.running.add(running);
      req.signal?.addEventListener("abort", onAbort, { once: true });
      if (req.signal?.aborted) {
        onAbort();
        release();
        return;
      }
      this.clock.sleep(req.timeoutMs, timer.signal).then(
        () => {
          if (settled) return;
          if (channel) stop(channel);
          settle(
            new RetryableError(
              SshReason.CommandTimeout,
              `\`${req.program}\` on ${this.target.name} did not finish within ${req.timeoutMs} ms; Refit closed its channel and sent it SIGKILL. Check the host's load, or raise the timeout; long work should run as a remote job.`,
              { host: this.target.name, program: req.program, timeoutMs: req.timeoutMs },
            ),
          );
        },
        () => {},
      );

      try {
        this.client.exec(req.command, (err, ch) => {
          if (err) {
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
            return;
          }
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
          if (settled) {
            // Timed out or aborted while the channel was being opened.
            stop(ch);
            return;
          }
          ch.on("data", (d: Buffer) => stdout.push(d));
          ch.stderr.on("data", (d: Buffer) => stderr.push(d));
          ch.on("error", (e: Error) => {
            this.lastError = e;
          });
          ch.on("exit", (code: number | null, signal?: string) => {
            exit = { code: typeof code === "number" ? code : null, signal: signal ?? null };
          });
          if (req.stdin !== undefined) ch.end(req.stdin);
          else ch.end();
        });
      } catch (err) {
        release();
        settle(err instanceof Error ? this.lostError(req.program) : new Error(String(err)));
      }
    });
  }
}
