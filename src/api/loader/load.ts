import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, isAbsolute } from "node:path";
import { isKindName, KIND_NAMES, KINDS, type KindName, type RefitObject } from "../kinds.js";
import { GROUP_VERSION } from "../version.js";
import { fieldPath, formatIssue, type LoadIssue } from "./issue.js";
import { checkOverlaps, checkReferences, type ObjectView } from "./references.js";
import { parseYamlFile, type SourceDocument } from "./yaml-source.js";
import { explainIssues, type FieldProblem } from "./zod-issues.js";

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
  /** 0-based index of the YAML document in its file. */
  document: number;
}

export interface LoadedObject {
  kind: KindName;
  name: string;
  namespace: string;
  /** The object with defaults applied. */
  object: RefitObject;
  source: SourceLocation;
}

export interface LoadResult {
  /** Objects with no problem at all; an object with any problem is left out. */
  objects: LoadedObject[];
  issues: LoadIssue[];
  files: string[];
}

export interface SourceFile {
  /** The path shown in messages. */
  path: string;
  text: string;
}

interface Candidate {
  doc: SourceDocument;
  label: string;
  kind?: KindName;
  name?: string;
  namespace: string;
  parsed?: RefitObject;
  problems: FieldProblem[];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function examine(doc: SourceDocument): Candidate {
  const value = doc.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      doc,
      label: "",
      namespace: "",
      problems: [
        {
          path: [],
          message: `expected an object with apiVersion, kind, metadata and spec, got ${Array.isArray(value) ? "a list" : JSON.stringify(value)}`,
        },
      ],
    };
  }
  const v = value as Record<string, unknown>;
  const meta = (typeof v.metadata === "object" && v.metadata !== null ? v.metadata : {}) as Record<
    string,
    unknown
  >;
  const name = str(meta.name);
  const namespace = str(meta.namespace) ?? "";
  const kindText = str(v.kind);
  const label = `${kindText ?? "<no kind>"}/${name ?? "<unnamed>"}`;
  const c: Candidate = { doc, label, name, namespace, problems: [] };
  if (v.apiVersion !== GROUP_VERSION) {
    c.problems.push({
      path: ["apiVersion"],
      message: `unsupported apiVersion (expected ${GROUP_VERSION}, got ${v.apiVersion === undefined ? "nothing" : JSON.stringify(v.apiVersion)})`,
    });
  }
  if (!isKindName(kindText)) {
    c.problems.push({
      path: ["kind"],
      message: `unknown kind (expected one of ${KIND_NAMES.filter((k) => !KINDS[k].child).join(", ")}, got ${kindText === undefined ? "nothing" : JSON.stringify(kindText)})`,
    });
    return c;
  }
  c.kind = kindText;
  if (KINDS[kindText].child) {
    c.problems.push({
      path: ["kind"],
      message: `${kindText} objects are made by the controller, one per target of a plan; declare the plan instead`,
    });
    return c;
  }
  if (c.problems.length > 0) return c;
  const schema = KINDS[kindText].schema;
  const result = schema.safeParse(value);
  if (result.success) c.parsed = result.data;
  else c.problems.push(...explainIssues(schema, value, result.error.issues));
  return c;
}

/** Validates desired-state files already read into memory. Every problem is reported at once. */
export function loadSources(files: readonly SourceFile[]): LoadResult {
  const issues: LoadIssue[] = [];
  const candidates: Candidate[] = [];
  for (const f of files) {
    const { documents, problems } = parseYamlFile(f.path, f.text);
    for (const p of problems)
      issues.push({ file: f.path, ...p.position, message: `YAML syntax error: ${p.message}` });
    for (const doc of documents) candidates.push(examine(doc));
  }

  // Duplicates: both copies are refused, since either may be the one the author meant.
  const byKey = new Map<string, Candidate>();
  for (const c of candidates) {
    if (!c.kind || !c.name) continue;
    const k = `${c.kind}/${c.namespace}/${c.name}`;
    const first = byKey.get(k);
    if (!first) {
      byKey.set(k, c);
      continue;
    }
    const at = (x: Candidate): string => {
      const p = x.doc.locate(["metadata", "name"]);
      return `${x.doc.file}:${p.line}:${p.col}`;
    };
    c.problems.push({
      path: ["metadata", "name"],
      message: `duplicate object: ${c.kind}/${c.name} is also defined at ${at(first)}`,
    });
    first.problems.push({
      path: ["metadata", "name"],
      message: `duplicate object: ${c.kind}/${c.name} is also defined at ${at(c)}`,
    });
  }

  const views: ObjectView[] = candidates
    .filter((c) => c.parsed && c.problems.length === 0)
    .map((c) => ({
      kind: c.kind ?? "",
      name: c.name ?? "",
      namespace: c.namespace,
      spec: (c.parsed as { spec: Record<string, unknown> }).spec,
      report: (p: FieldProblem) => c.problems.push(p),
    }));
  checkReferences(views, (kind, ns, name) => byKey.has(`${kind}/${ns}/${name}`));
  checkOverlaps(views);

  const objects: LoadedObject[] = [];
  for (const c of candidates) {
    for (const p of c.problems) {
      const pos = c.doc.locate(p.path, { key: p.atKey });
      issues.push({
        file: c.doc.file,
        ...pos,
        ...(c.label ? { object: c.label } : {}),
        ...(p.path.length ? { field: fieldPath(p.path) } : {}),
        message: p.message,
      });
    }
    if (c.problems.length === 0 && c.parsed && c.kind && c.name) {
      objects.push({
        kind: c.kind,
        name: c.name,
        namespace: c.namespace,
        object: c.parsed,
        source: { file: c.doc.file, line: c.doc.start.line, col: c.doc.start.col, document: c.doc.index },
      });
    }
  }
  issues.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  return { objects, issues, files: files.map((f) => f.path) };
}

const SKIP_DIRS = new Set(["node_modules", ".git"]);

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith(".") || SKIP_DIRS.has(e.name)) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await yamlFiles(full)));
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(full);
  }
  return out.sort();
}

/** How a path is shown: relative to the working directory when it lies below it. */
export function displayPath(p: string, cwd = process.cwd()): string {
  const rel = relative(cwd, p);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : p;
}

/** Reads every *.yaml / *.yml under `dir` (recursively, skipping dot-folders) and validates it. */
export async function loadDesiredState(dir: string): Promise<LoadResult> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    return {
      objects: [],
      files: [],
      issues: [
        {
          file: displayPath(dir),
          line: 1,
          col: 1,
          message: "not a directory: give the desired-state directory (e.g. desired-state/)",
        },
      ],
    };
  }
  const paths = await yamlFiles(dir);
  const files = await Promise.all(
    paths.map(async (p) => ({ path: displayPath(p), text: await readFile(p, "utf8") })),
  );
  return loadSources(files);
}

export { formatIssue };
