import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ssh2 from "ssh2";
import { TerminalError } from "../../errors.js";

/** Host keys (one ed25519 key per simulated host) and the one client key the simulator accepts. */

export interface KeyPair {
  /** OpenSSH private key text. Never logged. */
  privateKey: string;
  /** `ssh-ed25519 AAAA…` */
  publicKey: string;
}

function generate(comment: string): KeyPair {
  const k = ssh2.utils.generateKeyPairSync("ed25519", { comment });
  return { privateKey: k.private, publicKey: k.public.trim() };
}

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The host key of `host`, reused from `<stateDir>/host-keys/<host>` when present. */
export function hostKey(stateDir: string, host: string): KeyPair {
  const dir = join(stateDir, "host-keys");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `ssh_host_ed25519_key.${host}`);
  if (existsSync(path) && existsSync(`${path}.pub`)) {
    return { privateKey: readFileSync(path, "utf8"), publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
  }
  const pair = generate(`root@${host}`);
  writePrivate(path, pair.privateKey);
  writeFileSync(`${path}.pub`, `${pair.publicKey}\n`);
  return pair;
}

export interface ClientKey {
  /** Path of the private key file, when the simulator generated (or was given) one. */
  privateKeyPath?: string;
  publicKey: string;
}

/**
 * The client key the simulator accepts: a given public key (text or path of a `.pub` file), or a
 * generated pair at `<stateDir>/client/id_ed25519` (reused when present).
 */
export function clientKey(
  stateDir: string,
  given?: { publicKey: string; privateKeyPath?: string },
): ClientKey {
  if (given) {
    const text = given.publicKey.trim().startsWith("ssh-")
      ? given.publicKey.trim()
      : readFileSync(given.publicKey, "utf8").trim();
    const parsed = ssh2.utils.parseKey(text);
    if (parsed instanceof Error)
      throw new TerminalError(
        "InvalidClientKey",
        `The simulator's client public key cannot be parsed (${parsed.message}); pass an OpenSSH public key line or .pub file.`,
      );
    return { publicKey: text, privateKeyPath: given.privateKeyPath };
  }
  const dir = join(stateDir, "client");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, "id_ed25519");
  if (existsSync(path) && existsSync(`${path}.pub`))
    return { privateKeyPath: path, publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
  const pair = generate("refit-sim-client");
  writePrivate(path, pair.privateKey);
  writeFileSync(`${path}.pub`, `${pair.publicKey}\n`);
  return { privateKeyPath: path, publicKey: pair.publicKey };
}

/** One known_hosts line: `[addr]:port ssh-ed25519 AAAA… host` (`addr` alone on port 22). */
export function knownHostsLine(address: string, port: number, publicKey: string, comment: string): string {
  const [type, blob] = publicKey.split(/\s+/);
  const name = port === 22 ? address : `[${address}]:${port}`;
  return `${name} ${type} ${blob} ${comment}`;
}
