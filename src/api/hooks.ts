import { z } from "zod";
import { withRules } from "./cel.js";
import { argv, duration } from "./primitives.js";

/** A name that labels a step in logs, history and status: one short DNS-1123 label. */
export const stepName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "must be lower case letters, digits and '-', at most 63 characters",
  );

/**
 * Rejects a list of named items in which two items share a name. Lists passed here must be bounded
 * (`.max(n)`) so that the API server can bound the quadratic CEL cost.
 */
export function withUniqueNames<T extends z.ZodArray<z.ZodType<{ name: string }>>>(list: T, what: string): T {
  return withRules(list, [
    {
      rule: "self.all(a, self.exists_one(b, b.name == a.name))",
      message: `${what} names must be unique`,
      check: (items) => new Set(items.map((i) => i.name)).size === items.length,
    },
  ]);
}

export const hookLocation = z.enum(["container", "node"]);
export type HookLocation = z.infer<typeof hookLocation>;

export const hook = z.strictObject({
  name: stepName.describe("Names the hook in logs and history; unique within its list"),
  argv,
  where: hookLocation
    .default("container")
    .describe("container: run inside the guest through pct exec; node: run on the Proxmox node hosting it"),
  timeout: duration.default("5m").describe("The hook is killed and counts as failed after this long"),
  continueOnError: z
    .boolean()
    .default(false)
    .describe("When true a failing hook is logged and the update goes on; when false it fails the update"),
});
export type Hook = z.infer<typeof hook>;

const HOOKS_MAX = 16;

const hookList = (what: string, description: string) =>
  withUniqueNames(z.array(hook).max(HOOKS_MAX), what).default([]).describe(description);

/**
 * Commands run around a guest update, in list order. Hook argv elements and the environment are
 * logged: they must not carry secrets.
 */
export const hooksSpec = z.strictObject({
  preUpdate: hookList("preUpdate hook", "Run after the backup and before the first runner"),
  postUpdate: hookList(
    "postUpdate hook",
    "Run after the runners and the restart, before health verification",
  ),
  onFailure: hookList("onFailure hook", "Run when the update fails, before any rollback"),
  onRollback: hookList("onRollback hook", "Run after a rollback restored the backup"),
});
export type HooksSpec = z.infer<typeof hooksSpec>;
