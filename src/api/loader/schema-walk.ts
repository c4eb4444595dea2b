import { z } from "zod";

/** Strips wrappers that do not change the shape of the data (optional, default, prefault, nullable). */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (
      s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault
    ) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else {
      return s;
    }
  }
}

function pickVariant(s: z.ZodUnion, data: unknown): z.ZodType | undefined {
  const disc = (s.def as { discriminator?: string }).discriminator;
  const options = s.options as z.ZodType[];
  if (disc && typeof data === "object" && data !== null) {
    const value = (data as Record<string, unknown>)[disc];
    return options.find((o) => {
      const u = unwrap(o);
      if (!(u instanceof z.ZodObject)) return false;
      const d = unwrap(u.shape[disc] as z.ZodType);
      return d instanceof z.ZodLiteral && d.values.has(value as never);
    });
  }
  return options.map(unwrap).find((o) => o instanceof z.ZodObject);
}

/** The schema that describes the value at `path` inside `data`, if it can be found. */
export function schemaAt(
  root: z.ZodType,
  path: readonly PropertyKey[],
  data: unknown,
): z.ZodType | undefined {
  let s: z.ZodType | undefined = unwrap(root);
  let d: unknown = data;
  for (const seg of path) {
    if (!s) return undefined;
    if (s instanceof z.ZodUnion) s = pickVariant(s, d);
    if (!s) return undefined;
    s = unwrap(s);
    if (s instanceof z.ZodObject && typeof seg === "string") s = s.shape[seg] as z.ZodType | undefined;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return undefined;
    d = typeof d === "object" && d !== null ? (d as Record<PropertyKey, unknown>)[seg] : undefined;
    if (s) s = unwrap(s);
  }
  if (s instanceof z.ZodUnion) s = pickVariant(s, d) ?? s;
  return s ? unwrap(s) : undefined;
}

/** The field names an object schema at `path` accepts, for "unknown field" messages. */
export function knownKeysAt(root: z.ZodType, path: readonly PropertyKey[], data: unknown): string[] {
  const s = schemaAt(root, path, data);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** Edit distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
