import type { ParsedKey } from "ssh2";
// ssh2 is CommonJS; Node's ESM loader cannot see its `utils` as a named export.
import ssh2 from "ssh2";
import { TerminalError } from "../errors.js";
import { describeKey } from "./fingerprint.js";
import { SshReason } from "./reasons.js";
import type { ByteSource } from "./sources.js";
import { SourceReadError, envSource, fileSource } from "./sources.js";

/** The client key Refit authenticates with: an OpenSSH private key (ed25519, RSA, ECDSA) and its passphrase. */
export interface Identity {
  key: ByteSource;
  /** Only for encrypted keys. One trailing newline is ignored, as a passphrase file usually ends with one. */
  passphrase?: ByteSource;
}

export function identityFromFile(keyPath: string, passphrase?: { file: string } | { env: string }): Identity {
  const key = fileSource(keyPath, "private key file");
  if (!passphrase) return { key };
  return {
    key,
    passphrase:
      "file" in passphrase
        ? fileSource(passphrase.file, "passphrase file")
        : envSource(passphrase.env, "passphrase environment variable"),
  };
}

export interface LoadedIdentity {
  key: ParsedKey;
  /** `SHA256:…` of the public half, safe to show (it is what authorized_keys records). */
  publicFingerprint: string;
}

function stripOneNewline(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}

/**
 * Reads and decrypts the key. Every failure is terminal and its message names the source, never the
 * key or passphrase bytes: ssh2's own parse messages are not passed on, only classified.
 */
export async function loadIdentity(identity: Identity): Promise<LoadedIdentity> {
  const keyBytes = await readOrFail(identity.key, SshReason.PrivateKeyUnreadable);
  const passphrase = identity.passphrase
    ? stripOneNewline(await readOrFail(identity.passphrase, SshReason.PrivateKeyPassphrase))
    : undefined;
  const parsed = ssh2.utils.parseKey(keyBytes, passphrase);
  if (parsed instanceof Error) {
    // ssh2 says "bad passphrase" on a failed integrity check and "no passphrase given" for an encrypted key.
    if (/passphrase/i.test(parsed.message)) {
      const detail = passphrase
        ? `the passphrase from ${identity.passphrase?.description} does not decrypt it`
        : "it is encrypted and no passphrase source is configured";
      throw new TerminalError(
        SshReason.PrivateKeyPassphrase,
        `Cannot use the SSH private key from ${identity.key.description}: ${detail}. Configure the key's correct passphrase (file or environment variable).`,
      );
    }
    throw new TerminalError(
      SshReason.PrivateKeyUnreadable,
      `Cannot use the SSH private key from ${identity.key.description}: it is not an OpenSSH, PEM or PPK private key that Refit can parse. Provide an ed25519, RSA or ECDSA private key (ssh-keygen -t ed25519).`,
    );
  }
  // ssh2 returns an array for the OpenSSH format (which may hold several keys); its types omit that.
  const key: ParsedKey | undefined = Array.isArray(parsed) ? (parsed as unknown as ParsedKey[])[0] : parsed;
  if (!key || !key.isPrivateKey()) {
    throw new TerminalError(
      SshReason.PrivateKeyUnreadable,
      `Cannot use the SSH key from ${identity.key.description}: it holds a public key, not a private key. Point the identity at the private key file (without .pub).`,
    );
  }
  return { key, publicFingerprint: describeKey(key.getPublicSSH()).fingerprint };
}

async function readOrFail(source: ByteSource, reason: string): Promise<Buffer> {
  try {
    return await source.read();
  } catch (err) {
    const detail = err instanceof SourceReadError ? err.message : `${source.description}: cannot be read`;
    throw new TerminalError(reason, `Cannot read the SSH credentials: ${detail}. Make it readable by Refit.`);
  }
}
