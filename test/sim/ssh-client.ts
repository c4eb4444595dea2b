import { readFileSync } from "node:fs";
import { Client } from "ssh2";
import type { SimHandle } from "../../src/sim/index.js";

/**
 * A small ssh2 client for the simulator tests: the host key is verified byte for byte against the
 * known_hosts file the simulator wrote (never accept-any).
 */

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when the connection closed before an exit status arrived. */
  cut: boolean;
}

function knownKey(knownHostsPath: string, address: string, port: number): Buffer {
  const name = port === 22 ? address : `[${address}]:${port}`;
  for (const line of readFileSync(knownHostsPath, "utf8").split("\n")) {
    const [host, , blob] = line.split(" ");
    if (host === name && blob) return Buffer.from(blob, "base64");
  }
  throw new Error(`no known_hosts entry for ${name}`);
}

export class SimSsh {
  private constructor(
    readonly client: Client,
    readonly host: string,
  ) {}

  static connect(sim: SimHandle, hostName: string, opts: { privateKey?: string } = {}): Promise<SimSsh> {
    const info = sim.host(hostName);
    const expected = knownKey(sim.knownHostsPath, info.address, info.port);
    const client = new Client();
    return new Promise((resolve, reject) => {
      client.on("ready", () => resolve(new SimSsh(client, hostName)));
      client.on("error", reject);
      // As Refit's own client does: without it Nagle holds a command's stdin and EOF back tens of ms.
      client.on("connect", () => client.setNoDelay(true));
      client.connect({
        host: info.address,
        port: info.port,
        username: "root",
        privateKey: opts.privateKey ?? readFileSync(sim.clientKeyPath!, "utf8"),
        hostVerifier: (key: Buffer) => key.equals(expected),
        readyTimeout: 10_000,
      });
    });
  }

  exec(command: string, stdin?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) {
          reject(err);
          return;
        }
        let stdout = "";
        let stderr = "";
        let code: number | null = null;
        let signal: string | null = null;
        let exited = false;
        stream.on("exit", (c: number | null, s?: string) => {
          exited = true;
          code = c;
          signal = s ?? null;
        });
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", () => resolve({ code, signal, stdout, stderr, cut: !exited }));
        if (stdin !== undefined) stream.end(stdin);
        else stream.end();
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

/** Connects, runs one command, disconnects. */
export async function run(sim: SimHandle, host: string, command: string): Promise<RunResult> {
  const c = await SimSsh.connect(sim, host);
  try {
    return await c.exec(command);
  } finally {
    c.close();
  }
}

/** Polls `check` (real time) until it returns true; the simulator's clock decides how much sim time passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
