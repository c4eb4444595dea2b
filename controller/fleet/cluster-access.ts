import { isAbsolute, resolve } from "node:path";
import type { ProxmoxCluster } from "../../src/api/proxmox-cluster.js";
import { parseDuration, type SecretSource } from "../../src/api/primitives.js";
import { systemClock, type Clock } from "../../src/clock.js";
import { TerminalError } from "../../src/errors.js";
import {
  envSource,
  fileSource,
  SshPool,
  type ByteSource,
  type HostExec,
  type SshTarget,
} from "../../src/ssh/index.js";
import type { Logger } from "../../src/log/logger.js";

/** Turns a secret reference into bytes read on every connect (so a rotated key needs no restart). */
export function byteSourceFor(secret: SecretSource, what: string, baseDir: string): ByteSource {
  if (secret.file !== undefined)
    return fileSource(isAbsolute(secret.file) ? secret.file : resolve(baseDir, secret.file), what);
  if (secret.env !== undefined) return envSource(secret.env, `${what} from environment variable`);
  throw new TerminalError(
    "SecretSourceUnsupported",
    `${what} is a secretKeyRef, which needs Kubernetes mode; in file mode give a file or env source`,
  );
}

export interface FleetOptions {
  logger?: Logger;
  /** Relative secret file paths are read from here (the desired-state directory). */
  baseDir: string;
  /** The clock of SSH timeouts; default the system clock. */
  transportClock?: Clock;
}

/** SSH access to the nodes of one ProxmoxCluster: one pooled connection per node. */
export class ClusterAccess {
  readonly pool: SshPool;
  private readonly targets = new Map<string, SshTarget>();

  constructor(
    readonly cluster: ProxmoxCluster,
    opts: FleetOptions,
  ) {
    const ssh = cluster.spec.ssh;
    this.pool = new SshPool({
      // Connect and command timeouts measure the network and the hosts' CPU, which a scaled clock
      // (simulator runs) does not speed up: the transport always waits in real time.
      clock: opts.transportClock ?? systemClock,
      ...(opts.logger ? { logger: opts.logger } : {}),
      connectTimeoutMs: parseDuration(ssh.connectTimeout),
      defaultTimeoutMs: parseDuration(ssh.commandTimeout),
      keepaliveIntervalMs: parseDuration(ssh.keepaliveInterval),
      maxChannelsPerHost: ssh.maxChannels,
    });
    const identity = {
      key: byteSourceFor(ssh.privateKey, "SSH private key", opts.baseDir),
      ...(ssh.passphrase
        ? { passphrase: byteSourceFor(ssh.passphrase, "SSH key passphrase", opts.baseDir) }
        : {}),
    };
    const knownHosts = byteSourceFor(ssh.knownHosts, "known_hosts", opts.baseDir);
    for (const e of cluster.spec.endpoints) {
      this.targets.set(e.node, {
        name: e.node,
        host: e.host,
        port: e.port ?? ssh.port,
        user: ssh.user,
        identity,
        knownHosts,
      });
    }
  }

  get nodes(): string[] {
    return [...this.targets.keys()];
  }

  /** Commands on one node of the cluster. */
  node(name: string): HostExec {
    const target = this.targets.get(name);
    if (!target) {
      throw new TerminalError(
        "UnknownNode",
        `node ${name} is not among the endpoints of ProxmoxCluster/${this.cluster.metadata.name} (${this.nodes.join(", ")})`,
      );
    }
    return this.pool.host(target);
  }

  close(): void {
    this.pool.close();
  }
}

/** Keeps one ClusterAccess per cluster, rebuilt when the cluster's spec changes. */
export class Fleet {
  private readonly access = new Map<string, { generation: number | undefined; access: ClusterAccess }>();

  constructor(private readonly opts: FleetOptions) {}

  for(cluster: ProxmoxCluster): ClusterAccess {
    const key = `${cluster.metadata.namespace ?? ""}/${cluster.metadata.name}`;
    const current = this.access.get(key);
    if (current && current.generation === cluster.metadata.generation) return current.access;
    current?.access.close();
    const access = new ClusterAccess(cluster, this.opts);
    this.access.set(key, { generation: cluster.metadata.generation, access });
    return access;
  }

  close(): void {
    for (const { access } of this.access.values()) access.close();
    this.access.clear();
  }
}
