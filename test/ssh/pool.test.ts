/** Pool behaviour that needs no SSH server: connect deadlines, refused connections, bad argv. */
import type { Server, Socket } from "node:net";
import { createServer } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { RetryableError, TerminalError } from "../../src/errors.js";
import { identityFromFile } from "../../src/ssh/identity.js";
import { SshPool } from "../../src/ssh/pool.js";
import { SshReason } from "../../src/ssh/reasons.js";
import { fileSource } from "../../src/ssh/sources.js";
import type { SshTarget } from "../../src/ssh/target.js";
import type { TestKey } from "../support/keys.js";
import { generateKey, tempDir } from "../support/keys.js";
import { waitUntil } from "./fixture.js";

let dir: { path: string; remove: () => Promise<void> };
let key: TestKey;
let silent: Server;
const held: Socket[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });
}

async function targetFor(port: number): Promise<SshTarget> {
  const knownHosts = join(dir.path, `known_hosts_${port}`);
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${key.publicKey}\n`);
  return {
    name: "node9",
    host: "127.0.0.1",
    port,
    user: "root",
    identity: identityFromFile(key.privatePath),
    knownHosts: fileSource(knownHosts, "known_hosts file"),
  };
}

beforeAll(async () => {
  dir = await tempDir("ssh-pool");
  key = await generateKey(dir.path, "id_ed25519", { type: "ed25519" });
  // Accepts TCP connections and never says a word, like a host whose sshd is wedged.
  silent = createServer((s) => {
    held.push(s);
  });
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => silent.close(r));
  await dir?.remove();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe("SshPool without a server", () => {
  it("gives up connecting after the connect timeout on the injected clock", async () => {
    const port = await listen(silent);
    const clock = new ManualClock();
    const pool = new SshPool({ clock, connectTimeoutMs: 5_000 });
    try {
      const pending = failure(pool.host(await targetFor(port)).exec(["true"], { timeoutMs: 1_000 }));
      await waitUntil("the TCP connection is accepted", () => held.length > 0);
      clock.advance(5_000);
      const err = await pending;
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as RetryableError).reason).toBe(SshReason.ConnectTimeout);
      expect((err as RetryableError).message).toContain("5000 ms");
      expect(pool.stats()).toMatchObject({ connectFailures: 1, connectionsOpened: 0, channelsInUse: 0 });
    } finally {
      pool.close();
    }
  });

  it("reports a refused connection as retryable and frees the slot", async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const pool = new SshPool();
    try {
      const err = await failure(pool.host(await targetFor(port)).exec(["true"], { timeoutMs: 1_000 }));
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as RetryableError).reason).toBe(SshReason.ConnectFailed);
      expect((err as RetryableError).message).toContain("ECONNREFUSED");
      expect(pool.stats()).toMatchObject({ channelsInUse: 0, queued: 0 });
    } finally {
      pool.close();
    }
  });

  it("refuses an empty argv or a non-positive timeout without connecting", async () => {
    const pool = new SshPool();
    try {
      const h = pool.host(await targetFor(1));
      for (const call of [h.exec([]), h.exec(["true"], { timeoutMs: 0 })]) {
        const err = await failure(call);
        expect(err).toBeInstanceOf(TerminalError);
        expect((err as TerminalError).reason).toBe(SshReason.InvalidCommand);
      }
      expect(pool.stats()).toMatchObject({ connectFailures: 0, connectionsOpened: 0 });
    } finally {
      pool.close();
    }
  });

  it("hands out the same host for the same user@host:port", async () => {
    const pool = new SshPool();
    const t = await targetFor(2);
    expect(pool.host(t)).toBe(pool.host({ ...t, name: "alias" }));
    expect(pool.host(t)).not.toBe(pool.host({ ...t, user: "admin" }));
    pool.close();
  });
});
