/**
 * The `reason` values SSH errors carry. Reconcilers put them on conditions, so they are part of the
 * interface: renaming one is a breaking change.
 */
export const SshReason = {
  /** Retryable: the command did not finish in time; its channel was closed and the process signalled. */
  CommandTimeout: "CommandTimeout",
  /** Retryable: the connection dropped while the command ran. */
  ConnectionLost: "ConnectionLost",
  /** Retryable: TCP connect or SSH handshake failed (refused, unreachable, reset). */
  ConnectFailed: "ConnectFailed",
  /** Retryable: connecting took longer than the connect timeout. */
  ConnectTimeout: "ConnectTimeout",
  /** Retryable: the server refused to open a session channel. */
  ChannelOpenFailed: "ChannelOpenFailed",
  /** Retryable: the channel closed without an exit status or signal. */
  ExitStatusMissing: "ExitStatusMissing",
  /** Retryable: the caller aborted the command. */
  ExecAborted: "ExecAborted",
  /** Retryable: the pool was closed while the command waited or ran. */
  PoolClosed: "PoolClosed",
  /** Terminal: the host is not in known_hosts. */
  HostKeyUnknown: "HostKeyUnknown",
  /** Terminal: the host presented a key that differs from the recorded one. */
  HostKeyMismatch: "HostKeyMismatch",
  /** Terminal: the host presented a key marked @revoked. */
  HostKeyRevoked: "HostKeyRevoked",
  /** Terminal: the known_hosts file cannot be read. */
  KnownHostsUnreadable: "KnownHostsUnreadable",
  /** Terminal: the private key cannot be read or parsed. */
  PrivateKeyUnreadable: "PrivateKeyUnreadable",
  /** Terminal: the private key is encrypted and the passphrase is wrong or missing. */
  PrivateKeyPassphrase: "PrivateKeyPassphrase",
  /** Terminal: the server refused our key. */
  AuthenticationFailed: "AuthenticationFailed",
  /** Terminal: argv is empty or contains a NUL byte. */
  InvalidCommand: "InvalidCommand",
  /** Terminal: a remote job id is not `[a-z0-9-]{1,64}`. */
  InvalidJobId: "InvalidJobId",
  /** Terminal: `systemd-run`, `systemctl` or `journalctl` is missing on the host. */
  JobToolMissing: "JobToolMissing",
  /** Retryable: `systemd-run` refused to start the unit for another reason. */
  JobStartFailed: "JobStartFailed",
  /** Retryable: `systemctl show` or `journalctl` failed or printed something unparseable. */
  JobStatusFailed: "JobStatusFailed",
} as const;

export type SshReason = (typeof SshReason)[keyof typeof SshReason];
