import { afterEach, describe, expect, it } from "vitest";
import { notificationChannelSpec, notificationChannelTypes } from "../../src/api/notification-channel.js";
import { ManualClock } from "../../src/clock.js";
import type { RefitError } from "../../src/errors.js";
import { TerminalError } from "../../src/errors.js";
import {
  DELIVERED_CHANNEL_TYPES,
  NotifyReason,
  channelPlugins,
  deliverTo,
  isDelivered,
  type ChannelType,
} from "../../src/notify/index.js";
import { secretResolver } from "../../src/secrets/index.js";
import { beforeReboot, refitUserAgent } from "./support/fixtures.js";
import { startServer, type Recorded, type TestServer } from "./support/http-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** How to configure one delivered type against a local server, and what that service expects. */
interface Case {
  spec(origin: string): { input: Record<string, unknown>; env: Record<string, string> };
  /** Values that are secrets in this configuration. */
  secrets: string[];
  check(req: Recorded): void;
}

function json(req: Recorded): Record<string, unknown> {
  expect(req.headers["content-type"]).toBe("application/json");
  return JSON.parse(req.body) as Record<string, unknown>;
}

const TITLE = "[INFO] BeforeReboot HostPatchPlan/pve-nodes";

const cases: Record<(typeof DELIVERED_CHANNEL_TYPES)[number], Case> = {
  webhook: {
    spec: (origin) => ({ input: { url: { env: "URL" } }, env: { URL: `${origin}/wh/p4th-s3cret` } }),
    secrets: ["p4th-s3cret"],
    check(req) {
      expect(req.url).toBe("/wh/p4th-s3cret");
      expect(json(req)).toEqual(beforeReboot);
    },
  },
  slack: {
    spec: (origin) => ({
      input: { webhookUrl: { env: "URL" } },
      env: { URL: `${origin}/services/T0000/B0000/sl4ck-s3cret` },
    }),
    secrets: ["sl4ck-s3cret"],
    check(req) {
      expect(req.url).toBe("/services/T0000/B0000/sl4ck-s3cret");
      const body = json(req);
      expect(Object.keys(body)).toEqual(["text"]);
      const text = body.text as string;
      expect(text.startsWith(`*${TITLE}*\n${beforeReboot.summary}\n`)).toBe(true);
      expect(text).toContain("Hosts: pve2");
      expect(text).toContain("Cluster: homelab");
      expect(text).toContain("rebootReason: running kernel 6.8.12-8-pve");
    },
  },
  discord: {
    spec: (origin) => ({
      input: { webhookUrl: { env: "URL" } },
      env: { URL: `${origin}/api/webhooks/123/d1sc0rd-s3cret` },
    }),
    secrets: ["d1sc0rd-s3cret"],
    check(req) {
      expect(req.url).toBe("/api/webhooks/123/d1sc0rd-s3cret");
      const body = json(req);
      expect(body.allowed_mentions).toEqual({ parse: [] });
      expect(body.username).toBe("Refit");
      const content = body.content as string;
      expect(content.startsWith(`**${TITLE}**\n${beforeReboot.summary}\n`)).toBe(true);
      expect(content).toContain("packages: proxmox-kernel-6.8 6.8.12-9, pve-manager 8.4.1");
    },
  },
  teams: {
    spec: (origin) => ({
      input: { webhookUrl: { env: "URL" } },
      env: { URL: `${origin}/workflows/abc/triggers/manual/paths/invoke?sig=t3ams-s3cret` },
    }),
    secrets: ["t3ams-s3cret"],
    check(req) {
      expect(req.url).toBe("/workflows/abc/triggers/manual/paths/invoke?sig=t3ams-s3cret");
      const body = json(req) as {
        type: string;
        attachments: { contentType: string; content: { type: string; version: string; body: unknown[] } }[];
      };
      expect(body.type).toBe("message");
      expect(body.attachments).toHaveLength(1);
      const card = body.attachments[0]!;
      expect(card.contentType).toBe("application/vnd.microsoft.card.adaptive");
      expect(card.content.type).toBe("AdaptiveCard");
      expect(card.content.version).toBe("1.4");
      expect(card.content.body[0]).toMatchObject({ type: "TextBlock", text: TITLE, weight: "Bolder" });
      expect(card.content.body[1]).toMatchObject({ type: "TextBlock", text: beforeReboot.summary });
      const factSet = card.content.body[2] as { type: string; facts: { title: string; value: string }[] };
      expect(factSet.type).toBe("FactSet");
      expect(factSet.facts).toContainEqual({ title: "Hosts", value: "pve2" });
      expect(factSet.facts).toContainEqual({ title: "rootUsedPercent", value: "41" });
    },
  },
  ntfy: {
    spec: (origin) => ({
      input: { server: `${origin}/ntfy`, topic: { env: "TOPIC" }, token: { env: "TOKEN" } },
      env: { TOPIC: "refit-t0pic-s3cret", TOKEN: "tk_ntfyt0ken" },
    }),
    secrets: ["refit-t0pic-s3cret", "tk_ntfyt0ken"],
    check(req) {
      expect(req.url).toBe("/ntfy/refit-t0pic-s3cret");
      expect(req.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(req.headers.title).toBe(TITLE);
      expect(req.headers.priority).toBe("3");
      expect(req.headers.tags).toBe("information_source,BeforeReboot");
      expect(req.headers.authorization).toBe("Bearer tk_ntfyt0ken");
      expect(req.body.startsWith(`${beforeReboot.summary}\nCluster: homelab\nHosts: pve2\n`)).toBe(true);
    },
  },
  gotify: {
    spec: (origin) => ({
      input: { url: { env: "URL" }, token: { env: "TOKEN" } },
      env: { URL: `${origin}/gotify/`, TOKEN: "AgOt1fyT0ken" },
    }),
    secrets: ["AgOt1fyT0ken"],
    check(req) {
      // The token travels in a header, never in the URL where proxies log it.
      expect(req.url).toBe("/gotify/message");
      expect(req.headers["x-gotify-key"]).toBe("AgOt1fyT0ken");
      const body = json(req);
      expect(body).toEqual({
        title: TITLE,
        message: expect.stringContaining(beforeReboot.summary) as unknown,
        priority: 4,
      });
    },
  },
};

function specFor(type: ChannelType, input: Record<string, unknown>) {
  // Short timeouts are irrelevant here: the manual clock never moves, so no attempt times out.
  return notificationChannelSpec.parse({ type, retries: 0, ...input });
}

describe("channel registry", () => {
  it("registers exactly the API's channel types, each under its own key", () => {
    expect(Object.keys(channelPlugins).sort()).toEqual([...notificationChannelTypes].sort());
    for (const type of notificationChannelTypes) {
      expect(channelPlugins[type].type).toBe(type);
    }
  });

  it("lists as delivered exactly the plugins that are implemented", () => {
    const implemented = notificationChannelTypes.filter((t) => channelPlugins[t].implemented);
    expect(implemented.sort()).toEqual([...DELIVERED_CHANNEL_TYPES].sort());
    for (const t of notificationChannelTypes) expect(isDelivered(t)).toBe(implemented.includes(t));
  });

  it("every implemented type has a delivery case in this contract test", () => {
    for (const type of notificationChannelTypes.filter((t) => channelPlugins[t].implemented)) {
      expect(Object.keys(cases), `no contract case for ${type}`).toContain(type);
    }
  });

  const pending = notificationChannelTypes.filter((t) => !channelPlugins[t].implemented);
  it.each(pending)("%s is accepted but fails with ChannelNotImplemented", async (type) => {
    const spec =
      type === "telegram"
        ? notificationChannelSpec.parse({ type, botToken: { env: "T" }, chatId: -100123 })
        : notificationChannelSpec.parse({
            type,
            smtp: { host: "mail.example.com" },
            from: "refit@example.com",
            to: ["ops@example.com"],
          });
    let caught: unknown;
    try {
      await deliverTo(beforeReboot, spec, {
        channel: "later",
        clock: new ManualClock(),
        secrets: secretResolver(),
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TerminalError);
    expect((caught as RefitError).reason).toBe(NotifyReason.ChannelNotImplemented);
    expect((caught as RefitError).message).toContain(`type ${type}, which is accepted but not yet delivered`);
  });
});

describe.each(DELIVERED_CHANNEL_TYPES)("%s delivers to a real HTTP server", (type) => {
  const c = cases[type];

  it("with the body and headers the service expects", async () => {
    server = await startServer(() => ({ status: type === "discord" ? 204 : 200 }));
    const { input, env } = c.spec(server.origin);
    const result = await deliverTo(beforeReboot, specFor(type, input), {
      channel: `my-${type}`,
      clock: new ManualClock(),
      secrets: secretResolver({ env }),
    });
    expect(result.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers["user-agent"]).toBe(refitUserAgent);
    c.check(req);
  });

  it("and keeps its secrets out of the error when the server echoes the request", async () => {
    server = await startServer((req) => ({
      status: 403,
      body: `denied ${req.url} ${JSON.stringify(req.headers)}`,
    }));
    const { input, env } = c.spec(server.origin);
    let caught: unknown;
    try {
      await deliverTo(beforeReboot, specFor(type, input), {
        channel: `my-${type}`,
        clock: new ManualClock(),
        secrets: secretResolver({ env }),
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TerminalError);
    const err = caught as RefitError;
    expect(err.message).toMatch(new RegExp(`^${type} POST to my-${type} failed: HTTP 403 \\(attempt 1/1\\)`));
    const text = `${err.message} ${JSON.stringify(err.context)}`;
    for (const secret of c.secrets) expect(text).not.toContain(secret);
  });
});
