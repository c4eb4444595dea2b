import type { z } from "zod";

/**
 * A cross-field rule, enforced twice from one declaration: by zod when Refit loads an object, and by
 * the Kubernetes API server through the CEL expression that CRD generation copies into
 * `x-kubernetes-validations`. Keep `check` and `rule` saying the same thing.
 */
export interface CelRule<T> {
  /** CEL over `self` (the object the rule is attached to). */
  rule: string;
  message: string;
  /** The field the error is about, relative to `self`, for both zod (`path`) and CEL (`fieldPath`). */
  field?: string;
  check: (value: T) => boolean;
}

const VALIDATIONS = "x-kubernetes-validations";

interface KubeValidation {
  rule: string;
  message: string;
  fieldPath?: string;
}

function existingValidations(schema: z.ZodType): KubeValidation[] {
  const meta = schema.meta();
  const value = meta?.[VALIDATIONS];
  return Array.isArray(value) ? (value as KubeValidation[]) : [];
}

export function withRules<T extends z.ZodType>(schema: T, rules: CelRule<z.output<T>>[]): T {
  const validations = [...existingValidations(schema)];
  let refined: T = schema;
  for (const r of rules) {
    const path = r.field ? r.field.split(".") : [];
    refined = refined.refine((v: z.output<T>) => r.check(v), { message: r.message, path });
    validations.push(
      r.field
        ? { rule: r.rule, message: r.message, fieldPath: `.${r.field}` }
        : { rule: r.rule, message: r.message },
    );
  }
  return refined.meta({ [VALIDATIONS]: validations });
}
