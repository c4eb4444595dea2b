import { z } from "zod";
import { GROUP_VERSION } from "./version.js";
import { objectName } from "./primitives.js";

const labelKey = z.string().min(1).max(316);

export const ownerReference = z.strictObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: objectName,
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof ownerReference>;

/** Kubernetes ObjectMeta: what a user writes (name, labels, annotations) and what the store sets. */
export const objectMeta = z.strictObject({
  name: objectName,
  generateName: z.string().optional(),
  namespace: objectName.optional(),
  selfLink: z.string().optional(),
  labels: z.record(labelKey, z.string().max(63)).optional(),
  annotations: z.record(labelKey, z.string()).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(ownerReference).optional(),
  managedFields: z.array(z.looseObject({})).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

export const conditionStatus = z.enum(["True", "False", "Unknown"]);

/** A kstatus condition. `reason` is one CamelCase word; `message` is for humans. */
export const condition = z.strictObject({
  type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/),
  status: conditionStatus,
  reason: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, "must be one CamelCase word"),
  message: z.string().default(""),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof condition>;

/** Status fields every kind shares. */
export const baseStatusShape = {
  observedGeneration: z.number().int().min(0).optional(),
  conditions: z.array(condition).optional(),
  /** Echo of the `refit.dev/requested-at` annotation last acted on. */
  lastHandledRequestAt: z.string().optional(),
  /** Git revision of the desired-state directory the status was computed from (file mode). */
  observedRevision: z.string().optional(),
};

/** Builds the schema of one kind: apiVersion, kind, metadata, spec and optional status. */
export function kindSchema<K extends string, S extends z.ZodType, T extends z.ZodType>(
  kind: K,
  spec: S,
  status: T,
) {
  return z.strictObject({
    apiVersion: z.literal(GROUP_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
}
