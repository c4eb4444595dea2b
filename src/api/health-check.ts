import { z } from "zod";
import { withRules } from "./cel.js";
import { stepName, withUniqueNames } from "./hooks.js";
import { argv, duration } from "./primitives.js";

/**
 * A regular expression matched against probe output. Compiled by the controller with JavaScript
 * `RegExp` (no flags); an expression that does not compile is rejected at load time.
 */
export const outputPattern = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    },
    { message: "must be a valid regular expression" },
  );

export const backoffStrategy = z.enum(["fixed", "exponential"]);

export const backoffSpec = z
  .strictObject({
    strategy: backoffStrategy
      .default("exponential")
      .describe(
        "fixed: wait `interval` between attempts; exponential: multiply the wait by `factor` each time",
      ),
    factor: z.number().min(1).max(10).default(2).describe("Multiplier of the wait after each failed attempt"),
    max: duration.default("1m").describe("Longest wait between two attempts"),
  })
  .describe("How the wait between failed attempts grows");
export type BackoffSpec = z.infer<typeof backoffSpec>;

/** One description for http and tcp: the CRD merges the check types into one object. */
const port = z
  .number()
  .int()
  .min(1)
  .max(65535)
  .describe("Port to probe: for http on the container's address, instead of url; for tcp on host");

/** Fields every probe type shares. */
const probeShape = {
  name: stepName.describe("Names the check in status and history; unique within its list"),
  warmUp: duration
    .default("0s")
    .describe(
      "Wait this long after the update (or rollback) before the first attempt, e.g. for a slow-starting app",
    ),
  interval: duration.default("10s").describe("Wait between attempts"),
  timeout: duration.default("5s").describe("One attempt fails when it takes longer than this"),
  retries: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(3)
    .describe("Failed attempts tolerated after the first before the check counts as failed"),
  backoff: backoffSpec.prefault({}),
  latencySLO: duration
    .optional()
    .describe("Highest acceptable p95 latency over the successful attempts; slower counts as unhealthy"),
  compareWithBaseline: z
    .boolean()
    .default(true)
    .describe(
      "When true the check fails an update only if it passed in the baseline taken before the update",
    ),
};

/** Where an http or tcp probe runs; command checks always run inside the container. */
export const probeFrom = z
  .enum(["controller", "container"])
  .default("controller")
  .describe(
    "controller: from Refit's host to the container's address; container: inside the container " +
      "through pct exec (curl or wget for http, a shell /dev/tcp or nc connect for tcp), for ports bound to localhost",
  );
export type ProbeFrom = z.infer<typeof probeFrom>;

export const httpMethod = z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export const httpHealthCheck = withRules(
  z.strictObject({
    type: z.literal("http"),
    ...probeShape,
    from: probeFrom,
    url: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s/]+[^\s]*$/, "must be an absolute http:// or https:// URL")
      .optional()
      .describe("Full URL to probe; alternative to port"),
    port: port.optional(),
    path: z
      .string()
      .max(2048)
      .regex(/^\/[^\s]*$/, "must start with '/' and contain no whitespace")
      .optional()
      .describe("Request path with port; default /"),
    scheme: z.enum(["http", "https"]).optional().describe("Scheme with port; default http"),
    method: httpMethod.default("GET").describe("Request method"),
    headers: z
      .record(
        z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name"),
        z.string().max(4096),
      )
      .default({})
      .describe("Request headers; logged, so never put credentials here"),
    expectedStatus: z
      .array(z.number().int().min(100).max(599))
      .min(1)
      .max(32)
      .default([200])
      .describe("Response status codes that count as healthy"),
    expectedStatusClasses: z
      .array(z.enum(["1xx", "2xx", "3xx", "4xx", "5xx"]))
      .max(5)
      .optional()
      .describe("Status classes that count as healthy besides expectedStatus, e.g. [2xx, 3xx]"),
    bodyContains: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe("Healthy only if the body contains this text"),
    bodyMatches: outputPattern
      .optional()
      .describe("Healthy only if the body matches this regular expression"),
    tlsVerify: z
      .boolean()
      .default(true)
      .describe("Verify the server certificate for https; false accepts any certificate for this probe only"),
  }),
  [
    {
      rule: "has(self.url) != has(self.port)",
      message: "set exactly one of url or port",
      check: (c) => (c.url === undefined) !== (c.port === undefined),
    },
    {
      rule: "has(self.port) || !has(self.path)",
      message: "path goes with port; with url, write the path into the url",
      field: "path",
      check: (c) => c.port !== undefined || c.path === undefined,
    },
    {
      rule: "has(self.port) || !has(self.scheme)",
      message: "scheme goes with port; with url, write the scheme into the url",
      field: "scheme",
      check: (c) => c.port !== undefined || c.scheme === undefined,
    },
  ],
);
export type HttpHealthCheck = z.infer<typeof httpHealthCheck>;

export const tcpHealthCheck = z.strictObject({
  type: z.literal("tcp"),
  ...probeShape,
  from: probeFrom,
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:_-]+$/, "must be a host name or an IP address")
    .optional()
    .describe("Host to connect to; default the container's address"),
  port,
});
export type TcpHealthCheck = z.infer<typeof tcpHealthCheck>;

export const commandHealthCheck = z.strictObject({
  type: z.literal("command"),
  ...probeShape,
  argv: argv.describe("Command run inside the container through pct exec; never interpreted by a shell"),
  expectedExitCode: z.number().int().min(0).max(255).default(0).describe("Exit code that counts as healthy"),
  outputMatches: outputPattern.optional().describe("Healthy only if stdout matches this regular expression"),
});
export type CommandHealthCheck = z.infer<typeof commandHealthCheck>;

export const healthCheck = z.discriminatedUnion("type", [
  httpHealthCheck,
  tcpHealthCheck,
  commandHealthCheck,
]);
export type HealthCheck = z.infer<typeof healthCheck>;

export const healthCheckType = z.enum(["http", "tcp", "command"]);
export type HealthCheckType = z.infer<typeof healthCheckType>;

export const HEALTH_CHECKS_MAX = 32;

/** A bounded list of checks with unique names. */
export function healthCheckList(what: string) {
  return withUniqueNames(z.array(healthCheck).max(HEALTH_CHECKS_MAX), what);
}
