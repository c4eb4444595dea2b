import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { RetryableError, TerminalError } from "../errors.js";
import { ChannelLimiter } from "./channel-limiter.js";
import { connect } from "./connect.js";
import { SshConnection } from "./connection.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { quoteArgv } from "./quote.js";
import { SshReason } from "./reasons.js";
import type { SshTarget } from "./target.js";
import { targetAddress, targetPort } from "./target.js";
import type { ExecOptions, ExecResult, HostExec } from "./types.js";

export interface SshPoolOptions {
  clock?: Clock;
  logger?: Logger;
  /** TCP connect + handshake + authentication, on the injected clock. Default 15 s. */
  connectTimeoutMs?: number;
  /** Used when a caller passes no timeoutMs: every remote command has one. Default 60 s. */
  defaultTimeoutMs?: number;
  /** Per-stream capture bound when a caller passes none. Default 1 MiB. */
  defaultMaxOutputBytes?: number;
  /** Concurrent session channels per connection. Default 8 (OpenSSH's MaxSessions is 10). */
  maxChannelsPerHost?: number;
  /** Default 15 s; with keepaliveCountMax 3 a dead peer is noticed within about a minute. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /**
   * How long a timed-out or aborted command's channel may stay open after Refit closed it before its
   * slot is given back and the connection retired (see SshConnection). Default 10 s.
   */
  stuckGraceMs?: number;
}

/** Counters for one host, or summed over all hosts. */
export interface SshPoolStats {
  /** Connections that completed authentication. */
  connectionsOpened: number;
  /** Connection attempts that failed. */
  connectFailures: number;
  /** Connections that dropped while Refit still wanted them. */
  connectionsLost: number;
  channelsInUse: number;
  /** The most channels in use at once on one connection (the maximum over hosts in the total). */
  peakChannels: number;
  /** Commands waiting for a free channel. */
  queued: number;
  commandsRun: number;
  commandsTimedOut: number;
  /** Stopped channels that never closed (their remote process outlived the stop). */
  channelsAbandoned: number;
  /** Connections replaced because a stopped channel never closed. */
  connectionsRetired: number;
  /** Channel opens the server refused for a moment and that were sent again. */
  channelOpenRetries: number;
}

const DEFAULTS = {
  connectTimeoutMs: 15_000,
  defaultTimeoutMs: 60_000,
  defaultMaxOutputBytes: 1024 * 1024,
  maxChannelsPerHost: 8,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  stuckGraceMs: 10_000,
};

type Settings = typeof DEFAULTS & { clock: Clock; logger: Logger };

class HostEntry implements HostExec {
  readonly limiter: ChannelLimiter;
  private conn: SshConnection | undefined;
  /** Every open connection: the current one and any being retired. */
  private readonly conns = new Set<SshConnection>();
  private connecting: Promise<SshConnection> | undefined;
  private closed = false;
  readonly counts = {
    connectionsOpened: 0,
    connectFailures: 0,
    connectionsLost: 0,
    commandsRun: 0,
    commandsTimedOut: 0,
    channelsAbandoned: 0,
    connectionsRetired: 0,
    channelOpenRetries: 0,
  };

  constructor(
    public target: SshTarget,
    private readonly settings: Settings,
  ) {
    this.limiter = new ChannelLimiter(settings.maxChannelsPerHost);
  }

  get host(): string {
    return this.target.name;
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const command = quoteArgv(argv);
    const program = programName(argv);
    const timeoutMs = opts.timeoutMs ?? this.settings.defaultTimeoutMs;
    if (!(timeoutMs > 0)) {
      throw new TerminalError(
        SshReason.InvalidCommand,
        `A command timeout must be positive, got ${timeoutMs} ms for \`${program}\`.`,
      );
    }
    this.assertOpen();
    const release = await this.limiter.acquire(
      opts.signal,
      () =>
        new RetryableError(
          SshReason.ExecAborted,
          `\`${program}\` on ${this.host} was aborted before it started.`,
          {
            host: this.host,
            program,
          },
        ),
    );
    let conn: SshConnection;
    try {
      this.assertOpen();
      conn = await this.connection();
    } catch (err) {
      release();
      throw err;
    }
    this.counts.commandsRun++;
    this.settings.logger.debug({ host: this.host, program, argc: argv.length, timeoutMs }, "ssh exec");
    try {
      return await conn.exec({
        command,
        program,
        timeoutMs,
        maxOutputBytes: opts.maxOutputBytes ?? this.settings.defaultMaxOutputBytes,
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        release,
      });
    } catch (err) {
      if (err instanceof RetryableError && err.reason === SshReason.CommandTimeout)
        this.counts.commandsTimedOut++;
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new RetryableError(
        SshReason.PoolClosed,
        `The SSH pool is closed; no command can run on ${this.host}.`,
        {
          host: this.host,
        },
      );
    }
  }

  /** The open connection, or one being opened: concurrent callers share a single attempt. */
  private connection(): Promise<SshConnection> {
    if (this.conn?.usable) return Promise.resolve(this.conn);
    this.connecting ??= this.openConnection().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openConnection(): Promise<SshConnection> {
    const { clock, logger } = this.settings;
    const started = clock.now();
    try {
      const client = await connect(this.target, this.settings);
      const conn = new SshConnection(client, this.target, clock, this.settings.stuckGraceMs, {
        gone: (gone, { expected, cause }) => {
          this.conns.delete(gone);
          if (this.conn === gone) this.conn = undefined;
          if (!expected) {
            this.counts.connectionsLost++;
            logger.warn({ host: this.host, err: cause?.message }, "ssh connection lost");
          }
        },
        openRetried: () => {
          this.counts.channelOpenRetries++;
        },
        stuck: (_conn, program) => {
          this.counts.channelsAbandoned++;
          this.counts.connectionsRetired++;
          logger.warn(
            { host: this.host, program },
            "ssh channel did not close after its command was stopped; retiring the connection",
          );
        },
      });
      this.conns.add(conn);
      if (this.closed) {
        conn.close();
        this.assertOpen();
      }
      this.conn = conn;
      this.counts.connectionsOpened++;
      logger.info(
        {
          host: this.host,
          address: `${this.target.host}:${targetPort(this.target)}`,
          ms: clock.now() - started,
        },
        "ssh connected",
      );
      return conn;
    } catch (err) {
      this.counts.connectFailures++;
      const reason = err instanceof TerminalError || err instanceof RetryableError ? err.reason : "Unknown";
      logger.warn({ host: this.host, address: targetAddress(this.target), reason }, "ssh connect failed");
      throw err;
    }
  }

  stats(): SshPoolStats {
    return {
      ...this.counts,
      channelsInUse: this.limiter.inUse,
      peakChannels: this.limiter.peak,
      queued: this.limiter.queued,
    };
  }

  close(): void {
    this.closed = true;
    for (const conn of this.conns) conn.close();
    this.conn = undefined;
  }
}

/**
 * One pooled SSH connection per host (keyed by user@host:port), at most `maxChannelsPerHost`
 * commands at once on it, the rest queued first come first served. Connections open on first use and
 * reopen on the next command after a drop.
 */
export class SshPool {
  private readonly settings: Settings;
  private readonly hosts = new Map<string, HostEntry>();

  constructor(options: SshPoolOptions = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.settings = { ...DEFAULTS, clock: systemClock, logger: silentLogger, ...defined };
  }

  /** The HostExec for a target; the same connection serves every call for the same user@host:port. */
  host(target: SshTarget): HostExec {
    const key = targetAddress(target);
    let entry = this.hosts.get(key);
    if (!entry) {
      entry = new HostEntry(target, this.settings);
      this.hosts.set(key, entry);
    } else {
      // Credentials or known_hosts may have been reconfigured; the next connect reads the new ones.
      entry.target = target;
    }
    return entry;
  }

  /** Counters for one target, or summed over all hosts. */
  stats(target?: SshTarget): SshPoolStats {
    if (target) {
      return this.hosts.get(targetAddress(target))?.stats() ?? emptyStats();
    }
    const total = emptyStats();
    for (const entry of this.hosts.values()) {
      const s = entry.stats();
      total.connectionsOpened += s.connectionsOpened;
      total.connectFailures += s.connectFailures;
      total.connectionsLost += s.connectionsLost;
      total.channelsInUse += s.channelsInUse;
      total.peakChannels = Math.max(total.peakChannels, s.peakChannels);
      total.queued += s.queued;
      total.commandsRun += s.commandsRun;
      total.commandsTimedOut += s.commandsTimedOut;
      total.channelsAbandoned += s.channelsAbandoned;
      total.connectionsRetired += s.connectionsRetired;
      total.channelOpenRetries += s.channelOpenRetries;
    }
    return total;
  }

  /** Closes every connection; running commands fail with PoolClosed and new ones are refused. */
  close(): void {
    for (const entry of this.hosts.values()) entry.close();
  }
}

/** The program a command runs, past any `NAME=value` prefixes: the one part of argv safe to log. */
function programName(argv: readonly string[]): string {
  return argv.find((a) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) ?? argv[0] ?? "";
}

function emptyStats(): SshPoolStats {
  return {
    connectionsOpened: 0,
    connectFailures: 0,
    connectionsLost: 0,
    channelsInUse: 0,
    peakChannels: 0,
    queued: 0,
    commandsRun: 0,
    commandsTimedOut: 0,
    channelsAbandoned: 0,
    connectionsRetired: 0,
    channelOpenRetries: 0,
  };
}
