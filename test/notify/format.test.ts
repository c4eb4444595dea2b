import { afterEach, describe, expect, it } from "vitest";
import { notificationChannelSpec } from "../../src/api/notification-channel.js";
import { ManualClock } from "../../src/clock.js";
import { deliverTo, type NotificationEvent } from "../../src/notify/index.js";
import { secretResolver } from "../../src/secrets/index.js";
import { beforeReboot } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/http-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Delivers `event` through a chat-type channel to a local server and returns the parsed body. */
async function sent(type: "slack" | "discord" | "ntfy" | "gotify", event: NotificationEvent) {
  server = await startServer();
  const input =
    type === "ntfy"
      ? { server: server.origin, topic: { env: "T" } }
      : type === "gotify"
        ? { url: { env: "U" }, token: { env: "T" } }
        : { webhookUrl: { env: "U" } };
  await deliverTo(event, notificationChannelSpec.parse({ type, ...input }), {
    channel: "c",
    clock: new ManualClock(),
    secrets: secretResolver({ env: { U: server.origin, T: "topic-or-token" } }),
  });
  return server.requests[0]!;
}

const huge: NotificationEvent = {
  ...beforeReboot,
  severity: "error",
  details: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`package${i}`, "x".repeat(600)])),
};

describe("chat message formats", () => {
  it("slack escapes its control characters so text shows as written", async () => {
    const req = await sent("slack", { ...beforeReboot, summary: "kernel <6.8> & <!channel>" });
    const text = (JSON.parse(req.body) as { text: string }).text;
    expect(text).toContain("kernel &lt;6.8&gt; &amp; &lt;!channel&gt;");
    expect(text).not.toContain("<!channel>");
  });

  it("discord stays within its 2000-character limit and pings nobody", async () => {
    const req = await sent("discord", { ...huge, summary: "@everyone pve2 failed" });
    const body = JSON.parse(req.body) as { content: string; allowed_mentions: unknown };
    expect(body.content.length).toBeLessThanOrEqual(2000);
    expect(body.content.startsWith("**[ERROR] BeforeReboot HostPatchPlan/pve-nodes**\n@everyone")).toBe(true);
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });

  it("ntfy keeps a long message under its 4096-byte attachment threshold, even in multi-byte text", async () => {
    const req = await sent("ntfy", { ...huge, summary: "Größenänderung 🚀".repeat(30) });
    expect(Buffer.byteLength(req.body, "utf8")).toBeLessThanOrEqual(4000);
    expect(req.body.endsWith("…")).toBe(true);
    expect(req.headers.priority).toBe("5");
    expect(req.headers.tags).toBe("rotating_light,BeforeReboot");
  });

  it("long detail values are cut, not dropped", async () => {
    const req = await sent("gotify", huge);
    const body = JSON.parse(req.body) as { message: string; priority: number };
    expect(body.priority).toBe(8);
    expect(body.message).toContain(`package0: ${"x".repeat(499)}…`);
    expect(body.message).not.toContain("x".repeat(500));
  });

  it("nested details are shown as compact JSON", async () => {
    const req = await sent("slack", beforeReboot);
    const text = (JSON.parse(req.body) as { text: string }).text;
    expect(text).toContain('intent: {"step":"reboot","bootIdBefore":"0e6f6c2a-1d9b-4b8e-9a53-7f2b1c3d4e5f"}');
    expect(text).toContain("clusterQuorate: true");
  });
});
