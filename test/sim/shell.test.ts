import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quoteArgv } from "../../src/ssh/quote.js";
import { ShellInterpreter, type ShellFlavour } from "../../src/sim/shell/interpreter.js";
import { parseScript } from "../../src/sim/shell/parser.js";
import type { ShellHost, ShellIo } from "../../src/sim/shell/types.js";

/**
 * A machine whose only programs are `argv` (prints its arguments as JSON), `fail [n]`, `env NAME`
 * and `cat` (copies its standard input).
 */
function machine(files: Record<string, string> = {}): { host: ShellHost; runs: string[][] } {
  const runs: string[][] = [];
  const exec = (argv: string[], env: Record<string, string>, io: ShellIo, line: number): number => {
    runs.push(argv);
    if (argv[0] === "argv") {
      io.stdout(`${JSON.stringify(argv.slice(1))}\n`);
      return 0;
    }
    if (argv[0] === "fail") return Number(argv[1] ?? 1);
    if (argv[0] === "cat") {
      io.stdout(io.stdin);
      return 0;
    }
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
  flavour: ShellFlavour = "dash",
): Promise<{ code: number; out: string; err: string }> {
  const { host } = machine(files);
  let out = "";
  let err = "";
  const io: ShellIo = { stdin: "", stdout: (t) => (out += t), stderr: (t) => (err += t) };
  const code = await new ShellInterpreter(host, {}, ["sh"], flavour).runString(script, io);
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
      "sleep 1 &",
      "echo 'open",
      "&& echo",
      "echo a;; echo b",
      "case x in x) echo",
      "[[ -n x ]]",
      "if true; then fi",
      "if true; then echo",
      "for x in a b; echo $x; done",
      "while true; do done",
      "echo $(echo",
      "echo `echo",
      "fi",
      "{ echo }",
      "cat <<<word",
      "cat <<",
      "f() echo",
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

describe("shell: the constructs admins' scripts use", () => {
  it("substitutes commands with $( ) and backticks, dropping trailing newlines, splitting when unquoted", async () => {
    expect((await sh('x=$(echo hi); echo "[$x]"')).out).toBe("[hi]\n");
    expect((await sh("argv $(printf 'a b\\n\\n')")).out).toBe('["a","b"]\n');
    expect((await sh("argv \"$(printf 'a b\\n\\n')\"")).out).toBe('["a b"]\n');
    expect((await sh("echo `echo back`ticks")).out).toBe("backticks\n");
    expect((await sh('echo "$(echo "$(echo nested)")"')).out).toBe("nested\n");
    expect((await sh("echo $(echo ')'; echo \"(\")")).out).toBe(") (\n");
    // The status of an assignment-only command is that of its last substitution.
    expect((await sh("x=$(fail 3); echo $?")).out).toBe("3\n");
    // A substitution is a subshell: what it assigns or exits stays there.
    expect((await sh('y=1; z=$(y=2; exit 4); echo "$y $?"')).out).toBe("1 4\n");
  });

  it("evaluates $(( )) and ${x:-…} forms", async () => {
    expect((await sh("i=3; echo $((i + 1)) $(( (2+3)*4 % 7 )) $((i > 2 && 1))")).out).toBe("4 6 1\n");
    expect((await sh("i=0; i=$((i+1)); i=$((i+1)); echo $i")).out).toBe("2\n");
    expect(
      (await sh("echo ${UNSET:-dflt} ${UNSET-d2} ${#HOME}; echo ${V:=set}; echo $V ${V:+alt}")).out,
    ).toBe("dflt d2 5\nset\nset alt\n");
    const r = await sh("echo $((1/0))");
    expect(r.code).toBe(2);
    expect(r.err).toContain("division by zero");
    const q = await sh('echo ${NODE:?"no node given"}; echo unreachable');
    expect(q).toMatchObject({ code: 2, out: "", err: "sh: 1: NODE: no node given\n" });
  });

  it("runs if/elif/else/fi on exit statuses", async () => {
    const script = (v: string): string =>
      `v=${v}\nif [ "$v" = a ]; then\n  echo A\nelif [ "$v" = b ]\nthen echo B\nelse\n  echo other\nfi`;
    expect((await sh(script("a"))).out).toBe("A\n");
    expect((await sh(script("b"))).out).toBe("B\n");
    expect((await sh(script("c"))).out).toBe("other\n");
    expect((await sh("if fail 3; then echo no; fi; echo $?")).out).toBe("0\n");
    expect((await sh("if ! fail; then echo negated; fi")).out).toBe("negated\n");
  });

  it("loops with for, while and until, with break and continue", async () => {
    expect((await sh("for n in pve1 pve2 pve3; do echo node $n; done")).out).toBe(
      "node pve1\nnode pve2\nnode pve3\n",
    );
    expect((await sh('L="a b c"; for x in $L; do [ $x = b ] && continue; echo $x; done')).out).toBe("a\nc\n");
    expect(
      (await sh("for x in 1 2 3; do for y in a b; do [ $x = 2 ] && break 2; echo $x$y; done; done")).out,
    ).toBe("1a\n1b\n");
    expect((await sh("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done")).out).toBe("0\n1\n2\n");
    expect((await sh("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i")).out).toBe("2\n");
    expect((await sh("for x in; do echo never; done; echo $?")).out).toBe("0\n");
  });

  it("reads lines with read in a while loop fed by a pipe or a here-document", async () => {
    expect(
      (await sh("printf 'pve1 online\\npve2 offline\\n' | while read -r n s; do echo \"$s:$n\"; done")).out,
    ).toBe("online:pve1\noffline:pve2\n");
    expect(
      (await sh('while read a b; do echo "<$a|$b>"; done <<EOF\none two three\nfour\nEOF\necho after')).out,
    ).toBe("<one|two three>\n<four|>\nafter\n");
    expect((await sh("read x <<EOF\nEOF\necho $?")).out).toBe("1\n");
  });

  it("expands here-documents unless the delimiter is quoted, and strips tabs with <<-", async () => {
    expect((await sh("N=pve1\ncat <<EOF\nnode $N: $(echo up) \\$HOME\nEOF")).out).toBe(
      "node pve1: up $HOME\n",
    );
    expect((await sh("cat <<'EOF'\nnode $N\nEOF")).out).toBe("node $N\n");
    expect((await sh("cat <<-END\n\tindented\n\tEND\necho done")).out).toBe("indented\ndone\n");
    expect((await sh("cat <<A; cat <<B\n1\nA\n2\nB")).out).toBe("1\n2\n");
  });

  it("knows commands with command -v, type and hash", async () => {
    expect(await sh("command -v argv")).toMatchObject({ code: 0, out: "/usr/bin/argv\n" });
    expect(await sh("command -v nosuch")).toMatchObject({ code: 1, out: "", err: "" });
    expect((await sh("command -v echo; command -v if; f() { :; }; command -v f")).out).toBe("echo\nif\nf\n");
    expect(await sh("hash argv && echo ok")).toMatchObject({ code: 0, out: "ok\n" });
    expect(await sh("hash nosuch")).toMatchObject({ code: 1, err: "sh: 1: hash: nosuch: not found\n" });
    expect(await sh("hash argv nosuch 2>/dev/null || echo missing")).toMatchObject({ out: "missing\n" });
    expect((await sh("hash argv; hash")).out).toBe("/usr/bin/argv\n");
    expect(await sh("type argv echo nosuch")).toMatchObject({
      code: 127,
      out: "argv is /usr/bin/argv\necho is a shell builtin\nnosuch: not found\n",
    });
  });

  it("exec runs a command in place of the shell, or redirects the shell itself", async () => {
    expect(await sh("exec fail 6; echo unreachable")).toMatchObject({ code: 6, out: "" });
    expect(await sh("exec echo replaced; echo unreachable")).toMatchObject({ code: 0, out: "replaced\n" });
    const files: Record<string, string> = {};
    const r = await sh("echo before; exec >/tmp/log 2>&1; echo after; nosuch; echo $?", files);
    expect(r.out).toBe("before\n");
    expect(files["/tmp/log"]).toBe("after\nsh: 1: nosuch: not found\n127\n");
    expect((await sh("exec 2>&1; nosuch")).out).toBe("sh: 1: nosuch: not found\n");
  });

  it("defines functions with positional parameters, local and return", async () => {
    const script = [
      'log() { echo "[$1] $2"; }',
      "count() {",
      "  local n=0",
      '  for _ in "$@"; do n=$((n+1)); done',
      "  return $n",
      "}",
      'log info "two words"',
      "count a b 'c d'; echo $? $#",
      "n=outer; f() { local n=inner; echo $n; }; f; echo $n",
    ].join("\n");
    expect((await sh(script)).out).toBe("[info] two words\n3 0\ninner\nouter\n");
  });

  it("groups with { } and ( ): a subshell's changes stay inside", async () => {
    expect((await sh("{ echo a; echo b; } > /tmp/g; cat_missing=1; echo $cat_missing")).out).toBe("1\n");
    const files: Record<string, string> = {};
    await sh("{ echo a; echo b; } > /tmp/g", files);
    expect(files["/tmp/g"]).toBe("a\nb\n");
    expect((await sh("x=1; (x=2; echo $x); echo $x")).out).toBe("2\n1\n");
    expect((await sh("(exit 3); echo $?")).out).toBe("3\n");
  });

  it("pipes between builtins, functions and compound commands", async () => {
    expect((await sh("f() { echo from-f; }; f | while read l; do echo got $l; done")).out).toBe(
      "got from-f\n",
    );
    expect((await sh("echo x | fail 2; echo $?")).out).toBe("2\n");
    // Each stage is a subshell: an assignment in a pipeline does not survive it.
    expect((await sh("v=1; echo 2 | read v; echo $v")).out).toBe("1\n");
  });

  it("set -e: exits on a failing command but not in conditions, and inside functions called from them", async () => {
    expect(
      await sh("set -e; if fail; then :; fi; while fail; do :; done; ! fail; fail || true; echo alive"),
    ).toMatchObject({
      code: 0,
      out: "alive\n",
    });
    expect(await sh("set -e\nfor x in a b; do echo $x; fail 4; done\necho unreachable")).toMatchObject({
      code: 4,
      out: "a\n",
    });
    expect(await sh("set -e; out=$(fail 5); echo unreachable")).toMatchObject({ code: 5, out: "" });
    expect(await sh("set -e; f() { fail 7; echo in-f; }; f || echo caught")).toMatchObject({ out: "in-f\n" });
    expect(await sh("set -eu; echo $-; set +e; fail; echo still")).toMatchObject({ out: "eu\nstill\n" });
    expect(await sh("set -e; true && fail 3; echo unreachable")).toMatchObject({ code: 3, out: "" });
  });

  it("runs the EXIT trap when the script ends and keeps the exit status", async () => {
    expect(await sh("trap 'echo cleanup' EXIT; echo work; exit 3")).toMatchObject({
      code: 3,
      out: "work\ncleanup\n",
    });
    expect(await sh("trap 'echo bye' 0; set -e; fail 2; echo no")).toMatchObject({ code: 2, out: "bye\n" });
  });

  it("expands ~, eval and printf widths", async () => {
    expect((await sh("echo ~ ~/x '~'")).out).toBe("/root /root/x ~\n");
    expect((await sh("cmd='echo evaluated'; eval \"$cmd\"")).out).toBe("evaluated\n");
    expect((await sh("printf '%-6s|%4s|%03d\\n' pve1 ok 7")).out).toBe("pve1  |  ok|007\n");
  });
});

describe("shell: pattern removal", () => {
  it("removes the shortest or longest matching prefix or suffix, quoted parts literally", async () => {
    const v = "v='pve-manager/8.4.1/abc (running kernel: 6.8)'";
    expect((await sh(`${v}; echo "\${v%% *}|\${v% *}|\${v#*/}|\${v##*/}"`)).out).toBe(
      "pve-manager/8.4.1/abc|pve-manager/8.4.1/abc (running kernel:|8.4.1/abc (running kernel: 6.8)|abc (running kernel: 6.8)\n",
    );
    expect((await sh(`e='"node":"pve1"'; n=\${e#*:}; n=\${n#\\"}; echo "\${n%\\"}"`)).out).toBe("pve1\n");
    expect((await sh(`f=a.tar.gz; echo \${f%.*} \${f%%.*} \${f#"a."} \${f%[xz]}`)).out).toBe(
      "a.tar a tar.gz a.tar.g\n",
    );
  });
});

describe("shell: set -u and bash's pipefail", () => {
  it("set -u: expanding an unset parameter ends the script; defaults and $# do not", async () => {
    expect(await sh("set -u; echo ${UNSET:-ok} $#; echo $UNSET; echo unreachable")).toMatchObject({
      code: 2,
      out: "ok 0\n",
      err: "sh: 1: UNSET: parameter not set\n",
    });
    expect((await sh("set -u; X=1; echo $X; set +u; echo [$Y]")).out).toBe("1\n[]\n");
  });

  it("set -o pipefail is bash's: a pipeline fails with its last failing stage; dash refuses it", async () => {
    expect(await sh("set -o pipefail; fail 3 | echo x; echo $?", {}, "bash")).toMatchObject({
      out: "x\n3\n",
    });
    expect(await sh("fail 3 | echo x; echo $?", {}, "bash")).toMatchObject({ out: "x\n0\n" });
    expect(await sh("set -euo pipefail; fail 4 | argv; echo unreachable", {}, "bash")).toMatchObject({
      code: 4,
      out: "[]\n",
    });
    expect((await sh("set -euo pipefail")).err).toBe("sh: 1: set: Illegal option -o pipefail\n");
  });
});

describe("shell: bash's pattern substitution", () => {
  it("replaces the first or every match in bash; dash calls it a bad substitution", async () => {
    const s = `v='"pve1":"online"'; echo "\${v//\\"/}|\${v/\\"/}|\${v/#\\"pve/X}|\${v/%e\\"/E}|\${v//[0-9]/N}"`;
    expect((await sh(s, {}, "bash")).out).toBe(
      'pve1:online|pve1":"online"|X1":"online"|"pve1":"onlinE|"pveN":"online"\n',
    );
    expect(await sh(s)).toMatchObject({ code: 2, out: "", err: "sh: 1: Bad substitution\n" });
  });
});

describe("shell: case", () => {
  it("runs the first item whose pattern matches; quoted patterns are literal", async () => {
    const script = (v: string): string =>
      `s=${v}\ncase "$s" in\n  running) echo up ;;\n  stop*|dead) echo down ;;\n  "*") echo star ;;\n  *) echo "other: $s"\nesac`;
    expect((await sh(script("running"))).out).toBe("up\n");
    expect((await sh(script("stopped"))).out).toBe("down\n");
    expect((await sh(script("dead"))).out).toBe("down\n");
    expect((await sh(script("'*'"))).out).toBe("star\n");
    expect((await sh(script("failed"))).out).toBe("other: failed\n");
    expect((await sh("case x in (y) echo y;; esac; echo $?")).out).toBe("0\n");
    expect((await sh("case a.b in *.[bc]) echo ext;; esac")).out).toBe("ext\n");
  });
});
