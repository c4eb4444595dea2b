import type { Severity } from "../api/plan-common.js";

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

/** Whether an event of `severity` passes a `minSeverity` filter. */
export function severityAllows(minSeverity: Severity, severity: Severity): boolean {
  return RANK[severity] >= RANK[minSeverity];
}
