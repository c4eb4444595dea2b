/** One problem found in desired state, located in its file. */
export interface LoadIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** `Kind/name` of the object, when known. */
  object?: string;
  /** Dotted field path such as `spec.reboot.policy` or `spec.runners[2].type`, when known. */
  field?: string;
  message: string;
}

/** `path/to/file.yaml:LINE:COL: Kind/name spec.x.y: what is wrong (expected …, got …)` */
export function formatIssue(issue: LoadIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}:`;
  const what = [issue.object, issue.field ? `${issue.field}:` : undefined].filter(Boolean).join(" ");
  return what
    ? `${where} ${what.endsWith(":") ? what : `${what}:`} ${issue.message}`
    : `${where} ${issue.message}`;
}

/** `spec.runners[2].type` from `["spec", "runners", 2, "type"]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}
