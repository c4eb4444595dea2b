/** Client key authentication against Debian's OpenSSH sshd: key types, encrypted keys, failures. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import type { Identity } from "../../src/ssh/identity.js";
import { identityFromFile } from "../../src/ssh/identity.js";
import { SshPool } from "../../src/ssh/pool.js";
import type { Logger } from "../../src/log/logger.js";
import { SshReason } from "../../src/ssh/reasons.js";
import type { TestKey } from "../support/keys.js";
import { generateKey, keygenFingerprint, tempDir } from "../support/keys.js";
import type { SshFixture } from "./fixture.js";
import { startFixture } from "./fixture.js";

const PASSPHRASE = "correct horse battery staple";
const ENV_NAME = "REFIT_TEST_SSH_PASSPHRASE";

let f: SshFixture;
let keysDir: { path: string; remove: () => Promise<void> };
const keys: Record<string, TestKey> = {};

beforeAll(async () => {
  keysDir = await tempDir("ssh-auth-keys");
  keys.rsa = await generateKey(keysDir.path, "id_rsa", { type: "rsa", bits: 3072 });
  keys.ecdsa = await generateKey(keysDir.path, "id_ecdsa", { type: "ecdsa", bits: 384 });
  keys.encrypted = await generateKey(keysDir.path, "id_ed25519_enc", {
    type: "ed25519",
    passphrase: PASSPHRASE,
  });
  keys.encryptedRsa = await generateKey(keysDir.path, "id_rsa_enc", {
    type: "rsa",
    bits: 2048,
    passphrase: PASSPHRASE,
  });
  keys.stranger = await generateKey(keysDir.path, "id_stranger", { type: "ed25519" });
  const authorized = [keys.rsa, keys.ecdsa, keys.encrypted, keys.encryptedRsa].map((k) => k.publicLine);
  f = await startFixture({ extraAuthorizedKeys: authorized });
});
afterAll(async () => {
  await f?.dispose();
  await keysDir?.remove();
});
afterEach(() => {
  delete process.env[ENV_NAME];
});

async function run(identity: Identity): Promise<string> {
  const pool = new SshPool();
  try {
    return (await pool.host(f.target({ identity })).exec(["echo", "in"], { timeoutMs: 20_000 })).stdout;
  } finally {
    pool.close();
  }
}

async function refusal(identity: Identity): Promise<TerminalError> {
  const err = await run(identity).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TerminalError);
  return err as TerminalError;
}

/** The server's own record of which key it accepted. */
async function acceptedWith(key: TestKey): Promise<boolean> {
  const fp = await keygenFingerprint(key.publicPath);
  return f.sshd.log.includes(`ssh2: ${fp.label} ${fp.fingerprint}`);
}

/** No line of the private key file's body, and no passphrase, may appear in an error. */
async function expectNoSecrets(err: TerminalError, key: TestKey): Promise<void> {
  const text = `${err.message}\n${JSON.stringify(err.context)}\n${String(err.stack)}`;
  expect(text).not.toContain(PASSPHRASE);
  const body = (await readFile(key.privatePath, "utf8"))
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"));
  expect(body.length).toBeGreaterThan(0);
  for (const line of body) expect(text).not.toContain(line.slice(0, 24));
}

describe("key authentication", () => {
  it("authenticates with an ed25519 key", async () => {
    expect(await run(identityFromFile(f.clientKey.privatePath))).toBe("in\n");
    expect(await acceptedWith(f.clientKey)).toBe(true);
  });

  it("authenticates with an RSA key", async () => {
    expect(await run(identityFromFile(keys.rsa!.privatePath))).toBe("in\n");
    expect(await acceptedWith(keys.rsa!)).toBe(true);
  });

  it("authenticates with an ECDSA key", async () => {
    expect(await run(identityFromFile(keys.ecdsa!.privatePath))).toBe("in\n");
    expect(await acceptedWith(keys.ecdsa!)).toBe(true);
  });

  it("decrypts an encrypted key with a passphrase read from a file (trailing newline ignored)", async () => {
    const file = join(keysDir.path, "passphrase");
    await writeFile(file, `${PASSPHRASE}\n`, { mode: 0o600 });
    expect(await run(identityFromFile(keys.encrypted!.privatePath, { file }))).toBe("in\n");
    expect(await acceptedWith(keys.encrypted!)).toBe(true);
  });

  it("decrypts an encrypted RSA key with a passphrase from an environment variable", async () => {
    process.env[ENV_NAME] = PASSPHRASE;
    expect(await run(identityFromFile(keys.encryptedRsa!.privatePath, { env: ENV_NAME }))).toBe("in\n");
    expect(await acceptedWith(keys.encryptedRsa!)).toBe(true);
  });
});

describe("key failures are terminal and never show secrets", () => {
  it("refuses a wrong passphrase", async () => {
    process.env[ENV_NAME] = "not the passphrase";
    const err = await refusal(identityFromFile(keys.encrypted!.privatePath, { env: ENV_NAME }));
    expect(err.reason).toBe(SshReason.PrivateKeyPassphrase);
    expect(err.message).toContain(keys.encrypted!.privatePath);
    expect(err.message).toContain(ENV_NAME);
    expect(err.message).not.toContain("not the passphrase");
    await expectNoSecrets(err, keys.encrypted!);
  });

  it("refuses an encrypted key when no passphrase is configured", async () => {
    const err = await refusal(identityFromFile(keys.encrypted!.privatePath));
    expect(err.reason).toBe(SshReason.PrivateKeyPassphrase);
    expect(err.message).toMatch(/encrypted/);
    await expectNoSecrets(err, keys.encrypted!);
  });

  it("names an unset passphrase variable", async () => {
    const err = await refusal(identityFromFile(keys.encrypted!.privatePath, { env: ENV_NAME }));
    expect(err.reason).toBe(SshReason.PrivateKeyPassphrase);
    expect(err.message).toContain(`${ENV_NAME}: is not set`);
  });

  it("names a key file that cannot be read", async () => {
    const missing = join(keysDir.path, "no-such-key");
    const err = await refusal(identityFromFile(missing));
    expect(err.reason).toBe(SshReason.PrivateKeyUnreadable);
    expect(err.message).toContain(missing);
    expect(err.message).toContain("ENOENT");
  });

  it("refuses a public key given as the private key", async () => {
    const err = await refusal(identityFromFile(keys.rsa!.publicPath));
    expect(err.reason).toBe(SshReason.PrivateKeyUnreadable);
    expect(err.message).toContain("public key");
  });

  it("refuses a file that is not a key, without echoing its content", async () => {
    const junk = join(keysDir.path, "junk");
    await writeFile(junk, `${PASSPHRASE}\n`);
    const err = await refusal(identityFromFile(junk));
    expect(err.reason).toBe(SshReason.PrivateKeyUnreadable);
    expect(err.message).not.toContain(PASSPHRASE);
  });

  it("reports a key the server does not accept with its public fingerprint", async () => {
    const err = await refusal(identityFromFile(keys.stranger!.privatePath));
    expect(err.reason).toBe(SshReason.AuthenticationFailed);
    const fp = await keygenFingerprint(keys.stranger!.publicPath);
    expect(err.message).toContain(fp.fingerprint);
    expect(err.message).toContain("authorized_keys");
    await expectNoSecrets(err, keys.stranger!);
  });
});

describe("logging", () => {
  it("logs connections and commands through a pino logger without key material, passphrases or arguments", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const logger: Logger = pino({ level: "debug" }, sink);
    process.env[ENV_NAME] = PASSPHRASE;
    const pool = new SshPool({ logger });
    try {
      const h = pool.host(
        f.target({ identity: identityFromFile(keys.encrypted!.privatePath, { env: ENV_NAME }) }),
      );
      await h.exec(["echo", "secret-argument-value"], { timeoutMs: 20_000 });
    } finally {
      pool.close();
    }
    const bad = new SshPool({ logger });
    process.env[ENV_NAME] = "wrong";
    try {
      const h = bad.host(
        f.target({ identity: identityFromFile(keys.encrypted!.privatePath, { env: ENV_NAME }) }),
      );
      await h.exec(["true"], { timeoutMs: 20_000 }).catch(() => undefined);
    } finally {
      bad.close();
    }
    const text = lines.join("");
    expect(text).toContain("ssh connected");
    expect(text).toContain("ssh exec");
    expect(text).toContain(SshReason.PrivateKeyPassphrase);
    expect(text).not.toContain(PASSPHRASE);
    expect(text).not.toContain("secret-argument-value");
    const body = (await readFile(keys.encrypted!.privatePath, "utf8"))
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"));
    for (const line of body) expect(text).not.toContain(line.slice(0, 24));
  });
});
