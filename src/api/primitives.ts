import { z } from "zod";
import { parseCron } from "../schedule/cron.js";
import { withRules } from "./cel.js";

/** A Kubernetes object name (DNS-1123 subdomain). */
export const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "must be a DNS-1123 name: lower case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit",
  );

/** Go-style duration: `90s`, `5m`, `1h30m`, `2d`, `500ms`. */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$";
export const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), "must be a duration such as 30s, 5m, 1h30m or 2d");
export type Duration = z.infer<typeof duration>;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration string that `duration` accepted. */
export function parseDuration(text: string): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
    consumed += m[0].length;
  }
  if (consumed !== text.length || text.length === 0 || !Number.isFinite(total)) {
    throw new RangeError(`not a duration: ${JSON.stringify(text)} (expected e.g. 30s, 5m, 1h30m, 2d)`);
  }
  return total;
}

/** A shell-style glob over names (`pve*`, `web-?`, `db-[12]`). */
export const glob = z.string().min(1).max(253);

/** Proxmox guest ids run from 100 to 999999999. */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;
export const vmid = z.number().int().min(VMID_MIN).max(VMID_MAX);

export const VMID_RANGE_PATTERN = "^[0-9]+(-[0-9]+)?$";

/** Parses `100` or `100-199` into an inclusive range, or says what is wrong. */
export function parseVmidRange(value: number | string): { from: number; to: number } | string {
  const text = String(value);
  if (!new RegExp(VMID_RANGE_PATTERN).test(text))
    return `expected a vmid or a range like 100-199, got ${JSON.stringify(text)}`;
  const [a, b] = text.split("-");
  const from = Number(a);
  const to = b === undefined ? from : Number(b);
  if (from < VMID_MIN || to > VMID_MAX) return `vmids run from ${VMID_MIN} to ${VMID_MAX}, got ${text}`;
  if (from > to) return `range start ${from} is above its end ${to}`;
  return { from, to };
}

/** A vmid (`105`) or an inclusive vmid range (`"100-199"`). */
export const vmidOrRange = z
  .union([vmid, z.string().regex(new RegExp(VMID_RANGE_PATTERN), "must be a vmid or a range like 100-199")])
  .superRefine((v, ctx) => {
    // The branches check form; what is left is the order and bounds of a range written as a string.
    if (typeof v !== "string" || !new RegExp(VMID_RANGE_PATTERN).test(v)) return;
    const r = parseVmidRange(v);
    if (typeof r === "string") ctx.addIssue({ code: "custom", message: r, input: v });
  });

/** An IANA time zone, checked against the runtime's time zone database. */
export const timeZone = z
  .string()
  .min(1)
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: "must be an IANA time zone such as Europe/Berlin or UTC" },
  );

/** A 5-field cron expression (minute hour day-of-month month day-of-week). */
export const CRON_FIELD =
  "(\\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*";
export const cron = z
  .string()
  .regex(
    new RegExp(`^${CRON_FIELD}( +${CRON_FIELD}){4}$`),
    "must be a 5-field cron expression such as '0 2 * * 6' (minute hour day-of-month month day-of-week)",
  )
  .superRefine((expr, ctx) => {
    // The pattern checks the shape (and is what the API server enforces); ranges and names need the parser.
    if (!new RegExp(`^${CRON_FIELD}( +${CRON_FIELD}){4}$`).test(expr)) return;
    try {
      parseCron(expr);
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: err instanceof Error ? err.message : String(err),
        input: expr,
      });
    }
  });

export const percent = z.number().min(0).max(100);

/**
 * Where a secret comes from. Secrets are never inline: a file path, an environment variable name or a
 * Kubernetes Secret key.
 */
export const secretSource = withRules(
  z.strictObject({
    file: z.string().min(1).optional().describe("Path of a file holding the secret"),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .optional()
      .describe("Name of an environment variable holding the secret"),
    secretKeyRef: z
      .strictObject({
        name: objectName,
        key: z.string().min(1),
        namespace: objectName.optional(),
      })
      .optional()
      .describe("A key of a Kubernetes Secret"),
  }),
  [
    {
      rule: "[has(self.file), has(self.env), has(self.secretKeyRef)].filter(x, x).size() == 1",
      message: "exactly one of file, env or secretKeyRef must be set",
      check: (s) => [s.file, s.env, s.secretKeyRef].filter((x) => x !== undefined).length === 1,
    },
  ],
);
export type SecretSource = z.infer<typeof secretSource>;

/** A reference to another Refit object by name. */
export const objectRef = z.strictObject({ name: objectName });
export type ObjectRef = z.infer<typeof objectRef>;

/** A command as an argv array: never a shell string. */
export const argv = z
  .array(z.string())
  .min(1)
  .describe("Command as an argv array; never interpreted by a shell");
