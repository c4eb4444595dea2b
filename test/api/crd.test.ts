import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { renderCrds, renderCrdStream } from "../../src/api/crd.js";
import { KIND_NAMES, KINDS } from "../../src/api/kinds.js";

const CRD_DIR = join(import.meta.dirname, "..", "..", "crds");

type Schema = Record<string, unknown>;

/** Walks a schema and lists every violation of the Kubernetes structural-schema rules. */
function structuralViolations(s: Schema, path = "$"): string[] {
  const out: string[] = [];
  if ("$ref" in s) out.push(`${path}: $ref`);
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  if (s.type === undefined && !intOrString && !preserve) out.push(`${path}: no type`);
  if (s.properties !== undefined && s.additionalProperties !== undefined) {
    out.push(`${path}: additionalProperties beside properties`);
  }
  for (const junctor of ["anyOf", "oneOf", "allOf"]) {
    if (s[junctor] === undefined) continue;
    if (!intOrString) out.push(`${path}: ${junctor} outside int-or-string`);
  }
  if (typeof s.exclusiveMinimum === "number" || typeof s.exclusiveMaximum === "number") {
    out.push(`${path}: JSON-Schema-2020 exclusive bound (OpenAPI v3 wants a boolean)`);
  }
  if ("const" in s || "propertyNames" in s || "$schema" in s)
    out.push(`${path}: keyword unknown to Kubernetes`);
  if (
    path !== "$.metadata" &&
    s.type === "object" &&
    s.properties === undefined &&
    s.additionalProperties === undefined &&
    !preserve
  ) {
    out.push(`${path}: object without properties or additionalProperties`);
  }
  const props = (s.properties ?? {}) as Record<string, Schema>;
  for (const [k, v] of Object.entries(props)) out.push(...structuralViolations(v, `${path}.${k}`));
  if (typeof s.additionalProperties === "object" && s.additionalProperties !== null) {
    out.push(...structuralViolations(s.additionalProperties as Schema, `${path}{*}`));
  }
  if (typeof s.items === "object" && s.items !== null)
    out.push(...structuralViolations(s.items as Schema, `${path}[*]`));
  return out;
}

describe("CRDs", () => {
  const rendered = renderCrds();

  it("the committed crds/ are exactly what generation produces (run `npm run crds` after changing src/api)", () => {
    const committed = readdirSync(CRD_DIR)
      .filter((f) => f.endsWith(".yaml"))
      .sort();
    expect(committed).toEqual([...rendered.keys()].sort());
    for (const [name, text] of rendered) expect(readFileSync(join(CRD_DIR, name), "utf8"), name).toBe(text);
  });

  it.each(KIND_NAMES)(
    "%s has a structural schema, status subresource, columns, short names and category",
    (kind) => {
      const info = KINDS[kind];
      const crd = parse(rendered.get(`${info.plural}.refit.dev.yaml`) ?? "") as {
        spec: {
          names: { kind: string; shortNames: string[]; categories: string[] };
          versions: {
            name: string;
            subresources: { status: object };
            additionalPrinterColumns: { name: string; jsonPath: string }[];
            schema: { openAPIV3Schema: Schema };
          }[];
        };
      };
      expect(crd.spec.names.kind).toBe(kind);
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
      expect(crd.spec.names.categories).toContain("refit");
      const v = crd.spec.versions[0]!;
      expect(v.name).toBe("v1alpha1");
      expect(v.subresources.status).toEqual({});
      expect(v.additionalPrinterColumns.map((c) => c.name)).toContain("Age");
      const root = v.schema.openAPIV3Schema;
      const metadata = (root.properties as Record<string, Schema>).metadata;
      expect(metadata).toEqual({ type: "object" });
      expect(structuralViolations(root)).toEqual([]);
    },
  );

  it("turns zod cross-field rules into CEL validations", () => {
    const plans = parse(rendered.get("hostpatchplans.refit.dev.yaml") ?? "") as unknown;
    const text = JSON.stringify(plans);
    expect(text).toContain("clusterRef is required when targets.nodes names cluster nodes");
    expect(text).toContain("exactly one of file, env or secretKeyRef must be set");
  });

  it("merges discriminated unions into one object with a CEL rule per variant", () => {
    const crd = parse(rendered.get("notificationchannels.refit.dev.yaml") ?? "") as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Schema } } } }[] };
    };
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
    const type = (spec.properties as Record<string, Schema>).type;
    expect(type?.enum).toEqual([
      "webhook",
      "slack",
      "discord",
      "teams",
      "telegram",
      "email",
      "ntfy",
      "gotify",
    ]);
    const rules = (spec["x-kubernetes-validations"] as { rule: string }[]).map((r) => r.rule);
    expect(
      rules.some((r) =>
        r.startsWith("self.type != 'email' || (has(self.smtp) && has(self.from) && has(self.to)"),
      ),
    ).toBe(true);
    // A default that belongs to one variant must not be applied to the others.
    expect((spec.properties as Record<string, Schema>).server?.default).toBeUndefined();
  });

  it("prints every CRD as one YAML stream", () => {
    const docs = parseAllDocuments(renderCrdStream());
    expect(docs.map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(
      KIND_NAMES.map((k) => `${KINDS[k].plural}.refit.dev`),
    );
  });
});
