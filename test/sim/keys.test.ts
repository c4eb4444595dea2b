import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { afterAll, describe, expect, it } from "vitest";
import { clientKey, hostKey, knownHostsLine } from "../../src/sim/ssh/keys.js";

const dir = mkdtempSync(join(tmpdir(), "refit-sim-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("simulator keys", () => {
  it("always yields keys ssh2 can load, even though its generator sometimes does not", () => {
    // ssh2 produces an unparsable ed25519 key about once in 256; 600 keys make that near certain.
    for (let i = 0; i < 600; i++) {
      const k = hostKey(join(dir, `h${i}`), "pve1");
      expect(ssh2.utils.parseKey(k.privateKey)).not.toBeInstanceOf(Error);
    }
  });

  it("reuses persisted keys and writes the private key 0600", () => {
    const a = hostKey(dir, "pve9");
    expect(hostKey(dir, "pve9")).toEqual(a);
    const c = clientKey(dir);
    expect(clientKey(dir).publicKey).toBe(c.publicKey);
    expect(readFileSync(c.privateKeyPath!, "utf8")).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(statSync(c.privateKeyPath!).mode & 0o777).toBe(0o600);
  });

  it("writes known_hosts names as ssh looks them up", () => {
    expect(knownHostsLine("127.0.1.1", 40022, "ssh-ed25519 AAAAkey", "pve1")).toBe(
      "[127.0.1.1]:40022 ssh-ed25519 AAAAkey pve1",
    );
    expect(knownHostsLine("127.0.1.1", 22, "ssh-ed25519 AAAAkey", "pve1")).toBe(
      "127.0.1.1 ssh-ed25519 AAAAkey pve1",
    );
  });
});
