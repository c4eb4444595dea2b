import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { quoteArgv } from "../../src/ssh/quote.js";
import type { ExecOptions, ExecResult, HostExec } from "../../src/ssh/types.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), "utf8");
}

/**
 * Runs argv the way OpenSSH does on a real host: the quoted command line goes to a POSIX shell as
 * `sh -c "<line>"`. Real local programs answer (uname, cat, df, test, sh); Proxmox tools are absent
 * unless a stub directory is put first on PATH.
 */
export class LocalShExec implements HostExec {
  readonly calls: { argv: string[]; opts: ExecOptions | undefined }[] = [];
  constructor(
    readonly host = "localhost",
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], opts });
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn("/bin/sh", ["-c", quoteArgv(argv)], {
        env: this.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timer =
        opts?.timeoutMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
      child.on("error", reject);
      child.on("close", (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({
          exitCode: code,
          signal,
          stdout,
          stderr,
          stdoutTruncated: false,
          stderrTruncated: false,
          durationMs: Date.now() - started,
        });
      });
    });
  }
}

export interface Reply {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode?: number | null;
  readonly stdoutTruncated?: boolean;
}

/**
 * Answers known command lines with canned replies and everything else like dash does for an unknown
 * program (exit 127). Used to pin the exact argv of Proxmox commands until the simulator runs them.
 */
export class ScriptedExec implements HostExec {
  readonly calls: { argv: string[]; line: string; opts: ExecOptions | undefined }[] = [];
  constructor(
    readonly host: string,
    private readonly replies: Readonly<Record<string, Reply>> = {},
  ) {}

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    const line = quoteArgv(argv);
    this.calls.push({ argv: [...argv], line, opts });
    const r = this.replies[line] ?? { stderr: `sh: 1: ${argv[0] ?? ""}: not found\n`, exitCode: 127 };
    return Promise.resolve({
      exitCode: r.exitCode === undefined ? 0 : r.exitCode,
      signal: r.exitCode === null ? "SIGKILL" : null,
      stdout: r.stdout ?? "",
      stderr: r.stderr ?? "",
      stdoutTruncated: r.stdoutTruncated ?? false,
      stderrTruncated: false,
      durationMs: 1,
    });
  }
}

/** A temporary directory of executable shell scripts, to put first on PATH. */
export class StubBin {
  readonly dir = mkdtempSync(join(tmpdir(), "refit-pve-stub-"));

  add(name: string, script: string): this {
    const path = join(this.dir, name);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return this;
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.dir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FIX: FIXTURES };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
