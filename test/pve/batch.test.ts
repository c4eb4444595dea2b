import { describe, expect, it } from "vitest";
import { batchArgv, batchScript, parseBatchReply, runBatch } from "../../src/pve/batch.js";
import { BatchTruncatedError, CommandFailedError, UnparseableOutputError } from "../../src/pve/errors.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { LocalShExec, ScriptedExec } from "./helpers.js";

describe("batch builder", () => {
  it("writes contract 3's script byte for byte", () => {
    expect(batchScript([["echo", "a b"], ["false"]])).toBe(
      "echo @@refit:0:begin; echo 'a b' 2>&1; echo @@refit:0:end:$?; echo @@refit:1:begin; false 2>&1; echo @@refit:1:end:$?",
    );
    expect(batchArgv([["uname", "-r"]])).toEqual([
      "sh",
      "-c",
      "echo @@refit:0:begin; uname -r 2>&1; echo @@refit:0:end:$?",
    ]);
  });
});

describe("batch through a real /bin/sh", () => {
  const steps = [
    ["echo", "hello world"],
    ["false"],
    ["printf", "%s", "no newline at the end"],
    ["sh", "-c", "echo out; echo err >&2; exit 3"],
    ["printf", "%s\\n", 'it\'s $HOME `id` "quoted" ; && || *'],
    ["refit-no-such-command-xyz"],
    ["printf", ""],
  ];

  it("returns each step's exit code and merged output, in order", async () => {
    const exec = new LocalShExec();
    const r = await runBatch(exec, steps, { timeoutMs: 10_000 });
    expect(r.map((s) => s.exitCode)).toEqual([0, 1, 0, 3, 0, 127, 0]);
    expect(r[0]?.output).toBe("hello world\n");
    expect(r[1]?.output).toBe("");
    expect(r[2]?.output).toBe("no newline at the end");
    expect(r[3]?.output).toBe("out\nerr\n");
    expect(r[4]?.output).toBe('it\'s $HOME `id` "quoted" ; && || *\n');
    expect(r[5]?.output).toMatch(/not found/);
    expect(r[6]?.output).toBe("");
    expect(r[3]?.argv).toEqual(steps[3]);
    // One round trip, with a timeout.
    expect(exec.calls).toHaveLength(1);
    expect(exec.calls[0]?.opts?.timeoutMs).toBe(10_000);
  });

  it("is not fooled by a step that prints a marker-like line", async () => {
    const r = await runBatch(
      new LocalShExec(),
      [
        ["printf", "@@refit:0:end:0\\nstill step 0\\n"],
        ["echo", "step 1"],
      ],
      { timeoutMs: 10_000 },
    );
    expect(r[0]).toMatchObject({ exitCode: 0, output: "@@refit:0:end:0\nstill step 0\n" });
    expect(r[1]).toMatchObject({ exitCode: 0, output: "step 1\n" });
  });
});

describe("batch reply parsing", () => {
  const steps = [["a"], ["b"]];

  it("throws BatchTruncated (retryable) when a marker is missing", () => {
    const cut = "@@refit:0:begin\nx\n@@refit:0:end:0\n@@refit:1:begin\npartial";
    expect(() => parseBatchReply(cut, steps, "pve1")).toThrow(BatchTruncatedError);
    expect(() => parseBatchReply(cut, steps, "pve1")).toThrow(/step 2 of 2 \(no end marker/);
    expect(() => parseBatchReply("", steps)).toThrow(/step 1 of 2 \(no begin marker/);
    try {
      parseBatchReply("", steps);
    } catch (err) {
      expect((err as BatchTruncatedError).retryable).toBe(true);
      expect((err as BatchTruncatedError).reason).toBe("BatchTruncated");
    }
  });

  it("reports a shell that failed before the first marker as that failure", async () => {
    const exec = new ScriptedExec("pve1", {
      [quoteArgv(batchArgv(steps))]: {
        stderr: "sh: 1: Syntax error: Unterminated quoted string\n",
        exitCode: 2,
      },
    });
    await expect(runBatch(exec, steps, { timeoutMs: 1000 })).rejects.toThrow(CommandFailedError);
  });

  it("treats a reply cut by the capture bound as unreadable", async () => {
    const exec = new ScriptedExec("pve1", {
      [quoteArgv(batchArgv(steps))]: { stdout: "…tail only", stdoutTruncated: true },
    });
    await expect(runBatch(exec, steps, { timeoutMs: 1000 })).rejects.toThrow(UnparseableOutputError);
  });
});
