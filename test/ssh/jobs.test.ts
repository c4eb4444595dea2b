/**
 * Remote jobs. systemd does not run on this test machine, so the functions are driven through a
 * HostExec that answers with what systemd prints; the simulator suite runs them end to end later.
 * Fixtures follow systemd 252 (Debian 12, Proxmox VE 8): `systemctl show -p …` prints the requested
 * properties in its D-Bus order (Service properties, then Unit properties), unset timestamps as empty
 * values; PID 1 logs `<unit>: Deactivated successfully.`, `<unit>: Failed with result '<r>'.`,
 * `<unit>: Service reached runtime time limit. Stopping.` and `<unit>: Consumed … CPU time.`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RetryableError, TerminalError } from "../../src/errors.js";
import {
  interpretJob,
  jobStatus,
  journalJobArgv,
  parseJournal,
  showJobArgv,
  startJob,
  startJobArgv,
  validateJobId,
} from "../../src/ssh/jobs.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { SshReason } from "../../src/ssh/reasons.js";
import { escapeExecStartArg, parseSystemctlShow, parseSystemdTimestamp } from "../../src/ssh/systemd.js";
import type { ExecOptions, ExecResult, HostExec } from "../../src/ssh/types.js";

const SHOW_NOT_FOUND = `Result=success
ExecMainStartTimestamp=
ExecMainExitTimestamp=
ExecMainStatus=0
LoadState=not-found
ActiveState=inactive
SubState=dead
`;

const SHOW_RUNNING = `Result=success
ExecMainStartTimestamp=Wed 2026-01-07 10:15:02 UTC
ExecMainExitTimestamp=
ExecMainStatus=0
LoadState=loaded
ActiveState=active
SubState=running
`;

const SHOW_STOPPING_AFTER_TIMEOUT = `Result=success
ExecMainStartTimestamp=Wed 2026-01-07 10:15:02 UTC
ExecMainExitTimestamp=
ExecMainStatus=0
LoadState=loaded
ActiveState=deactivating
SubState=stop-sigterm
`;

const SHOW_TIMED_OUT = `Result=timeout
ExecMainStartTimestamp=Wed 2026-01-07 10:15:02 UTC
ExecMainExitTimestamp=Wed 2026-01-07 11:15:02 UTC
ExecMainStatus=15
LoadState=loaded
ActiveState=failed
SubState=failed
`;

const SHOW_FAILED_EXIT = `Result=exit-code
ExecMainStartTimestamp=Wed 2026-01-07 10:15:02 UTC
ExecMainExitTimestamp=Wed 2026-01-07 10:16:40 UTC
ExecMainStatus=2
LoadState=loaded
ActiveState=failed
SubState=failed
`;

const JOURNAL_EXITED = `Started refit-apt-1.service - /bin/sh -c "apt-get -y dist-upgrade; echo \\"@@refit-exit:\\$?\\"".
Reading package lists...
Building dependency tree...
Calculating upgrade...
0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
@@refit-exit:0
refit-apt-1.service: Deactivated successfully.
refit-apt-1.service: Consumed 2.512s CPU time.
`;

const JOURNAL_FAILED = `Started refit-apt-1.service - /bin/sh -c "apt-get -y dist-upgrade; echo \\"@@refit-exit:\\$?\\"".
E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)
@@refit-exit:100
refit-apt-1.service: Deactivated successfully.
`;

const JOURNAL_TIMED_OUT = `Started refit-apt-1.service - /bin/sh -c "apt-get -y dist-upgrade; echo \\"@@refit-exit:\\$?\\"".
Unpacking pve-manager (8.2.4) over (8.2.2) ...
refit-apt-1.service: Service reached runtime time limit. Stopping.
refit-apt-1.service: Failed with result 'timeout'.
refit-apt-1.service: Consumed 1min 3.201s CPU time.
`;

const NO_ENTRIES = "-- No entries --\n";

function ok(stdout: string, exitCode = 0, stderr = ""): ExecResult {
  return {
    exitCode,
    signal: null,
    stdout,
    stderr,
    stdoutTruncated: false,
    stderrTruncated: false,
    durationMs: 1,
  };
}

/** A HostExec that answers by program and records each command line it was asked to run. */
class ScriptedHost implements HostExec {
  readonly host = "pve1";
  readonly commands: string[] = [];
  readonly timeouts: (number | undefined)[] = [];
  constructor(
    private readonly answers: Partial<Record<"systemctl" | "journalctl" | "systemd-run", ExecResult>>,
  ) {}
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.commands.push(quoteArgv(argv));
    this.timeouts.push(opts?.timeoutMs);
    const program = argv.find((a) => !a.includes("=")) as "systemctl" | "journalctl" | "systemd-run";
    const answer = this.answers[program];
    return answer
      ? Promise.resolve(answer)
      : Promise.reject(new Error(`unexpected command ${quoteArgv(argv)}`));
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/**
 * systemd's own argument expansion for one ExecStart word with an empty environment, ported from
 * src/basic/env-util.c (replace_env_argv / replace_env_n, flags 0, v247–v252): a word that is exactly
 * `$NAME` is replaced by the variable's words (none here); inside a word `$$` is `$` and `${NAME}` is
 * the value; any other `$` stays. Returns undefined when the word disappears.
 */
function systemdExpandWord(word: string): string | undefined {
  if (word[0] === "$" && word[1] !== "{" && word[1] !== "$") return undefined;
  let out = "";
  let start = 0;
  let state: "word" | "curly" | "variable" = "word";
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (state === "word") {
      if (c === "$") state = "curly";
    } else if (state === "curly") {
      if (c === "{") {
        out += word.slice(start, i - 1);
        start = i - 1;
        state = "variable";
      } else if (c === "$") {
        out += word.slice(start, i);
        start = i + 1;
        state = "word";
      } else state = "word";
    } else if (c === "}") {
      start = i + 1;
      state = "word";
    } else if (c === ":") state = "word";
  }
  return out + word.slice(start);
}

describe("job ids", () => {
  it.each(["apt-1", "a", "0", "x".repeat(64), "pve1-upgrade-2026-01-07"])("accepts %s", (id) => {
    expect(() => validateJobId(id)).not.toThrow();
  });

  it.each(["", "Apt", "apt_1", "apt.1", "a/b", "a;rm -rf /", "x".repeat(65), "é"])(
    "refuses %j as terminal, before running anything",
    async (id) => {
      const host = new ScriptedHost({});
      for (const call of [startJob(host, id, ["true"], { timeoutMs: 1000 }), jobStatus(host, id)]) {
        const err = await caught(call);
        expect(err).toBeInstanceOf(TerminalError);
        expect((err as TerminalError).reason).toBe(SshReason.InvalidJobId);
      }
      expect(host.commands).toEqual([]);
    },
  );
});

describe("job command lines", () => {
  it("starts a transient unit as the shared contract says, wrapping argv to record its exit code", () => {
    const argv = startJobArgv(
      "apt-1",
      ["apt-get", "-y", "-o", "Dpkg::Options::=--force-confold", "dist-upgrade"],
      3600,
    );
    expect(quoteArgv(argv)).toBe(
      "systemd-run --unit refit-apt-1 --property RuntimeMaxSec=3600 --collect --quiet -- sh -c " +
        `'apt-get -y -o Dpkg::Options::=--force-confold dist-upgrade; echo "@@refit-exit:$?"'`,
    );
  });

  it("quotes hostile job arguments once for sh and keeps them intact for systemd", () => {
    const argv = startJobArgv("x", ["printf", "%s", "it's $HOME ${PATH} $$"], 60);
    expect(argv.at(-1)).toBe(`printf %s 'it'\\''s $HOME $\${PATH} $$$'; echo "@@refit-exit:$?"`);
    expect(systemdExpandWord(argv.at(-1) ?? "")).toBe(
      `printf %s 'it'\\''s $HOME \${PATH} $$'; echo "@@refit-exit:$?"`,
    );
  });

  it("reads status and logs with the contract's commands, timestamps in UTC", () => {
    expect(quoteArgv(showJobArgv("apt-1"))).toBe(
      "TZ=UTC systemctl show refit-apt-1 --property=LoadState,ActiveState,SubState,Result,ExecMainStatus,ExecMainStartTimestamp,ExecMainExitTimestamp",
    );
    expect(quoteArgv(journalJobArgv("apt-1", 60))).toBe("journalctl -u refit-apt-1 -o cat --no-pager -n 60");
  });

  it("escapes ExecStart arguments so systemd's expansion gives back the original (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("$", "{", "}", "a", ":", "-", " ", "'", "?"), maxLength: 16 }),
        (s) => {
          expect(systemdExpandWord(escapeExecStartArg(s))).toBe(s);
          // Arguments without a `$` that systemd reads specially are left as they are, so the simulator
          // (which does not model systemd's expansion) sees the contract's text.
          if (!/^\$|\$[{$]/.test(s)) expect(escapeExecStartArg(s)).toBe(s);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("systemd output", () => {
  it("parses systemctl show, values may contain '='", () => {
    expect(parseSystemctlShow(SHOW_RUNNING)).toMatchObject({
      LoadState: "loaded",
      ActiveState: "active",
      ExecMainExitTimestamp: "",
    });
    expect(parseSystemctlShow("Environment=A=1 B=2\n").Environment).toBe("A=1 B=2");
  });

  it("parses timestamps in UTC and numeric zones, and nothing it would have to guess", () => {
    expect(parseSystemdTimestamp("Wed 2026-01-07 10:15:02 UTC")).toBe(Date.UTC(2026, 0, 7, 10, 15, 2));
    expect(parseSystemdTimestamp("Mon 2026-07-06 07:56:59 -05")).toBe(Date.UTC(2026, 6, 6, 12, 56, 59));
    expect(parseSystemdTimestamp("Mon 2026-07-06 07:56:59 +0530")).toBe(Date.UTC(2026, 6, 6, 2, 26, 59));
    expect(parseSystemdTimestamp("Fri 2026-10-09 18:10:00 CST")).toBeUndefined();
    expect(parseSystemdTimestamp("")).toBeUndefined();
    expect(parseSystemdTimestamp("n/a")).toBeUndefined();
  });

  it("drops journalctl's own notices", () => {
    expect(parseJournal(NO_ENTRIES)).toEqual([]);
    expect(parseJournal("")).toEqual([]);
    expect(parseJournal("a\n\nb\n")).toEqual(["a", "", "b"]);
  });
});

describe("interpretJob", () => {
  const show = parseSystemctlShow;
  const journal = parseJournal;

  it("is running while systemd holds the unit active, even while it is being stopped", () => {
    expect(interpretJob("apt-1", show(SHOW_RUNNING), [], 10)).toEqual({
      state: "running",
      startedAt: Date.UTC(2026, 0, 7, 10, 15, 2),
      log: [],
    });
    expect(interpretJob("apt-1", show(SHOW_STOPPING_AFTER_TIMEOUT), [], 10).state).toBe("running");
  });

  it("reads the exit code from the journal once the unit is collected", () => {
    expect(interpretJob("apt-1", show(SHOW_NOT_FOUND), journal(JOURNAL_EXITED), 3)).toEqual({
      state: "exited",
      exitCode: 0,
      log: [
        "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.",
        "refit-apt-1.service: Deactivated successfully.",
        "refit-apt-1.service: Consumed 2.512s CPU time.",
      ],
    });
    const failed = interpretJob("apt-1", show(SHOW_NOT_FOUND), journal(JOURNAL_FAILED), 50);
    expect(failed).toMatchObject({ state: "failed", exitCode: 100 });
    expect(failed.log).toContain(
      "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)",
    );
    expect(failed.log.some((l) => l.startsWith("@@refit-exit"))).toBe(false);
  });

  it("reports RuntimeMaxSec exceeded as timed-out, from the unit or from the journal", () => {
    expect(interpretJob("apt-1", show(SHOW_TIMED_OUT), journal(JOURNAL_TIMED_OUT), 50)).toMatchObject({
      state: "timed-out",
      startedAt: Date.UTC(2026, 0, 7, 10, 15, 2),
      finishedAt: Date.UTC(2026, 0, 7, 11, 15, 2),
    });
    expect(interpretJob("apt-1", show(SHOW_NOT_FOUND), journal(JOURNAL_TIMED_OUT), 50).state).toBe(
      "timed-out",
    );
  });

  it("reports a failed unit without a recorded exit line as failed with systemd's status", () => {
    expect(interpretJob("apt-1", show(SHOW_FAILED_EXIT), [], 50)).toMatchObject({
      state: "failed",
      exitCode: 2,
    });
  });

  it("is unknown when neither systemd nor the journal knows the unit, or its end is not logged yet", () => {
    expect(interpretJob("apt-1", show(SHOW_NOT_FOUND), [], 50)).toEqual({ state: "unknown", log: [] });
    const started = journal(JOURNAL_EXITED).slice(0, 3);
    expect(interpretJob("apt-1", show(SHOW_NOT_FOUND), started, 50).state).toBe("unknown");
  });

  it("returns no log lines when none are asked for", () => {
    expect(interpretJob("apt-1", show(SHOW_NOT_FOUND), journal(JOURNAL_EXITED), 0).log).toEqual([]);
  });
});

describe("startJob", () => {
  it("starts a job that systemd and the journal have never seen", async () => {
    const host = new ScriptedHost({
      systemctl: ok(SHOW_NOT_FOUND),
      journalctl: ok(NO_ENTRIES),
      "systemd-run": ok(""),
    });
    expect(
      await startJob(host, "apt-1", ["apt-get", "-y", "dist-upgrade"], { timeoutMs: 3_600_000 }),
    ).toEqual({ started: true });
    expect(host.commands).toEqual([
      quoteArgv(showJobArgv("apt-1")),
      quoteArgv(journalJobArgv("apt-1", 1)),
      quoteArgv(startJobArgv("apt-1", ["apt-get", "-y", "dist-upgrade"], 3600)),
    ]);
    expect(host.timeouts.every((t) => typeof t === "number" && t > 0)).toBe(true);
  });

  it("rounds the job timeout up to whole seconds", async () => {
    const host = new ScriptedHost({
      systemctl: ok(SHOW_NOT_FOUND),
      journalctl: ok(NO_ENTRIES),
      "systemd-run": ok(""),
    });
    await startJob(host, "j", ["true"], { timeoutMs: 1500 });
    expect(host.commands.at(-1)).toContain("RuntimeMaxSec=2 ");
  });

  it("does nothing when the unit is still known to systemd", async () => {
    const host = new ScriptedHost({ systemctl: ok(SHOW_RUNNING) });
    expect(await startJob(host, "apt-1", ["apt-get"], { timeoutMs: 60_000 })).toEqual({ started: false });
    expect(host.commands).toHaveLength(1);
  });

  it("does nothing when a collected unit left journal lines (it ran before)", async () => {
    const host = new ScriptedHost({
      systemctl: ok(SHOW_NOT_FOUND),
      journalctl: ok("refit-apt-1.service: Consumed 2.512s CPU time.\n"),
    });
    expect(await startJob(host, "apt-1", ["apt-get"], { timeoutMs: 60_000 })).toEqual({ started: false });
    expect(host.commands.some((c) => c.startsWith("systemd-run"))).toBe(false);
  });

  it("treats losing a start race to another caller as already started", async () => {
    const host = new ScriptedHost({
      systemctl: ok(SHOW_NOT_FOUND),
      journalctl: ok(NO_ENTRIES),
      "systemd-run": ok(
        "",
        1,
        "Failed to start transient service unit: Unit refit-apt-1.service already exists.\n",
      ),
    });
    expect(await startJob(host, "apt-1", ["apt-get"], { timeoutMs: 60_000 })).toEqual({ started: false });
  });

  it("fails terminally when systemd-run is missing and retryably on other refusals", async () => {
    const missing = new ScriptedHost({
      systemctl: ok(SHOW_NOT_FOUND),
      journalctl: ok(NO_ENTRIES),
      "systemd-run": ok("", 127, "bash: line 1: systemd-run: command not found\n"),
    });
    const e1 = await caught(startJob(missing, "apt-1", ["apt-get"], { timeoutMs: 60_000 }));
    expect(e1).toBeInstanceOf(TerminalError);
    expect((e1 as TerminalError).reason).toBe(SshReason.JobToolMissing);

    const refused = new ScriptedHost({
      systemctl: ok(SHOW_NOT_FOUND),
      journalctl: ok(NO_ENTRIES),
      "systemd-run": ok("", 1, "Failed to start transient service unit: Access denied\n"),
    });
    const e2 = await caught(startJob(refused, "apt-1", ["apt-get"], { timeoutMs: 60_000 }));
    expect(e2).toBeInstanceOf(RetryableError);
    expect((e2 as RetryableError).reason).toBe(SshReason.JobStartFailed);
    expect((e2 as RetryableError).message).toContain("Access denied");
  });

  it("refuses an empty command or a non-positive timeout", async () => {
    const host = new ScriptedHost({});
    for (const call of [
      startJob(host, "j", [], { timeoutMs: 1000 }),
      startJob(host, "j", ["true"], { timeoutMs: 0 }),
    ]) {
      expect(await caught(call)).toBeInstanceOf(TerminalError);
    }
    expect(host.commands).toEqual([]);
  });
});

describe("jobStatus", () => {
  it("asks for the wanted log lines plus room for the exit and systemd lines", async () => {
    const host = new ScriptedHost({ systemctl: ok(SHOW_NOT_FOUND), journalctl: ok(JOURNAL_EXITED) });
    const status = await jobStatus(host, "apt-1", { logLines: 2 });
    expect(status).toEqual({
      state: "exited",
      exitCode: 0,
      log: [
        "refit-apt-1.service: Deactivated successfully.",
        "refit-apt-1.service: Consumed 2.512s CPU time.",
      ],
    });
    expect(host.commands[1]).toBe("journalctl -u refit-apt-1 -o cat --no-pager -n 12");
  });

  it("fails retryably when systemctl fails or prints no state", async () => {
    const down = new ScriptedHost({
      systemctl: ok("", 1, "Failed to connect to bus: No such file or directory\n"),
      journalctl: ok(""),
    });
    const e1 = await caught(jobStatus(down, "apt-1"));
    expect(e1).toBeInstanceOf(RetryableError);
    expect((e1 as RetryableError).reason).toBe(SshReason.JobStatusFailed);
    const garbled = new ScriptedHost({ systemctl: ok("garbage\n"), journalctl: ok("") });
    expect(((await caught(jobStatus(garbled, "apt-1"))) as RetryableError).reason).toBe(
      SshReason.JobStatusFailed,
    );
  });
});
