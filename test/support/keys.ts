/**
 * Test keys made by the real ssh-keygen, so fingerprints and file formats are exactly OpenSSH's.
 * Needs Debian's openssh-client (ssh-keygen).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const SSH_KEYGEN = "/usr/bin/ssh-keygen";

export type TestKeyType = "ed25519" | "rsa" | "ecdsa";

export interface TestKey {
  privatePath: string;
  publicPath: string;
  /** `ssh-ed25519 AAAA… comment` */
  publicLine: string;
  /** `<type> <base64>`, the part known_hosts and authorized_keys record. */
  publicKey: string;
}

/** `ssh-keygen -lf` of a public key file, split into its parts. */
export interface KeygenFingerprint {
  bits: number;
  fingerprint: string;
  label: string;
  line: string;
}

export function requireSshKeygen(): void {
  if (!existsSync(SSH_KEYGEN)) {
    throw new Error(
      `${SSH_KEYGEN} is missing: install Debian's openssh-client (apt-get install -y openssh-client openssh-server).`,
    );
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `refit-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function generateKey(
  dir: string,
  name: string,
  opts: { type: TestKeyType; bits?: number; passphrase?: string; comment?: string } = { type: "ed25519" },
): Promise<TestKey> {
  requireSshKeygen();
  const privatePath = join(dir, name);
  const args = [
    "-q",
    "-t",
    opts.type,
    "-N",
    opts.passphrase ?? "",
    "-C",
    opts.comment ?? `refit-test-${name}`,
    "-f",
    privatePath,
  ];
  if (opts.bits) args.push("-b", String(opts.bits));
  await run(SSH_KEYGEN, args);
  const publicPath = `${privatePath}.pub`;
  const publicLine = (await readFile(publicPath, "utf8")).trim();
  const publicKey = publicLine.split(" ").slice(0, 2).join(" ");
  return { privatePath, publicPath, publicLine, publicKey };
}

export async function keygenFingerprint(publicPath: string): Promise<KeygenFingerprint> {
  requireSshKeygen();
  const { stdout } = await run(SSH_KEYGEN, ["-lf", publicPath]);
  const line = stdout.trim();
  const m = /^(\d+) (SHA256:[A-Za-z0-9+/]+) .*\(([A-Z0-9-]+)\)$/.exec(line);
  if (!m) throw new Error(`unexpected ssh-keygen -lf output: ${line}`);
  return { bits: Number(m[1]), fingerprint: m[2] ?? "", label: m[3] ?? "", line };
}

/** Hashes a known_hosts file in place with `ssh-keygen -H` (and removes the `.old` copy it leaves). */
export async function hashKnownHosts(path: string): Promise<void> {
  requireSshKeygen();
  await run(SSH_KEYGEN, ["-H", "-f", path]);
  await rm(`${path}.old`, { force: true });
}
