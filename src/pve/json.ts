import { z } from "zod";
import { unparseable, type ParseContext } from "./errors.js";

/**
 * zod building blocks for what pvesh prints: Perl booleans (1/0), numbers that are sometimes strings
 * (`loadavg`, `mhz`), fields that may be absent or null. Objects strip unknown keys instead of
 * rejecting them, so a newer Proxmox that adds fields still parses.
 */

/** Perl's 1/0 (and true/false, "1"/"0", "" from older serialisers). */
export const perlBool = z.union([z.boolean(), z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false" || v === "") return false;
  ctx.issues.push({
    code: "custom",
    message: `expected a boolean (1/0), got ${JSON.stringify(v)}`,
    input: v,
  });
  return z.NEVER;
});

/** A JSON number, or a string holding one. */
export const numeric = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i)
    .transform(Number),
]);

/** Accepts absent or null and yields undefined. */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v) => v ?? undefined);
}

export const optNumber = optional(numeric);
export const optString = optional(z.union([z.string(), z.number().transform(String)]));
export const optBool = optional(perlBool);

/** Parses JSON text; anything else is UnparseableOutput naming the command. */
export function parseJsonText(text: string, defaultCommand: string, ctx?: ParseContext): unknown {
  const trimmed = text.trim();
  if (trimmed.length === 0) unparseable(ctx, defaultCommand, text, "expected JSON, got nothing");
  try {
    return JSON.parse(trimmed) as unknown;
  } catch (err) {
    return unparseable(
      ctx,
      defaultCommand,
      text,
      `expected JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** Validates a parsed value, turning the first zod issues into a short problem statement. */
export function validateJson<S extends z.ZodType>(
  schema: S,
  value: unknown,
  text: string,
  defaultCommand: string,
  ctx?: ParseContext,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
  return unparseable(ctx, defaultCommand, text, `unexpected JSON shape (${issues})`);
}

/** Parses and validates in one go. */
export function parseJsonWith<S extends z.ZodType>(
  schema: S,
  text: string,
  defaultCommand: string,
  ctx?: ParseContext,
): z.output<S> {
  return validateJson(schema, parseJsonText(text, defaultCommand, ctx), text, defaultCommand, ctx);
}

/** Splits Proxmox's `;`-joined tag string (older releases used `,` or spaces). */
export function splitTags(tags: string | undefined): string[] {
  if (tags === undefined) return [];
  return tags
    .split(/[;,\s]+/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}
