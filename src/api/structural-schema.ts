/**
 * Turns the JSON Schema that zod emits into a Kubernetes structural OpenAPI v3 schema: no $ref, a
 * type on every node, no additionalProperties beside properties, discriminated unions merged into one
 * object whose per-variant rules become CEL, OpenAPI-3.0 exclusive bounds, and only the formats the
 * API server knows.
 */

export type JsonSchema = { [key: string]: unknown };

const KNOWN_FORMATS = new Set([
  "int32",
  "int64",
  "float",
  "double",
  "byte",
  "date",
  "date-time",
  "password",
  "uri",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid",
  "duration",
]);

const DROPPED_KEYS = new Set(["$schema", "$id", "id", "examples", "propertyNames", "title", "const"]);

function isObject(v: unknown): v is JsonSchema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function variants(s: JsonSchema): JsonSchema[] | undefined {
  const v = s.oneOf ?? s.anyOf;
  return Array.isArray(v) ? (v as JsonSchema[]) : undefined;
}

function constValues(s: JsonSchema): unknown[] | undefined {
  if ("const" in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  return undefined;
}

function celLiteral(v: unknown): string {
  return typeof v === "string" ? `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'` : JSON.stringify(v);
}

function mergeObjectVariants(options: JsonSchema[], base: JsonSchema): JsonSchema {
  const props = options.map((o) => (isObject(o.properties) ? o.properties : {}));
  const required = options.map((o) => new Set(Array.isArray(o.required) ? (o.required as string[]) : []));
  const allNames = [...new Set(props.flatMap((p) => Object.keys(p)))];
  // The discriminator: a property every variant has, constant in each, different across them.
  const discriminator = allNames.find((n) =>
    props.every((p) => isObject(p[n]) && constValues(p[n])?.length === 1),
  );
  const merged: JsonSchema = {};
  for (const name of allNames) {
    const defs = props.map((p) => p[name]).filter(isObject);
    const first = defs[0] ?? {};
    if (name === discriminator) {
      merged[name] = { type: "string", enum: defs.map((d) => constValues(d)?.[0]) };
      continue;
    }
    const copy: JsonSchema = { ...first };
    // A default on a field that only some variants have, or that differs between variants, would be
    // applied to all of them by the API server; zod applies the right one when Refit reads the object.
    const defaults = new Set(defs.map((d) => JSON.stringify(d.default)));
    if (defs.length !== options.length || defaults.size > 1) delete copy.default;
    merged[name] = copy;
  }
  const commonRequired = allNames.filter((n) => required.every((r) => r.has(n)));
  const out: JsonSchema = { ...base, type: "object", properties: merged };
  if (commonRequired.length > 0) out.required = commonRequired;
  const rules: JsonSchema[] = [];
  if (discriminator) {
    options.forEach((o, i) => {
      const value = constValues(props[i]?.[discriminator] as JsonSchema)?.[0];
      const own = new Set(Object.keys(props[i] ?? {}));
      const needs = [...(required[i] ?? [])].filter((n) => !commonRequired.includes(n));
      const forbids = allNames.filter((n) => !own.has(n));
      const clauses = [...needs.map((n) => `has(self.${n})`), ...forbids.map((n) => `!has(self.${n})`)];
      // Rules a variant carries itself hold only for that variant once the variants are merged.
      const ownRules = Array.isArray(o["x-kubernetes-validations"])
        ? (o["x-kubernetes-validations"] as JsonSchema[])
        : [];
      for (const r of ownRules) {
        rules.push({ ...r, rule: `self.${discriminator} != ${celLiteral(value)} || (${String(r.rule)})` });
      }
      if (clauses.length === 0) return;
      const parts = [
        needs.length ? `requires ${needs.join(", ")}` : "",
        forbids.length ? `does not allow ${forbids.join(", ")}` : "",
      ].filter(Boolean);
      rules.push({
        rule: `self.${discriminator} != ${celLiteral(value)} || (${clauses.join(" && ")})`,
        message: `${discriminator} ${String(value)} ${parts.join(" and ")}`,
      });
    });
  }
  const existing = Array.isArray(base["x-kubernetes-validations"])
    ? (base["x-kubernetes-validations"] as JsonSchema[])
    : [];
  if (rules.length > 0 || existing.length > 0) out["x-kubernetes-validations"] = [...existing, ...rules];
  delete out.oneOf;
  delete out.anyOf;
  return out;
}

export function toStructural(input: JsonSchema): JsonSchema {
  const s: JsonSchema = { ...input };
  for (const k of DROPPED_KEYS) if (k !== "const") delete s[k];

  if ("$ref" in s) throw new Error(`structural schemas cannot use $ref (${String(s.$ref)}); inline it`);

  const opts = variants(s);
  if (opts) {
    const nonNull = opts.filter((o) => o.type !== "null");
    const nullable = nonNull.length !== opts.length;
    const rest: JsonSchema = { ...s };
    delete rest.oneOf;
    delete rest.anyOf;
    let out: JsonSchema;
    if (nonNull.length === 1) {
      out = toStructural({ ...rest, ...nonNull[0] });
    } else if (nonNull.every((o) => constValues(o) !== undefined)) {
      const values = nonNull.flatMap((o) => constValues(o) ?? []);
      const types = new Set(values.map((v) => (typeof v === "number" ? "number" : typeof v)));
      out = { ...rest, type: types.size === 1 ? [...types][0] : "string", enum: values };
    } else if (nonNull.every((o) => o.type === "object")) {
      out = mergeObjectVariants(
        nonNull.map((o) => toStructural(o)),
        rest,
      );
    } else {
      const types = new Set(nonNull.map((o) => o.type));
      if (types.size === 2 && types.has("string") && (types.has("integer") || types.has("number"))) {
        out = {
          ...rest,
          "x-kubernetes-int-or-string": true,
          anyOf: nonNull.map((o) => {
            const branch = toStructural(o);
            return branch.type === "number" ? { ...branch, type: "integer" } : branch;
          }),
        };
      } else {
        throw new Error(`cannot express a union of ${[...types].join(", ")} as a structural schema`);
      }
    }
    if (nullable) out.nullable = true;
    return out;
  }

  if ("const" in s) {
    s.enum = [s.const];
    if (!s.type) s.type = typeof s.const;
    delete s.const;
  }

  if (s.type === "integer" || s.type === "number") {
    if (typeof s.exclusiveMinimum === "number") {
      s.minimum = s.exclusiveMinimum;
      s.exclusiveMinimum = true;
    }
    if (typeof s.exclusiveMaximum === "number") {
      s.maximum = s.exclusiveMaximum;
      s.exclusiveMaximum = true;
    }
    // zod bounds integers to the safe range: noise in a CRD.
    if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
    if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  }

  if (typeof s.format === "string" && !KNOWN_FORMATS.has(s.format)) delete s.format;

  if (s.type === "array" && isObject(s.items)) s.items = toStructural(s.items);

  if (s.type === "object" || isObject(s.properties)) {
    s.type = "object";
    if (isObject(s.properties)) {
      const props: JsonSchema = {};
      for (const [k, v] of Object.entries(s.properties)) props[k] = toStructural(v as JsonSchema);
      s.properties = props;
      delete s.additionalProperties;
    } else if (isObject(s.additionalProperties)) {
      s.additionalProperties = toStructural(s.additionalProperties);
    } else {
      delete s.additionalProperties;
      s["x-kubernetes-preserve-unknown-fields"] = true;
    }
  }

  if (s.type === undefined && !s["x-kubernetes-preserve-unknown-fields"]) {
    throw new Error(`schema node without a type: ${JSON.stringify(input).slice(0, 200)}`);
  }
  return s;
}
