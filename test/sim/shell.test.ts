import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quoteArgv } from "../../src/ssh/quote.js";
import { ShellInterpreter } from "../../src/sim/shell/interpreter.js";
import { parseScript } from "../../src/sim/shell/parser.js";
import type { ShellHost, ShellIo } from "../../src/sim/shell/types.js";

/** A machine whose only programs are `argv` (prints its arguments as JSON), `fail [n]` and `env NAME`. */
function machine(files: Record<string, string> = {}): { host: ShellHost; runs: string[][] } {
  const runs: string[][] = [];
  const exec = (argv: string[], env: Record<string, string>, io: ShellIo, line: number): number => {
    runs.push(argv);
    if (argv[0] === "argv") {
      io.stdout(`${JSON.stringify(argv.slice(1))}\n`);
      return 0;
    }
    if (argv[0] === "fail") return Number(argv[1] ?? 1);
    if (argv[0] === "env") {
      io.stdout(`${env[argv[1]!] ?? ""}\n`);
      return 0;
    }
    io.stderr(`sh: ${line}: ${argv[0]}: not found\n`);
    return 127;
  };
  const host: ShellHost = {
    pid: 4242,
    signal: new AbortController().signal,
    run: (argv, env, io, line) => Promise.resolve(exec(argv, env, io, line)),
    resolve: (n) => (n === "argv" ? "/usr/bin/argv" : undefined),
    stat: (p) => (files[p] !== undefined ? "file" : p === "/" || p === "/tmp" ? "dir" : undefined),
    readFile: (p) => files[p],
    writeFile: (p, c, append) => {
      files[p] = append ? (files[p] ?? "") + c : c;
      return true;
    },
  };
  return { host, runs };
}

async function sh(
  script: string,
  files: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const { host } = machine(files);
  let out = "";
  let err = "";
  const io: ShellIo = { stdin: "", stdout: (t) => (out += t), stderr: (t) => (err += t) };
  const code = await new ShellInterpreter(host).runString(script, io);
  return { code, out, err };
}

describe("shell subset (contract 2)", () => {
  it("gives back exactly the argv that quoteArgv quoted, for any argv", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "binary" }).filter((s) => !s.includes("\0")),
          { minLength: 1, maxLength: 6 },
        ),
        async (args) => {
          const { out, code } = await sh(quoteArgv(["argv", ...args]));
          expect(code).toBe(0);
          expect(JSON.parse(out)).toEqual(args);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("runs sequences and and-or lists with $? as dash does", async () => {
    expect((await sh("fail 3; echo $?")).out).toBe("3\n");
    expect((await sh("fail && echo no || echo yes")).out).toBe("yes\n");
    expect((await sh('true && fail 4 || echo "got $?"')).out).toBe("got 4\n");
    expect((await sh("! fail; echo $?")).out).toBe("0\n");
    expect((await sh("fail 5")).code).toBe(5);
  });

  it("applies env prefixes to one command only and keeps shell assignments", async () => {
    expect((await sh("DEBIAN_FRONTEND=noninteractive env DEBIAN_FRONTEND; env DEBIAN_FRONTEND")).out).toBe(
      "noninteractive\n\n",
    );
    expect((await sh("X='a b'; argv $X \"$X\"")).out).toBe('["a","b","a b"]\n');
  });

  it("redirects 2>&1, >/dev/null and files in order", async () => {
    expect((await sh("nosuch 2>&1")).out).toBe("sh: 1: nosuch: not found\n");
    expect((await sh("nosuch 2>/dev/null")).err).toBe("");
    const files: Record<string, string> = {};
    await sh("echo one > /tmp/f; echo two >> /tmp/f", files);
    expect(files["/tmp/f"]).toBe("one\ntwo\n");
    expect((await sh("[ -e /tmp/f ] && echo yes", files)).out).toBe("yes\n");
    expect((await sh("test -s /tmp/missing; echo $?", files)).out).toBe("1\n");
  });

  it("rejects what it does not implement with exit 2 and a syntax error", async () => {
    for (const bad of [
      "echo $(id)",
      "echo `id`",
      "sleep 1 &",
      "if true; then echo; fi",
      "(echo)",
      "echo 'open",
      "&& echo",
      "cat <<EOF",
    ]) {
      const r = await sh(bad);
      expect(r.code, bad).toBe(2);
      expect(r.err, bad).toMatch(/^sh: syntax error/);
    }
    expect(() => parseScript("echo a; echo b\necho c")).not.toThrow();
  });

  it("stops at exit and honours set -e but not on the left of ||", async () => {
    expect(await sh("echo a; exit 7; echo b")).toMatchObject({ code: 7, out: "a\n" });
    expect(await sh("set -e; fail || echo ok; fail 3; echo unreachable")).toMatchObject({
      code: 3,
      out: "ok\n",
    });
    const r = await sh("set -o pipefail");
    expect(r.code).toBe(2);
    expect(r.err).toBe("sh: 1: set: Illegal option -o pipefail\n");
  });
});
