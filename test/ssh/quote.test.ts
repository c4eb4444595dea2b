import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { SshReason } from "../../src/ssh/reasons.js";
import { shellArgArbitrary } from "./shell-args.js";

const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Runs a command line the way sshd does (`<shell> -c <line>`) and returns the arguments printf received. */
function argsSeenBy(shell: string, args: readonly string[]): string[] {
  const line = quoteArgv(["printf", "%s\\0", ...args]);
  // A bare environment keeps the machine's shell start-up files (BASH_ENV) out of it.
  const r = spawnSync(shell, ["-c", line], { env: { PATH: "/usr/bin:/bin" } });
  expect(r.status, r.stderr.toString()).toBe(0);
  const out = r.stdout.toString("utf8").split("\0");
  out.pop();
  return out;
}

describe("quoteArgv", () => {
  it("follows the shared contract byte for byte", () => {
    expect(quoteArgv(["echo", "hello"])).toBe("echo hello");
    expect(quoteArgv(["DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "dist-upgrade"])).toBe(
      "DEBIAN_FRONTEND=noninteractive apt-get -y dist-upgrade",
    );
    expect(quoteArgv(["pvesh", "get", "/cluster/resources", "--output-format", "json"])).toBe(
      "pvesh get /cluster/resources --output-format json",
    );
    expect(quoteArgv(["x", "a,b:c@d%e+f=g.h/i-j_k"])).toBe("x a,b:c@d%e+f=g.h/i-j_k");
    expect(quoteArgv(["echo", ""])).toBe("echo ''");
    expect(quoteArgv(["echo", "a b"])).toBe("echo 'a b'");
    expect(quoteArgv(["echo", "it's"])).toBe("echo 'it'\\''s'");
    expect(quoteArgv(["echo", "$HOME", "`id`", "~", "*", "#", "a\nb"])).toBe(
      "echo '$HOME' '`id`' '~' '*' '#' 'a\nb'",
    );
    expect(quoteArgv(["echo", "é"])).toBe("echo 'é'");
  });

  it("leaves exactly the contract's bare words unquoted", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (w) => {
        const q = quoteArgv([w]);
        if (BARE.test(w)) expect(q).toBe(w);
        else expect(q.startsWith("'") && q.endsWith("'")).toBe(true);
      }),
    );
  });

  it("refuses an empty argv and NUL bytes, which no shell can deliver", () => {
    for (const bad of [[], ["echo", "a\0b"]]) {
      let err: unknown;
      try {
        quoteArgv(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TerminalError);
      expect((err as TerminalError).reason).toBe(SshReason.InvalidCommand);
    }
  });

  it.each(["/bin/sh", "/bin/bash"])("delivers every argument unchanged through %s -c (property)", (shell) => {
    fc.assert(
      fc.property(fc.array(shellArgArbitrary(), { minLength: 1, maxLength: 8 }), (args) => {
        expect(argsSeenBy(shell, args)).toEqual(args);
      }),
      { numRuns: 200 },
    );
  });
});
