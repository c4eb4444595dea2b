import { stringify } from "yaml";
import { z } from "zod";
import { KIND_NAMES, KINDS, type KindInfo } from "./kinds.js";
import { toStructural, type JsonSchema } from "./structural-schema.js";
import { API_GROUP, API_VERSION } from "./version.js";

function schemaOf(info: KindInfo, part: "spec" | "status"): JsonSchema {
  const full = z.toJSONSchema(info.schema, {
    io: "input",
    reused: "inline",
    unrepresentable: "throw",
  }) as JsonSchema;
  const props = full.properties as Record<string, JsonSchema>;
  const node = props[part];
  if (!node) throw new Error(`${info.kind} has no ${part} schema`);
  return toStructural(node);
}

/** The CustomResourceDefinition of one kind, as a plain object. */
export function crdFor(info: KindInfo): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${info.plural}.${API_GROUP}`,
      labels: { "app.kubernetes.io/name": "refit", "app.kubernetes.io/part-of": "refit" },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ["refit"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: `${info.kind} (refit.dev/${API_VERSION}).`,
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: schemaOf(info, "spec"),
                status: schemaOf(info, "status"),
              },
            },
          },
        },
      ],
    },
  };
}

/** Every CRD, each as a YAML document, keyed by the file name it is committed under. */
export function renderCrds(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of KIND_NAMES) {
    const info: KindInfo = KINDS[name];
    const header = "# Generated from src/api by `npm run crds`; do not edit by hand.\n";
    files.set(`${info.plural}.${API_GROUP}.yaml`, header + stringify(crdFor(info), { lineWidth: 0 }));
  }
  return files;
}

/** All CRDs as one multi-document YAML stream, for `refit crds | kubectl apply -f -`. */
export function renderCrdStream(): string {
  return [...renderCrds().values()].join("---\n");
}
