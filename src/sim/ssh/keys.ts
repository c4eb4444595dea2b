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

/** True when ssh2 can load the pair and a signature made with it verifies. */
function usable(pair: KeyPair): boolean {
  const priv = ssh2.utils.parseKey(pair.privateKey);
  const pub = ssh2.utils.parseKey(pair.publicKey);
  if (priv instanceof Error || pub instanceof Error) return false;
  const data = Buffer.from("refit-sim key check");
  const sig = priv.sign(data);
  return !(sig instanceof Error) && pub.verify(data, sig) === true;
}

/**
 * ssh2's ed25519 generator drops a leading zero byte in about one key of 256, producing a key it
 * then cannot parse ("Malformed OpenSSH private key"); such keys are discarded and regenerated.
 */
function generate(comment: string): KeyPair {
  for (let attempt = 0; attempt < 32; attempt++) {
    const k = ssh2.utils.generateKeyPairSync("ed25519", { comment });
    const pair = { privateKey: k.private, publicKey: k.public.trim() };
    if (usable(pair)) return pair;
  }
  throw new TerminalError(
    "KeyGenerationFailed",
    "Could not generate a usable ed25519 key for the simulator; check the ssh2 installation.",
  );
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
    const stored = {
      privateKey: readFileSync(path, "utf8"),
      publicKey: readFileSync(`${path}.pub`, "utf8").trim(),
    };
    if (usable(stored)) return stored;
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
  if (existsSync(path) && existsSync(`${path}.pub`)) {
    const stored = {
      privateKey: readFileSync(path, "utf8"),
      publicKey: readFileSync(`${path}.pub`, "utf8").trim(),
    };
    if (usable(stored)) return { privateKeyPath: path, publicKey: stored.publicKey };
  }
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
