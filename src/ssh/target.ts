import type { Identity } from "./identity.js";
import type { ByteSource } from "./sources.js";

/** How to reach one host over SSH. */
export interface SshTarget {
  /** Display name (the node name) used in errors and logs. */
  name: string;
  /** Address or DNS name to connect to. */
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  identity: Identity;
  /** An OpenSSH known_hosts file; the only source of trust for host keys. */
  knownHosts: ByteSource;
  /**
   * The name to look up in known_hosts instead of `host` / `[host]:port`, like OpenSSH's
   * HostKeyAlias (e.g. a node name when connecting by address).
   */
  hostKeyAlias?: string;
}

export function targetPort(target: SshTarget): number {
  return target.port ?? 22;
}

/** `user@host:port`, for messages. */
export function targetAddress(target: SshTarget): string {
  return `${target.user}@${target.host}:${targetPort(target)}`;
}
