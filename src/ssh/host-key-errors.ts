import { TerminalError } from "../errors.js";
import { formatKey } from "./fingerprint.js";
import type { HostKeyVerdict } from "./known-hosts.js";
import { SshReason } from "./reasons.js";
import type { SshTarget } from "./target.js";
import { targetPort } from "./target.js";

function keyscanHint(target: SshTarget): string {
  const port = targetPort(target);
  return `ssh-keyscan ${port === 22 ? "" : `-p ${port} `}${target.host}`;
}

/**
 * The refusal for a host key known_hosts does not vouch for. The presented key is shown as
 * `ssh-keygen -lf` shows it, so a person can compare it with the host's own `ssh-keygen -lf
 * /etc/ssh/ssh_host_*_key.pub` before changing anything.
 */
export function hostKeyError(
  target: SshTarget,
  lookupName: string,
  knownHostsDescription: string,
  presented: Buffer,
  verdict: Exclude<HostKeyVerdict, { kind: "trusted" }>,
): TerminalError {
  const who = `${target.name} (${target.host}:${targetPort(target)})`;
  const key = formatKey(presented);
  const context = { host: target.name, knownHostsName: lookupName, presentedKey: key };
  switch (verdict.kind) {
    case "revoked":
      return new TerminalError(
        SshReason.HostKeyRevoked,
        `Refusing to connect to ${who}: it presented host key ${key}, which ${knownHostsDescription} marks @revoked (line ${verdict.entry.line}). The host must be given a new host key; then record that key in the known_hosts file.`,
        context,
      );
    case "mismatch": {
      const recorded = verdict.recorded.map((e) => `line ${e.line}: ${formatKey(e.key)}`).join("; ");
      return new TerminalError(
        SshReason.HostKeyMismatch,
        `Refusing to connect to ${who}: it presented host key ${key}, but ${knownHostsDescription} records a different key for ${lookupName} (${recorded}). The host may have been reinstalled, or someone may be intercepting the connection. Check the fingerprint on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub); if it is right, replace the entry (ssh-keygen -R '${lookupName}' -f <known_hosts>, then add the new key).`,
        context,
      );
    }
    case "unknown": {
      const ca =
        verdict.certAuthorities > 0
          ? ` (its ${verdict.certAuthorities} @cert-authority line(s) are ignored: Refit does not verify host certificates)`
          : "";
      return new TerminalError(
        SshReason.HostKeyUnknown,
        `Refusing to connect to ${who}: ${lookupName} is not in ${knownHostsDescription}${ca}. The host presented host key ${key}. Check that fingerprint on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add the host's key to the known_hosts file (for example from ${keyscanHint(target)}, after comparing fingerprints).`,
        context,
      );
    }
  }
}

/** The server offered none of the key types known_hosts records for the name. */
export function noCommonHostKeyError(
  target: SshTarget,
  lookupName: string,
  knownHostsDescription: string,
  offered: readonly string[],
): TerminalError {
  return new TerminalError(
    SshReason.HostKeyMismatch,
    `Refusing to connect to ${target.name} (${target.host}:${targetPort(target)}): ${knownHostsDescription} records ${lookupName} with key type(s) ${offered.join(", ")}, and the host has no key of those types. Its host keys may have been regenerated; check on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and update the known_hosts entry.`,
    { host: target.name, knownHostsName: lookupName },
  );
}
