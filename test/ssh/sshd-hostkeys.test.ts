/**
 * Host key verification against Debian's OpenSSH sshd serving ed25519, RSA and ECDSA host keys:
 * what known_hosts accepts, what it refuses and what the refusal tells a person.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { SshPool } from "../../src/ssh/pool.js";
import { SshReason } from "../../src/ssh/reasons.js";
import { fileSource } from "../../src/ssh/sources.js";
import type { SshTarget } from "../../src/ssh/target.js";
import type { KeygenFingerprint } from "../support/keys.js";
import { generateKey, hashKnownHosts, keygenFingerprint } from "../support/keys.js";
import type { SshFixture } from "./fixture.js";
import { startFixture } from "./fixture.js";

let f: SshFixture;
let hostFingerprints: KeygenFingerprint[];
let otherKey: string;
let bracketName: string;

beforeAll(async () => {
  f = await startFixture({ hostKeyTypes: ["ed25519", "rsa", "ecdsa"] });
  hostFingerprints = await Promise.all(f.sshd.hostKeys.map((k) => keygenFingerprint(k.publicPath)));
  otherKey = (await generateKey(f.dir, "impostor_host_key", { type: "ed25519" })).publicKey;
  bracketName = `[${f.sshd.host}]:${f.sshd.port}`;
});
afterAll(async () => {
  await f?.dispose();
});

async function withKnownHosts(lines: string[], overrides: Partial<SshTarget> = {}): Promise<SshTarget> {
  const path = await f.writeKnownHosts(`known_hosts_${Math.random().toString(36).slice(2)}`, lines);
  return f.target({ knownHosts: fileSource(path, "known_hosts file"), ...overrides });
}

async function connects(target: SshTarget): Promise<boolean> {
  const pool = new SshPool();
  try {
    return (await pool.host(target).exec(["echo", "ok"], { timeoutMs: 20_000 })).stdout === "ok\n";
  } finally {
    pool.close();
  }
}

async function refusal(target: SshTarget): Promise<TerminalError> {
  const err = await connects(target).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TerminalError);
  return err as TerminalError;
}

/** The host key the refusal names, which must be shown exactly as `ssh-keygen -lf` shows it. */
function presentedKey(err: TerminalError): KeygenFingerprint {
  const shown = hostFingerprints.find((k) => err.message.includes(`${k.bits} ${k.fingerprint} (${k.label})`));
  expect(shown, `no host key of the server appears in: ${err.message}`).toBeDefined();
  return shown as KeygenFingerprint;
}

describe("accepted host keys", () => {
  it("accepts a plain [host]:port entry", async () => {
    expect(await connects(await withKnownHosts(f.sshd.knownHostsLines({ types: ["ed25519"] })))).toBe(true);
  });

  it.each(["rsa", "ecdsa"] as const)(
    "asks for the %s key when that is the only one known, though the server also has ed25519",
    async (type) => {
      expect(await connects(await withKnownHosts(f.sshd.knownHostsLines({ types: [type] })))).toBe(true);
    },
  );

  it("accepts a hashed known_hosts made by ssh-keygen -H", async () => {
    const target = await withKnownHosts(f.sshd.knownHostsLines({ types: ["ed25519"] }));
    const path = target.knownHosts.description.replace(/^known_hosts file /, "");
    await hashKnownHosts(path);
    expect(await connects({ ...target, knownHosts: fileSource(path, "known_hosts file") })).toBe(true);
  });

  it("accepts an entry whose comma-separated patterns include the host, among comments", async () => {
    const key = f.sshd.hostKey("ed25519").publicKey;
    const lines = ["# fleet", "", `pve9,10.9.9.9,${bracketName} ${key} node1-comment`];
    expect(await connects(await withKnownHosts(lines))).toBe(true);
  });

  it("looks up a HostKeyAlias instead of the address when one is set", async () => {
    const key = f.sshd.hostKey("ed25519").publicKey;
    expect(await connects(await withKnownHosts([`pve1 ${key}`], { hostKeyAlias: "pve1" }))).toBe(true);
  });
});

describe("refused host keys", () => {
  it("refuses a changed key and shows the presented fingerprint as ssh-keygen -lf does", async () => {
    const target = await withKnownHosts([`${bracketName} ${otherKey}`]);
    const err = await refusal(target);
    expect(err.reason).toBe(SshReason.HostKeyMismatch);
    const ed25519 = hostFingerprints.find((k) => k.label === "ED25519");
    expect(presentedKey(err)).toEqual(ed25519);
    expect(err.message).toContain(target.knownHosts.description);
    expect(err.message).toContain("ssh-keygen -R");
  });

  it("refuses a changed key recorded in hashed form", async () => {
    const target = await withKnownHosts([`${bracketName} ${otherKey}`]);
    await hashKnownHosts(target.knownHosts.description.replace(/^known_hosts file /, ""));
    expect((await refusal(target)).reason).toBe(SshReason.HostKeyMismatch);
  });

  it("refuses an unknown host and names the file and the fingerprint to check", async () => {
    const target = await withKnownHosts([`otherhost ${otherKey}`]);
    const err = await refusal(target);
    expect(err.reason).toBe(SshReason.HostKeyUnknown);
    presentedKey(err);
    expect(err.message).toContain(target.knownHosts.description);
    expect(err.message).toContain(bracketName);
  });

  it("does not take a port-22 entry for a host on another port", async () => {
    const key = f.sshd.hostKey("ed25519").publicKey;
    const err = await refusal(await withKnownHosts([`${f.sshd.host} ${key}`]));
    expect(err.reason).toBe(SshReason.HostKeyUnknown);
  });

  it("refuses a key marked @revoked even when it is also recorded", async () => {
    const lines = f.sshd.knownHostsLines({ types: ["ed25519"] });
    const key = f.sshd.hostKey("ed25519").publicKey;
    const err = await refusal(await withKnownHosts([...lines, `@revoked * ${key}`]));
    expect(err.reason).toBe(SshReason.HostKeyRevoked);
    presentedKey(err);
  });

  it("does not trust @cert-authority lines and says so", async () => {
    const err = await refusal(await withKnownHosts([`@cert-authority ${bracketName} ${otherKey}`]));
    expect(err.reason).toBe(SshReason.HostKeyUnknown);
    expect(err.message).toContain("@cert-authority");
  });

  it("refuses when the server has none of the key types known for it", async () => {
    // The server's ECDSA host key is P-256; known_hosts records only a P-521 key for it.
    const p521 = (await generateKey(f.dir, "p521_host_key", { type: "ecdsa", bits: 521 })).publicKey;
    const err = await refusal(await withKnownHosts([`${bracketName} ${p521}`]));
    expect(err.reason).toBe(SshReason.HostKeyMismatch);
    expect(err.message).toContain("ecdsa-sha2-nistp521");
  });

  it("is terminal when the known_hosts file cannot be read", async () => {
    const err = await refusal(
      f.target({ knownHosts: fileSource(`${f.dir}/missing_known_hosts`, "known_hosts file") }),
    );
    expect(err.reason).toBe(SshReason.KnownHostsUnreadable);
    expect(err.message).toContain("missing_known_hosts");
  });
});
