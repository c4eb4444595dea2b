import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProbe } from "../../src/health/probe.js";
import { check, closedPort, httpServer, io, localExec, RecordingClock, type TestServer } from "./support.js";

const target = { vmid: 120, address: "127.0.0.1" };
let server: TestServer;
let clock: RecordingClock;

beforeEach(async () => {
  server = await httpServer();
  clock = new RecordingClock();
});
afterEach(async () => {
  await server.close();
});

describe("http from the controller", () => {
  it("is healthy on the first answer with an expected status, after the warm-up", async () => {
    const c = check({ type: "http", url: server.url(), warmUp: "30s" });
    const r = await runProbe(c, target, io(clock));
    expect(r).toMatchObject({ name: "app", type: "http", healthy: true, attempts: 1 });
    expect(r.message).toBeUndefined();
    expect(clock.sleeps).toEqual([30_000]);
  });

  it("builds the URL from the container's address, port and path, and sends method and headers", async () => {
    const c = check({
      type: "http",
      port: server.port,
      path: "/status",
      method: "HEAD",
      headers: { Host: "app.example" },
    });
    const r = await runProbe(c, target, io(clock));
    expect(r.healthy).toBe(true);
    expect(server.requests[0]).toMatchObject({ method: "HEAD", url: "/status" });
    expect(server.requests[0]?.headers.host).toBe("app.example");
  });

  it("fails once the update broke the endpoint, after every retry, and says what it got", async () => {
    const c = check({ type: "http", url: server.url(), retries: 2 });
    expect((await runProbe(c, target, io(clock))).healthy).toBe(true);
    server.answer.status = 503;
    const r = await runProbe(c, target, io(clock));
    expect(r.healthy).toBe(false);
    expect(r.attempts).toBe(3);
    expect(r.message).toBe(`GET ${server.url()} answered 503, expected 200 (3 attempts)`);
  });

  it("accepts any status of the expected list", async () => {
    server.answer.status = 204;
    expect((await runProbe(check({ type: "http", url: server.url() }), target, io(clock))).healthy).toBe(
      false,
    );
    const c = check({ type: "http", url: server.url(), expectedStatus: [200, 204], retries: 0 });
    expect((await runProbe(c, target, io(clock))).healthy).toBe(true);
  });

  it("accepts a status class besides the list, and names both when the answer is neither", async () => {
    const c = check({ type: "http", url: server.url(), expectedStatusClasses: ["3xx"], retries: 0 });
    server.answer.status = 302;
    expect((await runProbe(c, target, io(clock))).healthy).toBe(true);
    server.answer.status = 404;
    expect((await runProbe(c, target, io(clock))).message).toBe(
      `GET ${server.url()} answered 404, expected 200 or 3xx (1 attempt)`,
    );
  });

  it("checks the body text and pattern (a final newline does not defeat ^…$)", async () => {
    server.answer.body = "ok 42\n";
    const good = check({
      type: "http",
      url: server.url(),
      bodyContains: "ok",
      bodyMatches: "^ok( [0-9]+)?$",
    });
    expect((await runProbe(good, target, io(clock))).healthy).toBe(true);
    server.answer.body = "maintenance\n";
    const r = await runProbe({ ...good, retries: 0 }, target, io(clock));
    expect(r.healthy).toBe(false);
    expect(r.message).toContain('body does not contain "ok"');
  });

  it("recovers within its retries: waits grow exponentially from interval, capped at max", async () => {
    server.queue = [{ status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }];
    const c = check({
      type: "http",
      url: server.url(),
      interval: "10s",
      retries: 5,
      backoff: { factor: 3, max: "1m" },
    });
    const r = await runProbe(c, target, io(clock));
    expect(r).toMatchObject({ healthy: true, attempts: 5 });
    expect(clock.sleeps).toEqual([0, 10_000, 30_000, 60_000, 60_000]);
  });

  it("waits interval between attempts with a fixed backoff", async () => {
    server.answer.status = 500;
    const c = check({
      type: "http",
      url: server.url(),
      interval: "4s",
      retries: 3,
      backoff: { strategy: "fixed" },
    });
    const r = await runProbe(c, target, io(clock));
    expect(r).toMatchObject({ healthy: false, attempts: 4 });
    expect(clock.sleeps).toEqual([0, 4_000, 4_000, 4_000]);
  });

  it("fails, without throwing, when the server does not answer within the timeout", async () => {
    server.answer.hang = true;
    const c = check({ type: "http", url: server.url(), timeout: "1s", retries: 0 });
    const r = await runProbe(c, target, io(clock));
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/from the controller failed: no answer within 1000 ms/);
  });

  it("fails, without throwing, on a refused connection", async () => {
    const port = await closedPort();
    const r = await runProbe(check({ type: "http", port, retries: 0 }), target, io(clock));
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/ECONNREFUSED/);
  });

  it("says it cannot probe a port when the container's address is unknown", async () => {
    const r = await runProbe(check({ type: "http", port: 80, retries: 0 }), { vmid: 120 }, io(clock));
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/knows no address for CT 120.*from: container/);
  });

  it("holds a latency SLO on the p95 of several requests", async () => {
    const fast = check({ type: "http", url: server.url(), latencySLO: "2s", retries: 0 });
    const ok = await runProbe(fast, target, io(clock));
    expect(ok.healthy).toBe(true);
    expect(server.requests).toHaveLength(5);
    expect(ok.latencyMs).toBeLessThan(2000);
    server.answer.delayMs = 60;
    const slow = await runProbe({ ...fast, latencySLO: "20ms" }, target, io(clock));
    expect(slow.healthy).toBe(false);
    expect(slow.message).toMatch(/p95 latency \d+ ms over 5 requests is above the SLO of 20 ms/);
    expect(slow.latencyMs).toBeGreaterThanOrEqual(60);
  });
});

describe("http from inside the container", () => {
  it("runs curl through exec against the container's loopback", async () => {
    const exec = localExec();
    const c = check({ type: "http", port: server.port, path: "/healthz", from: "container", retries: 0 });
    const r = await runProbe(c, target, io(clock, exec));
    expect(r.healthy).toBe(true);
    expect(exec.calls[0]?.[0]).toBe("curl");
    expect(exec.calls[0]).toContain(`http://127.0.0.1:${server.port}/healthz`);
    server.answer.status = 500;
    const broken = await runProbe(c, target, io(clock, exec));
    expect(broken.message).toBe(
      `GET http://127.0.0.1:${server.port}/healthz answered 500, expected 200 (1 attempt)`,
    );
  });

  it("falls back to wget when curl is not installed", async () => {
    const exec = localExec({ missing: ["curl"] });
    const c = check({ type: "http", port: server.port, from: "container", bodyContains: "ok", retries: 0 });
    expect((await runProbe(c, target, io(clock, exec))).healthy).toBe(true);
    expect(exec.calls.map((a) => a[0])).toEqual(["curl", "wget"]);
    server.answer.status = 503;
    const r = await runProbe(c, target, io(clock, exec));
    expect(r.healthy).toBe(false);
    expect(r.message).toContain("answered 503");
  });

  it("says what to install when neither curl nor wget is there", async () => {
    const exec = localExec({ missing: ["curl", "wget"] });
    const c = check({ type: "http", port: server.port, from: "container", retries: 0 });
    const r = await runProbe(c, target, io(clock, exec));
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/neither curl nor wget is installed/);
  });

  it("reports a refused connection inside the container", async () => {
    const port = await closedPort();
    const c = check({ type: "http", port, from: "container", retries: 0 });
    const r = await runProbe(c, target, io(clock));
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/inside CT 120 got no response: curl: \(7\)/);
  });
});

describe("tcp", () => {
  it("connects from the controller; a closed port fails", async () => {
    expect((await runProbe(check({ type: "tcp", port: server.port }), target, io(clock))).healthy).toBe(true);
    const port = await closedPort();
    const r = await runProbe(check({ type: "tcp", port, retries: 1 }), target, io(clock));
    expect(r).toMatchObject({ healthy: false, attempts: 2 });
    expect(r.message).toMatch(new RegExp(`tcp connect to 127.0.0.1:${port} from the controller failed`));
  });

  it("connects from inside the container with a fixed script and positional host and port", async () => {
    const exec = localExec();
    const up = await runProbe(
      check({ type: "tcp", port: server.port, from: "container" }),
      target,
      io(clock, exec),
    );
    expect(up.healthy).toBe(true);
    expect(exec.calls[0]?.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(exec.calls[0]?.slice(3)).toEqual(["refit-probe", "127.0.0.1", String(server.port), "5"]);
    const port = await closedPort();
    const down = await runProbe(
      check({ type: "tcp", port, from: "container", retries: 0 }),
      target,
      io(clock, exec),
    );
    expect(down.healthy).toBe(false);
    expect(down.message).toMatch(/inside CT 120 failed/);
  });
});

describe("command", () => {
  const exec = (exitCode: number, stdout = "", stderr = "") => {
    const calls: string[][] = [];
    return Object.assign(
      (argv: string[]) => {
        calls.push(argv);
        return Promise.resolve({ exitCode, stdout, stderr });
      },
      { calls },
    );
  };

  it("passes on the expected exit code and output, running the argv as given", async () => {
    const e = exec(0, "active\n");
    const c = check({ type: "command", argv: ["systemctl", "is-active", "app"], outputMatches: "^active$" });
    expect((await runProbe(c, target, io(clock, e))).healthy).toBe(true);
    expect(e.calls).toEqual([["systemctl", "is-active", "app"]]);
  });

  it("fails on another exit code or output, quoting stderr", async () => {
    const c = check({
      type: "command",
      argv: ["systemctl", "is-active", "app"],
      outputMatches: "^active$",
      retries: 0,
    });
    const bad = await runProbe(c, target, io(clock, exec(3, "inactive\n", "unit app stopped\n")));
    expect(bad.message).toBe(
      '["systemctl","is-active","app"] inside CT 120 exited 3, expected 0: unit app stopped (1 attempt)',
    );
    const wrong = await runProbe(c, target, io(clock, exec(0, "activating\n")));
    expect(wrong.healthy).toBe(false);
    expect(wrong.message).toContain("does not match /^active$/");
  });

  it("turns an exec that throws (SSH dropped) into an unhealthy result", async () => {
    const c = check({ type: "command", argv: ["true"], retries: 1 });
    const r = await runProbe(
      c,
      target,
      io(clock, () => Promise.reject(new Error("SSH connection to pve1 lost"))),
    );
    expect(r).toMatchObject({ healthy: false, attempts: 2 });
    expect(r.message).toContain("SSH connection to pve1 lost");
  });
});

describe("probeBudgetMs", () => {
  it("adds warm-up, every attempt at its timeout and every backoff wait", async () => {
    const { probeBudgetMs } = await import("../../src/health/backoff.js");
    const c = check({
      type: "tcp",
      port: 1,
      warmUp: "30s",
      timeout: "5s",
      interval: "10s",
      retries: 3,
      backoff: { factor: 2, max: "15s" },
    });
    expect(probeBudgetMs(c)).toBe(30_000 + 4 * 5_000 + 10_000 + 15_000 + 15_000);
  });
});
