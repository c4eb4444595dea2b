import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createLogger, silentLogger, type Logger } from "../../src/log/logger.js";

/** A JSON-lines sink that keeps every line pino writes, parsed. */
function sink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

function jsonLogger(level = "debug"): { log: Logger; lines: Record<string, unknown>[] } {
  const { stream, lines } = sink();
  return { log: createLogger({ level, pretty: false, destination: stream }), lines };
}

describe("Logger", () => {
  it("a plain pino logger is a Logger: fields and child bindings come out as pino JSON lines", () => {
    const { stream, lines } = sink();
    const log: Logger = pino({ level: "debug" }, stream);
    log.child({ component: "store" }).child({ kind: "ProxmoxCluster" }).warn({ line: 2, col: 7 }, "invalid");
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        component: "store",
        kind: "ProxmoxCluster",
        line: 2,
        col: 7,
        msg: "invalid",
      }),
    ]);
  });

  it("createLogger writes one JSON line per event at pino's numeric levels, with app and an ISO time", () => {
    const { log, lines } = jsonLogger();
    const child = log.child({ cluster: "lab", node: "pve1" });
    child.debug({ step: "observe" }, "d");
    child.info({ phase: "Upgrading" }, "i");
    child.warn({}, "w");
    child.error({ err: "boom" }, "e");
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [20, "d"],
      [30, "i"],
      [40, "w"],
      [50, "e"],
    ]);
    for (const l of lines) expect(l).toMatchObject({ app: "refit", cluster: "lab", node: "pve1" });
    expect(lines[1]).toMatchObject({ phase: "Upgrading" });
    expect(lines[3]).toMatchObject({ err: "boom" });
    expect(Number.isNaN(Date.parse(String(lines[0]?.time)))).toBe(false);
  });

  it("drops lines below its level", () => {
    const { log, lines } = jsonLogger("warn");
    log.debug({}, "no");
    log.info({}, "no");
    log.warn({}, "yes");
    expect(lines.map((l) => l.msg)).toEqual(["yes"]);
  });

  it("silentLogger accepts every call, its children too, and writes nothing", () => {
    const log: Logger = silentLogger;
    expect(() => {
      log.debug({ a: 1 }, "x");
      log.info({}, "x");
      log.warn({}, "x");
      log.error({}, "x");
      log.child({ kind: "HostPatch" }).child({ node: "pve1" }).error({}, "x");
    }).not.toThrow();
    expect(log.child({})).toBe(silentLogger);
  });
});

describe("secret redaction", () => {
  const SECRET = "s3cr3t-value-1f2e";

  /** Names that hold secrets in specs, SSH settings and HTTP requests. */
  const NAMES = ["password", "passphrase", "token", "secret", "privateKey", "authorization"];
  const secrets = (names: string[]): Record<string, string> =>
    Object.fromEntries(names.map((n) => [n, SECRET]));

  it("censors every redacted field, at the top level and one object down", () => {
    const { log, lines } = jsonLogger();
    log.info(
      {
        ...secrets([...NAMES, "url"]),
        headers: { "X-Api-Key": SECRET },
        channel: {
          ...secrets([...NAMES, "Authorization", "webhookUrl", "botToken"]),
          headers: { Authorization: SECRET },
        },
      },
      "delivering",
    );
    const line = lines[0] ?? {};
    expect(JSON.stringify(line)).not.toContain(SECRET);
    const censored = (names: string[]) => Object.fromEntries(names.map((n) => [n, "[redacted]"]));
    expect(line).toMatchObject({
      ...censored([...NAMES, "url"]),
      headers: { "X-Api-Key": "[redacted]" },
      channel: {
        ...censored([...NAMES, "Authorization", "webhookUrl", "botToken"]),
        headers: { Authorization: "[redacted]" },
      },
    });
  });

  it("redacts in child loggers and in their bindings too", () => {
    const { log, lines } = jsonLogger();
    log
      .child({ component: "notify", token: SECRET })
      .warn({ channel: { token: SECRET }, attempt: 2 }, "retrying");
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(lines[0]).toMatchObject({ component: "notify", attempt: 2, channel: { token: "[redacted]" } });
  });

  it("keeps the fields that are not secrets", () => {
    const { log, lines } = jsonLogger();
    log.info({ cluster: "lab", node: "pve1", vmid: 101, plan: "nightly", phase: "Rebooting" }, "step");
    expect(lines[0]).toMatchObject({
      cluster: "lab",
      node: "pve1",
      vmid: 101,
      plan: "nightly",
      phase: "Rebooting",
    });
  });
});
