import { createHmac, timingSafeEqual } from "node:crypto";
import type { ServerHostKeyAlgorithm } from "ssh2";
import { blobKeyType } from "./fingerprint.js";

/**
 * OpenSSH known_hosts, read the way ssh(1) reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 * `[@marker] patterns keytype base64 [comment]`, where patterns is either one hashed name
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` or a comma-separated list of names with `*`/`?`
 * wildcards and `!` negation. Lines that do not parse are skipped, as ssh does.
 */

export type KnownHostMarker = "revoked" | "cert-authority";

export interface KnownHostEntry {
  /** 1-based line number, for messages. */
  line: number;
  marker: KnownHostMarker | undefined;
  keyType: string;
  key: Buffer;
  matches(hostName: string): boolean;
}

export interface KnownHosts {
  entries: readonly KnownHostEntry[];
  /** Lines that were neither comments nor valid entries. */
  skippedLines: number;
}

/** The name ssh looks up: `host` on port 22, `[host]:port` otherwise; lower-cased as ssh does. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function wildcardRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${body}$`);
}

/** ssh's match_hostname: a matching negated pattern vetoes the line; otherwise any positive match wins. */
function patternListMatcher(list: string): (hostName: string) => boolean {
  const patterns = list
    .toLowerCase()
    .split(",")
    .filter((p) => p.length > 0)
    .map((p) =>
      p.startsWith("!")
        ? { negated: true, re: wildcardRegExp(p.slice(1)) }
        : { negated: false, re: wildcardRegExp(p) },
    );
  return (hostName) => {
    let positive = false;
    for (const p of patterns) {
      if (!p.re.test(hostName)) continue;
      if (p.negated) return false;
      positive = true;
    }
    return positive;
  };
}

function hashedMatcher(field: string): ((hostName: string) => boolean) | undefined {
  const parts = field.split("|");
  // "|1|salt|hash" splits into ["", "1", salt, hash].
  if (parts.length !== 4 || parts[1] !== "1") return undefined;
  const salt = Buffer.from(parts[2] ?? "", "base64");
  const hash = Buffer.from(parts[3] ?? "", "base64");
  if (salt.length !== 20 || hash.length !== 20) return undefined;
  return (hostName) => timingSafeEqual(createHmac("sha1", salt).update(hostName).digest(), hash);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostEntry[] = [];
  let skippedLines = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift();
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else {
        skippedLines++;
        return;
      }
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !BASE64.test(keyBase64)) {
      skippedLines++;
      return;
    }
    const matches = hosts.startsWith("|") ? hashedMatcher(hosts) : patternListMatcher(hosts);
    const key = Buffer.from(keyBase64, "base64");
    // ssh rejects a line whose blob names a different type than the keytype field.
    if (!matches || blobKeyType(key) !== keyType) {
      skippedLines++;
      return;
    }
    entries.push({ line: index + 1, marker, keyType, key, matches });
  });
  return { entries, skippedLines };
}

export type HostKeyVerdict =
  | { kind: "trusted"; entry: KnownHostEntry }
  | { kind: "revoked"; entry: KnownHostEntry }
  /** Keys are recorded for the name, none equal to the presented one. */
  | { kind: "mismatch"; recorded: KnownHostEntry[] }
  /** Nothing usable is recorded for the name; `certAuthorities` counts ignored @cert-authority lines. */
  | { kind: "unknown"; certAuthorities: number };

export function verifyHostKey(known: KnownHosts, hostName: string, presented: Buffer): HostKeyVerdict {
  const forHost = known.entries.filter((e) => e.matches(hostName));
  const revoked = forHost.find((e) => e.marker === "revoked" && e.key.equals(presented));
  if (revoked) return { kind: "revoked", entry: revoked };
  const recorded = forHost.filter((e) => e.marker === undefined);
  const trusted = recorded.find((e) => e.key.equals(presented));
  if (trusted) return { kind: "trusted", entry: trusted };
  if (recorded.length > 0) return { kind: "mismatch", recorded };
  // ssh2 cannot verify host certificates, so @cert-authority lines cannot vouch for a host here.
  return { kind: "unknown", certAuthorities: forHost.filter((e) => e.marker === "cert-authority").length };
}

/** Signature algorithms that prove possession of a key of each known_hosts key type, best first. */
const ALGORITHMS_FOR_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  // SHA-1 `ssh-rsa` signatures are left out, as OpenSSH has done by default since 8.8.
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256"],
};

const PREFERENCE: readonly ServerHostKeyAlgorithm[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

/**
 * The host key algorithms to offer for a name: only those whose keys known_hosts records for it, so a
 * server that also has an RSA key is asked for the ed25519 key we know rather than refused. Undefined
 * when nothing usable is recorded: then any key may be presented, and verification refuses it with its
 * fingerprint so a person can decide.
 */
export function hostKeyAlgorithmsFor(
  known: KnownHosts,
  hostName: string,
): ServerHostKeyAlgorithm[] | undefined {
  const wanted = new Set<ServerHostKeyAlgorithm>();
  for (const e of known.entries) {
    if (e.marker !== undefined || !e.matches(hostName)) continue;
    for (const alg of ALGORITHMS_FOR_KEY_TYPE[e.keyType] ?? []) wanted.add(alg);
  }
  const list = PREFERENCE.filter((alg) => wanted.has(alg));
  return list.length > 0 ? list : undefined;
}
