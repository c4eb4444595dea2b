import type { Client, PublicKeyAuthMethod } from "ssh2";
// ssh2 is CommonJS; a default import works the same under Node's ESM loader, tsx and vitest.
import ssh2 from "ssh2";
import type { Clock } from "../clock.js";
import type { TerminalError } from "../errors.js";
import { RetryableError, TerminalError as Terminal } from "../errors.js";
import { hostKeyError, noCommonHostKeyError } from "./host-key-errors.js";
import { loadIdentity } from "./identity.js";
import { hostKeyAlgorithmsFor, knownHostsName, parseKnownHosts, verifyHostKey } from "./known-hosts.js";
import { SshReason } from "./reasons.js";
import { SourceReadError } from "./sources.js";
import type { SshTarget } from "./target.js";
import { targetAddress, targetPort } from "./target.js";

export interface ConnectOptions {
  clock: Clock;
  connectTimeoutMs: number;
  /**
   * SSH-level keepalive. It runs on real timers, not the injected clock: it probes the real TCP path,
   * whose failure does not speed up with simulated time.
   */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

interface SshError extends Error {
  level?: string;
  code?: string | number;
}

/**
 * Opens one authenticated connection: known_hosts and the key are read afresh, only the host key
 * types known_hosts records for the host are offered, and the presented key must be recorded there.
 */
export async function connect(target: SshTarget, opts: ConnectOptions): Promise<Client> {
  const port = targetPort(target);
  const lookupName = target.hostKeyAlias?.toLowerCase() ?? knownHostsName(target.host, port);
  const knownHostsText = await readKnownHosts(target);
  const known = parseKnownHosts(knownHostsText);
  const identity = await loadIdentity(target.identity);
  const offered = hostKeyAlgorithmsFor(known, lookupName);
  const knownHostsDescription = target.knownHosts.description;
  const auth: PublicKeyAuthMethod = { type: "publickey", username: target.user, key: identity.key };

  return new Promise<Client>((resolve, reject) => {
    const client = new ssh2.Client();
    const deadline = new AbortController();
    let refusal: TerminalError | undefined;
    let settled = false;

    const cleanup = (): void => {
      deadline.abort();
      client.off("ready", onReady);
      client.off("error", onError);
      client.off("close", onClose);
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // ssh2 may still emit while tearing down; an unhandled 'error' event would crash the process.
      client.on("error", () => {});
      client.destroy();
      reject(err);
    };
    const onReady = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(client);
    };
    const onError = (err: SshError): void => fail(classify(err));
    const onClose = (): void =>
      fail(
        refusal ??
          new RetryableError(
            SshReason.ConnectFailed,
            `The SSH connection to ${target.name} (${targetAddress(target)}) closed during the handshake. Check that sshd runs on the host; Refit will retry.`,
            { host: target.name },
          ),
      );

    const classify = (err: SshError): Error => {
      if (refusal) return refusal;
      if (err.level === "client-authentication") {
        return new Terminal(
          SshReason.AuthenticationFailed,
          `${target.name} (${targetAddress(target)}) refused public key ${identity.publicFingerprint} from ${target.identity.key.description}. Add the public key to ~${target.user}/.ssh/authorized_keys on the host, or fix the configured user.`,
          { host: target.name },
        );
      }
      if (offered && /no matching host key format/i.test(err.message)) {
        return noCommonHostKeyError(target, lookupName, knownHostsDescription, offered);
      }
      // Socket, DNS and protocol errors carry no secrets (e.g. "connect ECONNREFUSED 10.0.0.1:22").
      return new RetryableError(
        SshReason.ConnectFailed,
        `Cannot connect to ${target.name} (${targetAddress(target)}): ${err.message}. Check that the host is up and sshd listens there; Refit will retry.`,
        { host: target.name, code: err.code === undefined ? undefined : String(err.code) },
        { cause: err },
      );
    };

    // Small request/response packets: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to each.
    client.on("connect", () => client.setNoDelay(true));
    client.on("ready", onReady);
    client.on("error", onError);
    client.on("close", onClose);

    opts.clock.sleep(opts.connectTimeoutMs, deadline.signal).then(
      () =>
        fail(
          new RetryableError(
            SshReason.ConnectTimeout,
            `Connecting to ${target.name} (${targetAddress(target)}) did not complete within ${opts.connectTimeoutMs} ms. Check that the host is up and reachable; Refit will retry.`,
            { host: target.name, timeoutMs: opts.connectTimeoutMs },
          ),
        ),
      () => {},
    );

    try {
      client.connect({
        host: target.host,
        port,
        username: target.user,
        authHandler: [auth],
        hostVerifier: (presented: Buffer): boolean => {
          const verdict = verifyHostKey(known, lookupName, presented);
          if (verdict.kind === "trusted") return true;
          refusal = hostKeyError(target, lookupName, knownHostsDescription, presented, verdict);
          return false;
        },
        ...(offered ? { algorithms: { serverHostKey: offered } } : {}),
        // The handshake deadline is ours, on the injected clock.
        readyTimeout: 0,
        keepaliveInterval: opts.keepaliveIntervalMs,
        keepaliveCountMax: opts.keepaliveCountMax,
      });
    } catch (err) {
      fail(err instanceof Error ? classify(err) : new Error(String(err)));
    }
  });
}

async function readKnownHosts(target: SshTarget): Promise<string> {
  try {
    return (await target.knownHosts.read()).toString("utf8");
  } catch (err) {
    const detail =
      err instanceof SourceReadError ? err.message : `${target.knownHosts.description} cannot be read`;
    throw new Terminal(
      SshReason.KnownHostsUnreadable,
      `Cannot verify ${target.name}'s host key: ${detail}. Provide a readable OpenSSH known_hosts file that records the host's key.`,
      { host: target.name },
    );
  }
}
