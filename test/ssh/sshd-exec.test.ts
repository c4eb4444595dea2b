/**
 * The pooled client against Debian's real OpenSSH sshd on loopback: exec results, stdin, bounded
 * output, timeouts, dropped connections, the channel cap and argv quoting end to end.
 */
import { mkdir, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { RetryableError } from "../../src/errors.js";
import { SshPool } from "../../src/ssh/pool.js";
import { SshReason } from "../../src/ssh/reasons.js";
import type { SshFixture } from "./fixture.js";
import { findProcesses, killProcesses, startFixture, waitUntil } from "./fixture.js";
import { shellArgArbitrary } from "./shell-args.js";

let f: SshFixture;

beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.dispose();
});

async function rejection(p: Promise<unknown>): Promise<RetryableError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RetryableError);
  return err as RetryableError;
}

function acceptedLogins(): number {
  return f.sshd.log.split("\n").filter((l) => l.includes("Accepted publickey for")).length;
}

describe("exec over a pooled connection", () => {
  it("returns the exit code, stdout and stderr of the remote command", async () => {
    const pool = new SshPool();
    try {
      const r = await pool
        .host(f.target())
        .exec(["sh", "-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 20_000 });
      expect(r).toMatchObject({ exitCode: 3, signal: null, stdout: "out\n", stderr: "err\n" });
      expect(r.stdoutTruncated).toBe(false);
    } finally {
      pool.close();
    }
  });

  it("reports a command ended by a signal as a signal, not an exit code", async () => {
    const pool = new SshPool();
    try {
      const r = await pool.host(f.target()).exec(["sh", "-c", "kill -TERM $$"], { timeoutMs: 20_000 });
      expect(r.exitCode).toBeNull();
      expect(r.signal).toBe("SIGTERM");
    } finally {
      pool.close();
    }
  });

  it("delivers stdin and closes it, and closes stdin when none is given", async () => {
    const pool = new SshPool();
    try {
      const h = pool.host(f.target());
      expect((await h.exec(["cat"], { stdin: "hello\nwörld\n", timeoutMs: 20_000 })).stdout).toBe(
        "hello\nwörld\n",
      );
      const big = Buffer.alloc(1024 * 1024, 0x61);
      expect((await h.exec(["wc", "-c"], { stdin: big, timeoutMs: 20_000 })).stdout.trim()).toBe(
        String(big.length),
      );
      // Without stdin, cat sees end-of-file at once instead of hanging until the timeout.
      expect(await h.exec(["cat"], { timeoutMs: 20_000 })).toMatchObject({ exitCode: 0, stdout: "" });
    } finally {
      pool.close();
    }
  });

  it("keeps only the tail of long output on each stream and says it was truncated", async () => {
    const pool = new SshPool();
    try {
      const h = pool.host(f.target());
      const out = await h.exec(["seq", "1", "200000"], { maxOutputBytes: 1000, timeoutMs: 20_000 });
      expect(out.exitCode).toBe(0);
      expect(out.stdoutTruncated).toBe(true);
      expect(Buffer.byteLength(out.stdout)).toBeLessThanOrEqual(1000);
      expect(out.stdout.endsWith("\n199999\n200000\n")).toBe(true);
      const err = await h.exec(["sh", "-c", "seq 1 200000 >&2"], { maxOutputBytes: 1000, timeoutMs: 20_000 });
      expect(err).toMatchObject({ stdout: "", stdoutTruncated: false, stderrTruncated: true });
      expect(err.stderr.endsWith("\n200000\n")).toBe(true);
    } finally {
      pool.close();
    }
  });

  it("passes every argv unchanged through the remote login shell (property)", async () => {
    const pool = new SshPool();
    try {
      const h = pool.host(f.target());
      await fc.assert(
        fc.asyncProperty(fc.array(shellArgArbitrary(), { maxLength: 8 }), async (args) => {
          const r = await h.exec(["sh", "-c", 'printf "%s\\0" "$@"', "sh", ...args], { timeoutMs: 20_000 });
          expect(r.exitCode).toBe(0);
          const expected = args.length === 0 ? "\0" : args.map((a) => `${a}\0`).join("");
          expect(r.stdout).toBe(expected);
        }),
        { numRuns: 150 },
      );
    } finally {
      pool.close();
    }
  });
});

/**
 * sshd delivers the SIGKILL Refit sends on timeout only for non-root users: root sessions have no
 * post-auth privilege separation and sshd refuses to signal them, keeping the session (and our
 * channel) until the process ends. The tests check whichever behaviour this user gets.
 */
const asRoot = process.getuid?.() === 0;
const SIGNAL_REFUSED = "session signalling requires privilege separation";

function signalRefusals(): number {
  return f.sshd.log.split("\n").filter((l) => l.includes(SIGNAL_REFUSED)).length;
}

describe("timeouts and aborts", () => {
  it("fails a command that outlives its timeout with CommandTimeout and keeps the connection usable", async () => {
    const clock = new ManualClock();
    const pool = new SshPool({ clock, stuckGraceMs: 10_000 });
    const sleeper = ["sleep", "30.4242"];
    const refusalsBefore = signalRefusals();
    try {
      const h = pool.host(f.target());
      const running = h.exec(sleeper, { timeoutMs: 500 });
      await waitUntil("the remote sleep runs", () => findProcesses(sleeper).length > 0);
      clock.advance(500);
      const err = await rejection(running);
      expect(err.reason).toBe(SshReason.CommandTimeout);
      expect(err.message).toContain("sleep");
      if (asRoot) {
        await waitUntil("sshd answers the signal request", () => signalRefusals() > refusalsBefore);
        // sshd still counts the session, so the slot stays taken.
        expect(pool.stats().channelsInUse).toBe(1);
      } else {
        await waitUntil("the timed-out process is gone", () => findProcesses(sleeper).length === 0);
        await waitUntil("the channel is given back", () => pool.stats().channelsInUse === 0);
      }
      expect((await h.exec(["echo", "still here"], { timeoutMs: 500 })).stdout).toBe("still here\n");
      expect(pool.stats()).toMatchObject({ connectionsOpened: 1, commandsTimedOut: 1, connectionsLost: 0 });
    } finally {
      pool.close();
      killProcesses(sleeper);
    }
  });

  it.runIf(asRoot)(
    "gives back the slot of a channel that never closes and moves new commands to a fresh connection",
    async () => {
      const clock = new ManualClock();
      const pool = new SshPool({ clock, stuckGraceMs: 10_000 });
      const sleeper = ["sleep", "30.4343"];
      try {
        const h = pool.host(f.target());
        const running = h.exec(sleeper, { timeoutMs: 500 });
        await waitUntil("the remote sleep runs", () => findProcesses(sleeper).length > 0);
        clock.advance(500);
        expect((await rejection(running)).reason).toBe(SshReason.CommandTimeout);
        expect(pool.stats().channelsInUse).toBe(1);
        clock.advance(10_000);
        await waitUntil("the stuck channel's slot is given back", () => pool.stats().channelsInUse === 0);
        expect(pool.stats()).toMatchObject({ channelsAbandoned: 1, connectionsRetired: 1 });
        expect((await h.exec(["echo", "fresh"], { timeoutMs: 500 })).stdout).toBe("fresh\n");
        expect(pool.stats()).toMatchObject({ connectionsOpened: 2, connectionsLost: 0 });
      } finally {
        pool.close();
        killProcesses(sleeper);
      }
    },
  );

  it("gives the slot back at once when the caller aborts before the command was sent", async () => {
    const clock = new ManualClock();
    const pool = new SshPool({ clock, stuckGraceMs: 10_000 });
    try {
      const h = pool.host(f.target());
      const ac = new AbortController();
      const pending = h.exec(["true"], { timeoutMs: 1_000, signal: ac.signal });
      ac.abort(); // while the connection is still being opened
      expect((await rejection(pending)).reason).toBe(SshReason.ExecAborted);
      expect(pool.stats().channelsInUse).toBe(0);
      clock.advance(10_000);
      expect((await h.exec(["echo", "next"], { timeoutMs: 1_000 })).stdout).toBe("next\n");
      expect(pool.stats()).toMatchObject({
        connectionsOpened: 1,
        connectionsRetired: 0,
        channelsAbandoned: 0,
      });
    } finally {
      pool.close();
    }
  });

  it("aborts a running command when the caller's signal fires", async () => {
    const pool = new SshPool();
    const sleeper = ["sleep", "30.5353"];
    try {
      const h = pool.host(f.target());
      const ac = new AbortController();
      const running = h.exec(sleeper, { timeoutMs: 60_000, signal: ac.signal });
      await waitUntil("the remote sleep runs", () => findProcesses(sleeper).length > 0);
      ac.abort();
      expect((await rejection(running)).reason).toBe(SshReason.ExecAborted);
      if (!asRoot) await waitUntil("the aborted process is gone", () => findProcesses(sleeper).length === 0);
    } finally {
      pool.close();
      killProcesses(sleeper);
    }
  });
});

describe("connection loss", () => {
  it("fails running commands with ConnectionLost when the connection drops, and reconnects on the next call", async () => {
    const pool = new SshPool();
    try {
      const h = pool.host(f.target());
      const sleeper = ["sleep", "30.6161"];
      const running = h.exec(sleeper, { timeoutMs: 60_000 });
      await waitUntil("the remote sleep runs", () => findProcesses(sleeper).length > 0);
      expect(f.sshd.dropConnections()).toBeGreaterThan(0);
      const err = await rejection(running);
      expect(err.reason).toBe(SshReason.ConnectionLost);
      expect(err.message).toContain("node1");
      killProcesses(sleeper);
      expect((await h.exec(["echo", "back"], { timeoutMs: 20_000 })).stdout).toBe("back\n");
      expect(pool.stats()).toMatchObject({ connectionsOpened: 2, connectionsLost: 1, channelsInUse: 0 });
    } finally {
      pool.close();
    }
  });

  it("notices through keepalives a server that stops answering, and fails the running command", async () => {
    // Keepalives run on real timers (they probe the real TCP path), so this waits in real time.
    const pool = new SshPool({ keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    const sleeper = ["sleep", "30.8383"];
    try {
      const h = pool.host(f.target());
      const running = h.exec(sleeper, { timeoutMs: 60_000 });
      await waitUntil("the remote sleep runs", () => findProcesses(sleeper).length > 0);
      expect(f.sshd.freezeConnections(true)).toBeGreaterThan(0);
      const err = await rejection(running);
      expect(err.reason).toBe(SshReason.ConnectionLost);
      expect(err.message).toContain("Keepalive");
      expect(pool.stats().connectionsLost).toBe(1);
    } finally {
      f.sshd.freezeConnections(false);
      f.sshd.dropConnections();
      pool.close();
      killProcesses(sleeper);
    }
  });

  it("reports a stopped server as retryable and works again once it is back", async () => {
    const pool = new SshPool();
    try {
      const h = pool.host(f.target());
      expect((await h.exec(["true"], { timeoutMs: 20_000 })).exitCode).toBe(0);
      await f.sshd.stop();
      const err = await rejection(h.exec(["true"], { timeoutMs: 20_000 }));
      expect([SshReason.ConnectFailed, SshReason.ConnectionLost]).toContain(err.reason);
      await f.sshd.restart();
      expect((await h.exec(["echo", "again"], { timeoutMs: 20_000 })).stdout).toBe("again\n");
      expect(pool.stats().connectionsOpened).toBe(2);
    } finally {
      pool.close();
    }
  });

  it("fails commands with PoolClosed when the pool is closed under them, and refuses new ones", async () => {
    const pool = new SshPool();
    const h = pool.host(f.target());
    const sleeper = ["sleep", "30.7272"];
    const running = h.exec(sleeper, { timeoutMs: 60_000 });
    await waitUntil("the remote sleep runs", () => findProcesses(sleeper).length > 0);
    pool.close();
    expect((await rejection(running)).reason).toBe(SshReason.PoolClosed);
    expect((await rejection(h.exec(["true"], { timeoutMs: 20_000 }))).reason).toBe(SshReason.PoolClosed);
    killProcesses(sleeper);
  });
});

describe("channel cap", () => {
  it("runs at most 8 commands at once on exactly one connection and queues the rest in order", async () => {
    const pool = new SshPool();
    const runningDir = join(f.dir, "cap-running");
    const countsDir = join(f.dir, "cap-counts");
    await mkdir(runningDir);
    await mkdir(countsDir);
    const loginsBefore = acceptedLogins();
    try {
      const h = pool.host(f.target());
      // Each command marks itself running, records how many are running, then holds its channel a while.
      const script = 'touch "$1/$$"; ls "$1" | wc -l > "$2/$$"; sleep 1; rm "$1/$$"';
      const started: number[] = [];
      const all = Array.from({ length: 20 }, (_, i) =>
        h.exec(["sh", "-c", script, "sh", runningDir, countsDir], { timeoutMs: 60_000 }).then((r) => {
          started.push(i);
          return r;
        }),
      );
      // Slots are taken synchronously, so the split is exact before anything reaches the server.
      expect(pool.stats()).toMatchObject({ channelsInUse: 8, queued: 12 });
      const results = await Promise.all(all);
      expect(results.every((r) => r.exitCode === 0)).toBe(true);

      const counts = await Promise.all(
        (await readdir(countsDir)).map(async (name) =>
          Number((await readFile(join(countsDir, name), "utf8")).trim()),
        ),
      );
      expect(counts).toHaveLength(20);
      expect(Math.max(...counts)).toBeLessThanOrEqual(8);
      expect(pool.stats()).toMatchObject({
        connectionsOpened: 1,
        peakChannels: 8,
        channelsInUse: 0,
        queued: 0,
      });
      expect(acceptedLogins() - loginsBefore).toBe(1);
    } finally {
      pool.close();
    }
  });
});
