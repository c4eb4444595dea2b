import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatKey, sha256Fingerprint } from "../../src/ssh/fingerprint.js";
import type { TestKeyType } from "../support/keys.js";
import { generateKey, keygenFingerprint, tempDir } from "../support/keys.js";

let dir: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir("fingerprint");
});
afterAll(async () => {
  await dir?.remove();
});

const cases: [TestKeyType, number | undefined][] = [
  ["ed25519", undefined],
  ["rsa", 2048],
  ["rsa", 3072],
  ["ecdsa", 256],
  ["ecdsa", 384],
  ["ecdsa", 521],
];

describe("key fingerprints", () => {
  it.each(cases)("shows a %s key (%s bits) exactly as ssh-keygen -lf does", async (type, bits) => {
    const key = await generateKey(dir.path, `k-${type}-${bits ?? "default"}`, {
      type,
      ...(bits ? { bits } : {}),
    });
    const blob = Buffer.from(key.publicKey.split(" ")[1] ?? "", "base64");
    const expected = await keygenFingerprint(key.publicPath);
    expect(sha256Fingerprint(blob)).toBe(expected.fingerprint);
    expect(formatKey(blob)).toBe(`${expected.bits} ${expected.fingerprint} (${expected.label})`);
  });
});
