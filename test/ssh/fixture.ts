/** Shared set-up for the tests that talk to a real sshd: a client key, a server, a known_hosts file. */
import { readFileSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { identityFromFile } from "../../src/ssh/identity.js";
import { fileSource } from "../../src/ssh/sources.js";
import type { SshTarget } from "../../src/ssh/target.js";
import type { TestKey, TestKeyType } from "../support/keys.js";
import { generateKey, tempDir } from "../support/keys.js";
import { Sshd } from "../support/sshd.js";

export interface SshFixture {
  dir: string;
  sshd: Sshd;
  clientKey: TestKey;
  knownHostsPath: string;
  /** A target for this sshd with the client key and a known_hosts file that records the host keys. */
  target(overrides?: Partial<SshTarget>): SshTarget;
  /** Writes a known_hosts file with these lines and returns its path. */
  writeKnownHosts(name: string, lines: string[]): Promise<string>;
  dispose(): Promise<void>;
}

export async function startFixture(
  opts: { hostKeyTypes?: TestKeyType[]; extraAuthorizedKeys?: string[] } = {},
): Promise<SshFixture> {
  const tmp = await tempDir("ssh-client");
  const clientKey = await generateKey(tmp.path, "id_ed25519", { type: "ed25519" });
  const sshd = await Sshd.start({
    authorizedKeys: [clientKey.publicLine, ...(opts.extraAuthorizedKeys ?? [])],
    ...(opts.hostKeyTypes ? { hostKeyTypes: opts.hostKeyTypes } : {}),
  });
  const knownHostsPath = join(tmp.path, "known_hosts");
  await writeFile(knownHostsPath, sshd.knownHostsLines().join("\n") + "\n");
  return {
    dir: tmp.path,
    sshd,
    clientKey,
    knownHostsPath,
    target: (overrides = {}) => ({
      name: "node1",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identity: identityFromFile(clientKey.privatePath),
      knownHosts: fileSource(knownHostsPath, "known_hosts file"),
      ...overrides,
    }),
    async writeKnownHosts(name, lines) {
      const path = join(tmp.path, name);
      await writeFile(path, lines.join("\n") + "\n");
      return path;
    },
    async dispose() {
      await sshd.dispose();
      await tmp.remove();
    },
  };
}

/** Pids of local processes whose argv is exactly `argv` (sshd runs on loopback, so its sessions are local). */
export function findProcesses(argv: readonly string[]): number[] {
  const wanted = argv.join("\0") + "\0";
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8") === wanted) pids.push(Number(name));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** Polls until `check` is true; fails after a generous bound (this is not a timing assertion). */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  boundMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Kills leftover processes a test started on the loopback sshd (sshd cannot signal root sessions). */
export function killProcesses(argv: readonly string[]): void {
  for (const pid of findProcesses(argv)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
