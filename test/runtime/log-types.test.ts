import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../controller/runtime/log-types.js";
import { FileStore } from "../../controller/runtime/file-store.js";
import { ManualClock } from "../../src/clock.js";
import { tempDirs, write } from "./support.js";

describe("logger interface", () => {
  it("a real pino logger is accepted, and the store's lines come out as pino JSON with their fields", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString("utf8").split("\n").filter(Boolean))
          lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const log: Logger = pino({ level: "debug" }, sink);
    const dirs = await tempDirs();
    try {
      await write(dirs.desired, "bad.yaml", "apiVersion: refit.dev/v1alpha1\nkind: Nonsense\n");
      const store = await FileStore.open({
        desiredDir: dirs.desired,
        stateDir: dirs.state,
        log: log.child({ component: "store" }),
        clock: new ManualClock(),
        watch: false,
      });
      await store.close();
    } finally {
      await dirs.remove();
    }
    const warn = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("invalid desired state:"));
    expect(warn).toMatchObject({ level: 40, component: "store", line: 2, col: 7 });
  });
});
