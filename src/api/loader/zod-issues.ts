import type { z } from "zod";
import { closest, knownKeysAt } from "./schema-walk.js";

/** One located problem before it is given a file position. */
export interface FieldProblem {
  path: PropertyKey[];
  message: string;
  /** The problem is about the key itself (an unknown field), not its value. */
  atKey?: boolean;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return `${typeof v} ${v}`;
  return typeof v;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let d = data;
  for (const seg of path) {
    if (typeof d !== "object" || d === null) return undefined;
    d = (d as Record<PropertyKey, unknown>)[seg];
  }
  return d;
}

function listOf(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
}

/** Turns zod issues into messages a person can act on: what is wrong, what was expected, what was found. */
export function explainIssues(
  schema: z.ZodType,
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of issues) {
    const path = [...issue.path];
    const got = valueAt(data, path);
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = knownKeysAt(schema, path, data);
        for (const key of issue.keys) {
          const hint = closest(key, known);
          out.push({
            path: [...path, key],
            atKey: true,
            message: `unknown field${hint ? ` (did you mean ${hint}?)` : ""}${known.length ? ` (expected one of: ${known.join(", ")})` : ""}`,
          });
        }
        break;
      }
      case "invalid_type":
        out.push({
          path,
          message:
            got === undefined
              ? `required field is missing (expected ${issue.expected})`
              : `wrong type (expected ${issue.expected}, got ${describeValue(got)})`,
        });
        break;
      case "invalid_value":
        out.push({
          path,
          message: `invalid value (expected one of ${listOf(issue.values)}, got ${describeValue(got)})`,
        });
        break;
      case "invalid_union": {
        const disc = (issue as { discriminator?: string; options?: unknown[] }).discriminator;
        const options = (issue as { options?: unknown[] }).options;
        if (disc !== undefined) {
          out.push({
            path,
            message: `invalid ${disc} (expected one of ${listOf(options ?? [])}, got ${describeValue(got)})`,
          });
        } else if (issue.errors.every((e) => e.length === 1 && e[0]?.code === "invalid_type")) {
          const expected = issue.errors.map((e) => (e[0] as { expected?: string }).expected ?? "?");
          out.push({
            path,
            message: `wrong type (expected ${expected.join(" or ")}, got ${describeValue(got)})`,
          });
        } else {
          const branches = issue.errors.map((e) => e.map((i) => i.message).join("; "));
          out.push({
            path,
            message: `matches none of the allowed forms (${branches.join(" | ")}; got ${describeValue(got)})`,
          });
        }
        break;
      }
      case "invalid_format":
        out.push({
          path,
          message: `${issue.message.startsWith("Invalid") ? `invalid ${issue.format}` : issue.message} (got ${describeValue(got)})`,
        });
        break;
      case "too_small":
      case "too_big": {
        const small = issue.code === "too_small";
        const bound = small ? issue.minimum : issue.maximum;
        const incl = issue.inclusive !== false;
        const what =
          issue.origin === "array"
            ? `${small ? "at least" : "at most"} ${String(bound)} item(s)`
            : issue.origin === "string"
              ? `${small ? "at least" : "at most"} ${String(bound)} character(s)`
              : `${small ? (incl ? "at least" : "greater than") : incl ? "at most" : "less than"} ${String(bound)}`;
        const shown = Array.isArray(got) ? `${got.length} item(s)` : describeValue(got);
        out.push({ path, message: `out of range (expected ${what}, got ${shown})` });
        break;
      }
      default:
        out.push({
          path,
          message:
            typeof got === "object" && got !== null
              ? issue.message
              : `${issue.message} (got ${describeValue(got)})`,
        });
    }
  }
  return out;
}
