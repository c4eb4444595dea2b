import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TerminalError, RetryableError } from "../../src/errors.js";
import { createLogger } from "../../src/log/logger.js";
import {
  Secret,
  SecretReason,
  describeSecretSource,
  redact,
  resolveSecret,
  secretResolver,
  type KubeSecretReader,
} from "../../src/secrets/index.js";

const VALUE = "s3cr3t-t0ken-value";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "refit-secrets-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error("expected a rejection");
}

describe("resolveSecret from a file", () => {
  it("reads the file and trims exactly one trailing newline", async () => {
    await writeFile(join(dir, "one"), `${VALUE}\n`);
    await writeFile(join(dir, "crlf"), `${VALUE}\r\n`);
    await writeFile(join(dir, "two"), `${VALUE}\n\n`);
    await writeFile(join(dir, "none"), VALUE);
    expect((await resolveSecret({ file: join(dir, "one") })).reveal()).toBe(VALUE);
    expect((await resolveSecret({ file: join(dir, "crlf") })).reveal()).toBe(VALUE);
    expect((await resolveSecret({ file: join(dir, "two") })).reveal()).toBe(`${VALUE}\n`);
    expect((await resolveSecret({ file: join(dir, "none") })).reveal()).toBe(VALUE);
  });

  it("keeps inner newlines and surrounding spaces (multi-line keys, tokens with spaces)", async () => {
    await writeFile(join(dir, "multi"), "line1\nline2 \n");
    expect((await resolveSecret({ file: join(dir, "multi") })).reveal()).toBe("line1\nline2 ");
  });

  it("reads a relative path from the base directory", async () => {
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "sub", "rel"), "relative\n");
    expect((await resolveSecret({ file: "sub/rel" }, { baseDir: dir })).reveal()).toBe("relative");
  });

  it("a missing file is terminal and its message names the full path", async () => {
    const err = await rejection(resolveSecret({ file: "nope/missing" }, { baseDir: dir }));
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).reason).toBe(SecretReason.FileMissing);
    expect(err.message).toContain(join(dir, "nope/missing"));
    expect(err.message).toMatch(/does not exist/);
  });

  it("a directory or an empty file is refused with a message naming the path", async () => {
    const dirErr = await rejection(resolveSecret({ file: dir }));
    expect((dirErr as TerminalError).reason).toBe(SecretReason.FileUnreadable);
    expect(dirErr.message).toContain(dir);

    await writeFile(join(dir, "empty"), "\n");
    const emptyErr = await rejection(resolveSecret({ file: join(dir, "empty") }));
    expect((emptyErr as TerminalError).reason).toBe(SecretReason.Empty);
    expect(emptyErr.message).toContain(join(dir, "empty"));
  });

  it("an unreadable file names the path and not the content", async () => {
    if (process.getuid?.() === 0) {
      // root reads mode-000 files; a file too large to be a secret exercises the same path instead.
      await writeFile(join(dir, "big"), `${VALUE}${"x".repeat(70 * 1024)}`);
      const err = await rejection(resolveSecret({ file: join(dir, "big") }));
      expect((err as TerminalError).reason).toBe(SecretReason.FileUnreadable);
      expect(err.message).toContain(join(dir, "big"));
      expect(err.message).not.toContain(VALUE);
      return;
    }
    await writeFile(join(dir, "locked"), VALUE, { mode: 0o000 });
    const err = await rejection(resolveSecret({ file: join(dir, "locked") }));
    expect((err as TerminalError).reason).toBe(SecretReason.FileUnreadable);
    expect(err.message).toContain(join(dir, "locked"));
    expect(err.message).not.toContain(VALUE);
  });
});

describe("resolveSecret from the environment", () => {
  it("reads the named variable from the given environment", async () => {
    const secret = await resolveSecret({ env: "HOOK_URL" }, { env: { HOOK_URL: VALUE } });
    expect(secret.reveal()).toBe(VALUE);
  });

  it("defaults to process.env", async () => {
    process.env.REFIT_TEST_SECRET_VAR = VALUE;
    try {
      expect((await resolveSecret({ env: "REFIT_TEST_SECRET_VAR" })).reveal()).toBe(VALUE);
    } finally {
      delete process.env.REFIT_TEST_SECRET_VAR;
    }
  });

  it("an unset variable is terminal and its message names the variable", async () => {
    const err = await rejection(resolveSecret({ env: "NOT_SET_ANYWHERE" }, { env: { OTHER: VALUE } }));
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).reason).toBe(SecretReason.EnvMissing);
    expect(err.message).toContain("NOT_SET_ANYWHERE");
    expect(err.message).not.toContain(VALUE);
  });

  it("an empty variable is refused", async () => {
    const err = await rejection(resolveSecret({ env: "EMPTY" }, { env: { EMPTY: "" } }));
    expect((err as TerminalError).reason).toBe(SecretReason.Empty);
    expect(err.message).toContain("EMPTY");
  });
});

describe("resolveSecret from a Kubernetes Secret", () => {
  const ref = { secretKeyRef: { name: "hooks", key: "url" } };

  it("without Kubernetes mode it says to use file or env", async () => {
    const err = await rejection(resolveSecret(ref));
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).reason).toBe(SecretReason.KeyRefUnsupported);
    expect(err.message).toContain("secretKeyRef needs Kubernetes mode; use file or env");
  });

  it("asks the reader with the reference's namespace, else the object's, else default", async () => {
    const asked: string[] = [];
    const reader: KubeSecretReader = (ns, name, key) => {
      asked.push(`${ns}/${name}/${key}`);
      return Promise.resolve(VALUE);
    };
    expect((await resolveSecret(ref, { kubeSecretReader: reader, namespace: "refit" })).reveal()).toBe(VALUE);
    await resolveSecret(
      { secretKeyRef: { name: "hooks", key: "url", namespace: "ops" } },
      { kubeSecretReader: reader, namespace: "refit" },
    );
    await resolveSecret(ref, { kubeSecretReader: reader });
    expect(asked).toEqual(["refit/hooks/url", "ops/hooks/url", "default/hooks/url"]);
  });

  it("a missing key is terminal; a failing API is retryable; neither leaks a value", async () => {
    const missing = await rejection(
      resolveSecret(ref, { kubeSecretReader: () => Promise.resolve(undefined), namespace: "refit" }),
    );
    expect(missing).toBeInstanceOf(TerminalError);
    expect((missing as TerminalError).reason).toBe(SecretReason.KeyMissing);
    expect(missing.message).toContain("refit/hooks");
    expect(missing.message).toContain("url");

    const down = await rejection(
      resolveSecret(ref, { kubeSecretReader: () => Promise.reject(new Error("connection refused")) }),
    );
    expect(down).toBeInstanceOf(RetryableError);
    expect(down.message).toContain("connection refused");
  });
});

describe("secretResolver and describeSecretSource", () => {
  it("binds a context once", async () => {
    const resolve = secretResolver({ env: { A: "alpha" } });
    expect((await resolve({ env: "A" })).reveal()).toBe("alpha");
  });

  it("describes each source without a value", () => {
    expect(describeSecretSource({ file: "x" }, { baseDir: "/etc/refit" })).toBe("file /etc/refit/x");
    expect(describeSecretSource({ env: "TOKEN" })).toBe("environment variable TOKEN");
    expect(describeSecretSource({ secretKeyRef: { name: "s", key: "k" } }, { namespace: "n" })).toBe(
      "key k of Secret n/s",
    );
  });
});

describe("Secret never prints its value", () => {
  const secret = new Secret(VALUE);

  it("String(), template literals, concatenation and toString()", () => {
    expect(String(secret)).toBe("[redacted]");
    // The accidental uses the lint rules exist to catch are exactly what this test exercises.
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
    expect(`${secret}`).toBe("[redacted]");
    // eslint-disable-next-line @typescript-eslint/restrict-plus-operands
    expect("x" + secret).toBe("x[redacted]");
    expect(secret.toString()).toBe("[redacted]");
  });

  it("JSON.stringify, alone and nested", () => {
    expect(JSON.stringify(secret)).toBe('"[redacted]"');
    const text = JSON.stringify({ channel: { url: secret, list: [secret] } });
    expect(text).not.toContain(VALUE);
    expect(text).toContain("[redacted]");
  });

  it("util.inspect and console-style formatting, alone and nested", () => {
    expect(inspect(secret)).toBe("[redacted]");
    expect(inspect({ deep: { deeper: { secret } } }, { depth: 10 })).not.toContain(VALUE);
    expect(inspect(secret, { showHidden: true })).not.toContain(VALUE);
  });

  it("a pino log line of an object holding one", () => {
    const lines: string[] = [];
    const log = createLogger({ pretty: false, destination: { write: (s: string) => void lines.push(s) } });
    log.info({ notifier: { credential: secret } }, "delivering");
    expect(lines.join("")).toContain("[redacted]");
    expect(lines.join("")).not.toContain(VALUE);
  });

  it("own keys do not expose it", () => {
    expect(Object.keys(secret)).toEqual([]);
    expect(JSON.stringify(Object.entries(secret))).not.toContain(VALUE);
  });

  it("reveal() gives the value", () => {
    expect(secret.reveal()).toBe(VALUE);
  });
});

describe("redact", () => {
  it("replaces every occurrence of every secret, strings or Secrets", () => {
    const text = `token=${VALUE} again ${VALUE} and other-one`;
    expect(redact(text, [new Secret(VALUE), "other-one"])).toBe(
      "token=[redacted] again [redacted] and [redacted]",
    );
  });

  it("replaces the longer secret first when one contains another", () => {
    expect(redact("abcdef-123456", ["abcdef", "abcdef-123456"])).toBe("[redacted]");
  });

  it("leaves text without secrets untouched and ignores empty or missing secrets", () => {
    expect(redact("nothing here", ["", undefined, "absent"])).toBe("nothing here");
  });

  it("treats secret text literally, not as a pattern", () => {
    expect(redact("a.b*c and axbxc", ["a.b*c"])).toBe("[redacted] and axbxc");
  });

  it("catches a URL secret's percent-encoded form and its path and query echoed alone", () => {
    const url = "https://hooks.example.com/services/T000/B000/XXXXSECRET?token=qwerty123";
    const echoed = [
      `POST ${url} failed`,
      `url=${encodeURIComponent(url)}`,
      `no route for /services/T000/B000/XXXXSECRET?token=qwerty123`,
      `bad token qwerty123`,
    ].join("\n");
    const out = redact(echoed, [new Secret(url)]);
    expect(out).not.toContain("XXXXSECRET");
    expect(out).not.toContain("qwerty123");
    expect(out).toContain("[redacted]");
  });

  it("catches a password in a URL's userinfo", () => {
    const out = redact("auth failed for hunter22pw", ["https://user:hunter22pw@example.com/"]);
    expect(out).toBe("auth failed for [redacted]");
  });
});
