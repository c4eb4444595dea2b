/**
 * A real Debian OpenSSH sshd on loopback for tests: `/usr/sbin/sshd -D -e -f <tmp config>` on
 * 127.0.0.1 with a random free port, fresh host keys and its own authorized_keys. Needs Debian's
 * openssh-server. When sshd is missing the harness throws (it never skips): CI must install it.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { TestKey, TestKeyType } from "./keys.js";
import { generateKey, requireSshKeygen, tempDir } from "./keys.js";

export const SSHD = "/usr/sbin/sshd";

export function requireSshd(): void {
  if (!existsSync(SSHD)) {
    const where = process.env.CI ? "CI must install it" : "install it";
    throw new Error(
      `${SSHD} is missing, so the SSH transport tests cannot run against a real OpenSSH server: ${where} with \`apt-get update && apt-get install -y openssh-server openssh-client\`.`,
    );
  }
  requireSshKeygen();
}

export interface SshdOptions {
  /** Public key lines for authorized_keys. */
  authorizedKeys: string[];
  /** Host key types to generate and serve; default ed25519 only. */
  hostKeyTypes?: TestKeyType[];
  maxSessions?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function isSshdProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sshd");
  } catch {
    return false;
  }
}

/** Direct children of a pid, from /proc (only processes this harness started descend from sshd). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // "pid (comm) state ppid …" — comm may contain spaces and parentheses.
      const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(after[1]) === pid) out.push(Number(name));
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

/**
 * The per-connection sshd processes under the listener. Session processes (the user's shell and its
 * command) are left alone, as they are when a real connection dies: killing a shell half-way through
 * its start-up could leave the machine's own lock files behind.
 */
function sshdDescendantsOf(pid: number): number[] {
  const all: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    if (p === undefined) break;
    for (const c of childrenOf(p)) {
      if (!isSshdProcess(c)) continue;
      all.push(c);
      stack.push(c);
    }
  }
  return all;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

export class Sshd {
  readonly host = "127.0.0.1";
  readonly user = userInfo().username;
  private child: ChildProcess | undefined;
  private stderr = "";

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly hostKeys: TestKey[],
    private readonly configPath: string,
    private readonly removeDir: () => Promise<void>,
  ) {}

  static async start(opts: SshdOptions): Promise<Sshd> {
    requireSshd();
    if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
    const tmp = await tempDir("sshd");
    const hostKeys: TestKey[] = [];
    for (const type of opts.hostKeyTypes ?? ["ed25519"]) {
      hostKeys.push(await generateKey(tmp.path, `ssh_host_${type}_key`, { type, comment: `host-${type}` }));
    }
    const authorizedKeys = join(tmp.path, "authorized_keys");
    await writeFile(authorizedKeys, opts.authorizedKeys.map((k) => `${k}\n`).join(""), { mode: 0o600 });
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const configPath = join(tmp.path, "sshd_config");
      await writeFile(
        configPath,
        [
          `Port ${port}`,
          `ListenAddress 127.0.0.1`,
          ...hostKeys.map((k) => `HostKey ${k.privatePath}`),
          `PidFile none`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          `StrictModes no`,
          `UsePAM no`,
          `PermitRootLogin prohibit-password`,
          `PubkeyAuthentication yes`,
          `PasswordAuthentication no`,
          `KbdInteractiveAuthentication no`,
          `MaxSessions ${opts.maxSessions ?? 10}`,
          `MaxStartups 50`,
          `UseDNS no`,
          `PrintMotd no`,
          `LogLevel VERBOSE`,
          // bash sources ~/.bashrc for a command sent over SSH only when it is a top-level shell
          // (SHLVL unset). Root's .bashrc on dev and CI machines runs tools (pyenv init) that are slow
          // and lock files; the sessions under test should run the command, not this machine's rc.
          `SetEnv SHLVL=1`,
          "",
        ].join("\n"),
      );
      const sshd = new Sshd(tmp.path, port, hostKeys, configPath, tmp.remove);
      try {
        await sshd.launch();
        return sshd;
      } catch (err) {
        lastError = err;
        // Another process may have taken the port between probing and binding; try another.
      }
    }
    await tmp.remove();
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** `[127.0.0.1]:port type base64` for each host key (or those of the given types). */
  knownHostsLines(opts: { name?: string; types?: TestKeyType[] } = {}): string[] {
    const name = opts.name ?? `[${this.host}]:${this.port}`;
    return this.hostKeys
      .filter((k) => !opts.types || opts.types.some((t) => k.privatePath.endsWith(`ssh_host_${t}_key`)))
      .map((k) => `${name} ${k.publicKey}`);
  }

  hostKey(type: TestKeyType): TestKey {
    const key = this.hostKeys.find((k) => k.privatePath.endsWith(`ssh_host_${type}_key`));
    if (!key) throw new Error(`sshd has no ${type} host key`);
    return key;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The server's log so far (sshd -e writes it to stderr); useful in assertion messages. */
  get log(): string {
    return this.stderr;
  }

  private launch(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(SSHD, ["-D", "-e", "-f", this.configPath], { stdio: ["ignore", "ignore", "pipe"] });
      this.child = child;
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) {
          child.kill("SIGKILL");
          reject(new Error(`sshd did not report listening within 30 s:\n${this.stderr}`));
        }
      }, 30_000);
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (chunk: string) => {
        this.stderr += chunk;
        if (!ready && this.stderr.includes(`Server listening on ${this.host} port ${this.port}`)) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`sshd exited (code ${code}, signal ${signal}) before listening:\n${this.stderr}`));
        }
      });
    });
  }

  /**
   * Kills every per-connection sshd process, which cuts every connection as a crash or a network
   * cut would; the listener keeps accepting new connections. Returns how many processes were killed.
   */
  dropConnections(): number {
    const pid = this.child?.pid;
    if (pid === undefined) return 0;
    const victims = sshdDescendantsOf(pid);
    killAll(victims);
    return victims.length;
  }

  /**
   * Stops (SIGSTOP) or resumes (SIGCONT) every per-connection sshd process: a frozen server keeps the
   * TCP connection open but answers nothing, like a hung host or a silently dropped route.
   */
  freezeConnections(frozen: boolean): number {
    const pid = this.child?.pid;
    if (pid === undefined) return 0;
    const targets = sshdDescendantsOf(pid);
    for (const p of targets) {
      try {
        process.kill(p, frozen ? "SIGSTOP" : "SIGCONT");
      } catch {
        // Already gone.
      }
    }
    return targets.length;
  }

  /** Number of live per-connection sshd processes (direct children of the listener). */
  connectionCount(): number {
    const pid = this.child?.pid;
    return pid === undefined ? 0 : childrenOf(pid).length;
  }

  /** Stops the listener and every connection it spawned. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const victims = sshdDescendantsOf(child.pid);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    killAll(victims);
    await exited;
    this.child = undefined;
  }

  /** Starts sshd again on the same port with the same keys. */
  async restart(): Promise<void> {
    await this.stop();
    this.stderr = "";
    await this.launch();
  }

  /** Stops sshd and deletes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    await this.removeDir();
  }
}
