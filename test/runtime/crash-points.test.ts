/**
 * The crash-point test hook: parsing REFIT_CRASH_AT, counting, the count file, inert when unset, and
 * (in a real child process) that the process dies by SIGKILL right after its Nth durable write or
 * right before its Nth remote action, with no cleanup run.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  afterDurableWrite,
  beforeRemoteAction,
  CRASH_AT_ENV,
  CRASH_COUNT_FILE_ENV,
  CrashPointConfigError,
  CrashPoints,
  parseCrashAt,
} from "../../controller/runtime/crash-points.js";

const CHILD = join(import.meta.dirname, "..", "support", "crash-points-child.ts");
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "refit-crash-unit-"));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string[];
  stderr: string;
}

function runChild(args: string[], env: Record<string, string | undefined>): Promise<ChildEnd> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, [CRASH_AT_ENV]: undefined, [CRASH_COUNT_FILE_ENV]: undefined, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", fail);
    child.once("close", (code, signal) =>
      done({ code, signal, stdout: out.split("\n").filter(Boolean), stderr: err }),
    );
  });
}

describe("parseCrashAt", () => {
  it("reads write:N and action:N", () => {
    expect(parseCrashAt("write:17")).toEqual({ kind: "write", n: 17 });
    expect(parseCrashAt("action:3")).toEqual({ kind: "action", n: 3 });
    expect(parseCrashAt(" write:1 ")).toEqual({ kind: "write", n: 1 });
  });

  it("treats unset and empty as no crash point", () => {
    expect(parseCrashAt(undefined)).toBeUndefined();
    expect(parseCrashAt("")).toBeUndefined();
    expect(parseCrashAt("   ")).toBeUndefined();
  });

  it.each([
    "write",
    "write:",
    "write:0",
    "write:-1",
    "write:1.5",
    "write:07",
    "write:3x",
    "read:3",
    "WRITE:3",
    "write: 3",
    "write:3,action:2",
    "write:99999999999999999999",
  ])("rejects %j with a message naming the variable and the form", (bad) => {
    expect(() => parseCrashAt(bad)).toThrow(CrashPointConfigError);
    expect(() => parseCrashAt(bad)).toThrow(
      /REFIT_CRASH_AT=.* is not a crash point: expected write:N or action:N/,
    );
  });
});

describe("CrashPoints", () => {
  it("is absent (both hooks inert) when neither variable is set", () => {
    expect(CrashPoints.fromEnv({})).toBeUndefined();
    expect(CrashPoints.fromEnv({ [CRASH_AT_ENV]: "", [CRASH_COUNT_FILE_ENV]: "" })).toBeUndefined();
  });

  it("refuses a malformed REFIT_CRASH_AT and a blank count file", () => {
    expect(() => CrashPoints.fromEnv({ [CRASH_AT_ENV]: "write:zero" })).toThrow(CrashPointConfigError);
    expect(() => CrashPoints.fromEnv({ [CRASH_COUNT_FILE_ENV]: "  " })).toThrow(
      /REFIT_CRASH_COUNT_FILE is blank/,
    );
  });

  it("counts writes and actions apart and dies exactly at the Nth write", () => {
    const died: string[] = [];
    const cp = new CrashPoints({ kind: "write", n: 3 }, undefined, () =>
      died.push(JSON.stringify(cp.snapshot())),
    );
    cp.afterDurableWrite("w1");
    cp.beforeRemoteAction("a1");
    cp.beforeRemoteAction("a2");
    cp.beforeRemoteAction("a3");
    cp.afterDurableWrite("w2");
    expect(died).toEqual([]);
    cp.afterDurableWrite("w3");
    expect(died).toEqual([JSON.stringify({ writes: 3, actions: 3, lastWrite: "w3", lastAction: "a3" })]);
    cp.afterDurableWrite("w4");
    expect(died).toHaveLength(1);
  });

  it("dies exactly at the Nth action", () => {
    let diedAt: unknown;
    const cp = new CrashPoints({ kind: "action", n: 2 }, undefined, () => (diedAt = cp.snapshot()));
    for (let i = 1; i <= 5; i++) cp.afterDurableWrite(`w${i}`);
    expect(diedAt).toBeUndefined();
    cp.beforeRemoteAction("reboot pve1");
    expect(diedAt).toBeUndefined();
    cp.beforeRemoteAction("migrate 100 pve1->pve2");
    expect(diedAt).toMatchObject({ writes: 5, actions: 2, lastAction: "migrate 100 pve1->pve2" });
  });

  it("writes the counters to the count file after every increment, through a rename", () => {
    const dir = tempDir();
    const file = join(dir, "counts.json");
    const cp = new CrashPoints(undefined, file, () => {
      throw new Error("must not die without a crash point");
    });
    expect(existsSync(file)).toBe(false);
    cp.afterDurableWrite("objects/HostPatch/_/pve1.json");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      writes: 1,
      actions: 0,
      lastWrite: "objects/HostPatch/_/pve1.json",
    });
    cp.beforeRemoteAction("reboot pve1");
    cp.afterDurableWrite("two");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      writes: 2,
      actions: 1,
      lastWrite: "two",
      lastAction: "reboot pve1",
    });
    // Only the file itself: the temporary file was renamed over it, never left behind.
    expect(readdirSync(dir)).toEqual(["counts.json"]);
  });

  it("costs next to nothing when unset (this process has neither variable)", () => {
    expect(process.env[CRASH_AT_ENV] ?? "").toBe("");
    const t0 = performance.now();
    for (let i = 0; i < 1_000_000; i++) {
      afterDurableWrite("x");
      beforeRemoteAction("y");
    }
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe("the crash itself, in a child process", () => {
  it("dies by SIGKILL right after the Nth durable write: that write is on disk, nothing after it ran", async () => {
    const dir = tempDir();
    const counts = join(tempDir(), "counts.json");
    const end = await runChild([dir, "5", "2"], {
      [CRASH_AT_ENV]: "write:3",
      [CRASH_COUNT_FILE_ENV]: counts,
    });
    expect(end.signal, end.stderr).toBe("SIGKILL");
    // The third write returned to nobody: the process died inside it, after it was durable.
    expect(end.stdout).toEqual(["wrote 1", "wrote 2"]);
    expect(readdirSync(dir).sort()).toEqual(["file-1.json", "file-2.json", "file-3.json"]);
    expect(JSON.parse(readFileSync(join(dir, "file-3.json"), "utf8"))).toEqual({ i: 3 });
    expect(JSON.parse(readFileSync(counts, "utf8"))).toEqual({
      writes: 3,
      actions: 0,
      lastWrite: `write ${join(dir, "file-3.json")}`,
    });
  });

  it("dies by SIGKILL right before the Nth remote action", async () => {
    const dir = tempDir();
    const end = await runChild([dir, "2", "4"], { [CRASH_AT_ENV]: "action:2" });
    expect(end.signal, end.stderr).toBe("SIGKILL");
    expect(end.stdout).toEqual(["wrote 1", "wrote 2", "acted 1"]);
  });

  it("runs to the end, with its exit handler, when N is never reached; the count file has the totals", async () => {
    const dir = tempDir();
    const counts = join(tempDir(), "counts.json");
    const end = await runChild([dir, "2", "1"], {
      [CRASH_AT_ENV]: "write:9",
      [CRASH_COUNT_FILE_ENV]: counts,
    });
    expect({ code: end.code, signal: end.signal }, end.stderr).toEqual({ code: 0, signal: null });
    expect(end.stdout).toEqual(["wrote 1", "wrote 2", "acted 1", "cleanup"]);
    expect(JSON.parse(readFileSync(counts, "utf8"))).toMatchObject({ writes: 2, actions: 1 });
  });

  it("is inert when unset: no crash, no count file", async () => {
    const dir = tempDir();
    const end = await runChild([dir, "3", "3"], {});
    expect({ code: end.code, signal: end.signal }, end.stderr).toEqual({ code: 0, signal: null });
    expect(end.stdout).toEqual(["wrote 1", "wrote 2", "wrote 3", "acted 1", "acted 2", "acted 3", "cleanup"]);
    expect(readdirSync(dir).sort()).toEqual(["file-1.json", "file-2.json", "file-3.json"]);
  });

  it("refuses to start with a malformed REFIT_CRASH_AT, saying what is wrong, before any write", async () => {
    const dir = tempDir();
    const end = await runChild([dir, "3", "0"], { [CRASH_AT_ENV]: "write:three" });
    expect(end.signal).toBeNull();
    expect(end.code).not.toBe(0);
    expect(end.stderr).toContain('CrashPointConfigError: REFIT_CRASH_AT="write:three" is not a crash point');
    expect(readdirSync(dir)).toEqual([]);
  });
});
