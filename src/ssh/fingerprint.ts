import { createHash } from "node:crypto";

/** A public key as OpenSSH describes it to people: `256 SHA256:… (ED25519)`. */
export interface KeyDescription {
  /** The wire type name, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`. */
  sshType: string;
  /** The label `ssh-keygen -l` prints in parentheses: ED25519, RSA, ECDSA, DSA, ED25519-SK, ECDSA-SK. */
  label: string;
  bits: number;
  /** `SHA256:` and the unpadded base64 SHA-256 of the key blob, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** `SHA256:<base64 without padding>` of an SSH public key blob, the same string `ssh-keygen -lf` shows. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Reads the length-prefixed strings of an SSH wire-format blob (RFC 4251 §5). */
function readStrings(blob: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count && at + 4 <= blob.length; i++) {
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) break;
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** Bit length of an SSH mpint (big-endian, possibly with a leading zero byte for the sign). */
function mpintBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  const lead = n[i] ?? 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(lead));
}

const CURVE_BITS: Record<string, number> = { nistp256: 256, nistp384: 384, nistp521: 521 };

/** The type name stored at the start of a key blob, or undefined when the blob is malformed. */
export function blobKeyType(blob: Buffer): string | undefined {
  return readStrings(blob, 1)[0]?.toString("latin1");
}

export function describeKey(blob: Buffer): KeyDescription {
  const fingerprint = sha256Fingerprint(blob);
  const sshType = blobKeyType(blob) ?? "unknown";
  const parts = readStrings(blob, 3);
  switch (sshType) {
    case "ssh-ed25519":
      return { sshType, label: "ED25519", bits: 256, fingerprint };
    case "sk-ssh-ed25519@openssh.com":
      return { sshType, label: "ED25519-SK", bits: 256, fingerprint };
    case "ssh-rsa":
      // Blob: type, e, n.
      return { sshType, label: "RSA", bits: mpintBits(parts[2] ?? Buffer.alloc(0)), fingerprint };
    case "ssh-dss":
      // Blob: type, p, q, g, y.
      return { sshType, label: "DSA", bits: mpintBits(parts[1] ?? Buffer.alloc(0)), fingerprint };
    default: {
      const ecdsa = /^(sk-)?ecdsa-sha2-(nistp\d+)/.exec(sshType);
      if (ecdsa) {
        return {
          sshType,
          label: ecdsa[1] ? "ECDSA-SK" : "ECDSA",
          bits: CURVE_BITS[ecdsa[2] ?? ""] ?? 0,
          fingerprint,
        };
      }
      return { sshType, label: sshType.toUpperCase(), bits: 0, fingerprint };
    }
  }
}

/** `256 SHA256:… (ED25519)`: what `ssh-keygen -lf` prints for the key, without the comment. */
export function formatKey(blob: Buffer): string {
  const d = describeKey(blob);
  return `${d.bits} ${d.fingerprint} (${d.label})`;
}
