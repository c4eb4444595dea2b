import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hostKeyAlgorithmsFor,
  knownHostsName,
  parseKnownHosts,
  verifyHostKey,
} from "../../src/ssh/known-hosts.js";
import type { TestKey } from "../support/keys.js";
import { generateKey, hashKnownHosts, tempDir } from "../support/keys.js";

let dir: { path: string; remove: () => Promise<void> };
let ed: TestKey;
let ed2: TestKey;
let rsa: TestKey;
let ecdsa: TestKey;

const blob = (k: TestKey): Buffer => Buffer.from(k.publicKey.split(" ")[1] ?? "", "base64");

beforeAll(async () => {
  dir = await tempDir("known-hosts");
  ed = await generateKey(dir.path, "ed", { type: "ed25519" });
  ed2 = await generateKey(dir.path, "ed2", { type: "ed25519" });
  rsa = await generateKey(dir.path, "rsa", { type: "rsa", bits: 2048 });
  ecdsa = await generateKey(dir.path, "ecdsa", { type: "ecdsa", bits: 384 });
});
afterAll(async () => {
  await dir?.remove();
});

describe("knownHostsName", () => {
  it("uses the bare name on port 22 and [name]:port elsewhere, lower-cased as ssh does", () => {
    expect(knownHostsName("PVE1.Example.com", 22)).toBe("pve1.example.com");
    expect(knownHostsName("10.0.0.5", 2222)).toBe("[10.0.0.5]:2222");
  });
});

describe("parseKnownHosts", () => {
  it("reads entries and markers, skipping comments, blank and malformed lines", () => {
    const text = [
      "# a comment",
      "",
      `   pve1 ${ed.publicKey} root@pve1`,
      `@revoked * ${ed2.publicKey}`,
      `@cert-authority *.example.com ${rsa.publicKey}`,
      "@bogus pve2 ssh-ed25519 AAAA",
      "pve3 ssh-ed25519",
      "pve4 ssh-ed25519 !!notbase64!!",
      // The type field names another type than the key blob: ssh skips such a line.
      `pve5 ssh-rsa ${ed.publicKey.split(" ")[1]}`,
      "|1|short|hash ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
    ].join("\n");
    const known = parseKnownHosts(text);
    expect(known.entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, undefined, "ssh-ed25519"],
      [4, "revoked", "ssh-ed25519"],
      [5, "cert-authority", "ssh-rsa"],
    ]);
    expect(known.skippedLines).toBe(5);
  });

  it("matches comma-separated patterns with wildcards and negation, case-insensitively", () => {
    const known = parseKnownHosts(`!bad.example.com,*.EXAMPLE.com,10.0.0.?,[10.0.1.1]:2222 ${ed.publicKey}`);
    const e = known.entries[0];
    expect(e).toBeDefined();
    const m = (n: string): boolean => e?.matches(n) ?? false;
    expect(m("pve1.example.com")).toBe(true);
    expect(m("bad.example.com")).toBe(false);
    expect(m("10.0.0.7")).toBe(true);
    expect(m("10.0.0.77")).toBe(false);
    expect(m("[10.0.1.1]:2222")).toBe(true);
    expect(m("10.0.1.1")).toBe(false);
    expect(m("example.com")).toBe(false);
  });

  it("matches hashed names exactly as ssh-keygen -H writes them", async () => {
    const path = join(dir.path, "hashed");
    await writeFile(path, `pve1,[10.0.0.9]:2200 ${ed.publicKey}\n`);
    await hashKnownHosts(path);
    const text = await readFile(path, "utf8");
    expect(text).toMatch(/^\|1\|/);
    const known = parseKnownHosts(text);
    expect(known.entries).toHaveLength(2);
    const matching = (n: string): number => known.entries.filter((e) => e.matches(n)).length;
    expect(matching("pve1")).toBe(1);
    expect(matching("[10.0.0.9]:2200")).toBe(1);
    expect(matching("10.0.0.9")).toBe(0);
    expect(matching("pve2")).toBe(0);
  });
});

describe("verifyHostKey", () => {
  const text = (): string =>
    [
      `pve1 ${ed.publicKey}`,
      `pve1 ${rsa.publicKey}`,
      `@revoked * ${ed2.publicKey}`,
      `@cert-authority pve9 ${ecdsa.publicKey}`,
    ].join("\n");

  it("trusts a recorded key", () => {
    expect(verifyHostKey(parseKnownHosts(text()), "pve1", blob(rsa)).kind).toBe("trusted");
  });

  it("calls a different key for a recorded name a mismatch and lists what is recorded", () => {
    const v = verifyHostKey(parseKnownHosts(text()), "pve1", blob(ecdsa));
    expect(v.kind).toBe("mismatch");
    expect(v.kind === "mismatch" && v.recorded.map((e) => e.line)).toEqual([1, 2]);
  });

  it("refuses a revoked key before looking for a recorded one", () => {
    const known = parseKnownHosts(`${text()}\npve1 ${ed2.publicKey}`);
    expect(verifyHostKey(known, "pve1", blob(ed2)).kind).toBe("revoked");
  });

  it("calls a name without recorded keys unknown, counting ignored @cert-authority lines", () => {
    expect(verifyHostKey(parseKnownHosts(text()), "pve2", blob(ed))).toEqual({
      kind: "unknown",
      certAuthorities: 0,
    });
    expect(verifyHostKey(parseKnownHosts(text()), "pve9", blob(ed))).toEqual({
      kind: "unknown",
      certAuthorities: 1,
    });
  });
});

describe("hostKeyAlgorithmsFor", () => {
  it("offers only algorithms for the key types recorded for the name, best first", () => {
    const known = parseKnownHosts(
      [
        `pve1 ${rsa.publicKey}`,
        `pve1 ${ed.publicKey}`,
        `pve2 ${ecdsa.publicKey}`,
        `@revoked pve3 ${ed.publicKey}`,
      ].join("\n"),
    );
    expect(hostKeyAlgorithmsFor(known, "pve1")).toEqual(["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]);
    expect(hostKeyAlgorithmsFor(known, "pve2")).toEqual(["ecdsa-sha2-nistp384"]);
    expect(hostKeyAlgorithmsFor(known, "pve3")).toBeUndefined();
    expect(hostKeyAlgorithmsFor(known, "pve4")).toBeUndefined();
  });
});
