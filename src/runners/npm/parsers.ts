import { ParseError } from "../errors.js";
import { isRecord, parseJson, str } from "../json.js";

/**
 * `npm outdated --json --long`: `{name: {current, wanted, latest, dependent, location, type}}`, `{}`
 * when nothing is outdated; `current` is absent for a dependency that is not installed (npm
 * lib/commands/outdated.js). `npm ls --json --depth=0`: `{name, version, dependencies: {name:
 * {version}}}` (lib/commands/ls.js).
 */

export interface OutdatedRow {
  name: string;
  current?: string;
  wanted?: string;
  latest?: string;
  dev: boolean;
}

export function parseNpmOutdated(text: string, command: string): OutdatedRow[] {
  const data = parseJson("npm", command, text, {});
  if (!isRecord(data)) throw new ParseError("npm", command, text, "it is not a JSON object");
  if (isRecord(data.error))
    throw new ParseError("npm", command, text, `npm reported ${str(data.error.code) ?? "an error"}`);
  return Object.entries(data).map(([name, v]) => {
    // With workspaces one name may appear as an array of rows; the first is the root project's.
    const row = Array.isArray(v) ? (v[0] as unknown) : v;
    if (!isRecord(row)) throw new ParseError("npm", command, text, `the entry for ${name} is not an object`);
    const r: OutdatedRow = { name, dev: row.type === "devDependencies" };
    const current = str(row.current);
    const wanted = str(row.wanted);
    const latest = str(row.latest);
    if (current) r.current = current;
    if (wanted) r.wanted = wanted;
    if (latest) r.latest = latest;
    return r;
  });
}

export function parseNpmLs(text: string, command: string): Map<string, string> {
  const data = parseJson("npm", command, text);
  if (!isRecord(data)) throw new ParseError("npm", command, text, "it is not a JSON object");
  const deps = isRecord(data.dependencies) ? data.dependencies : {};
  const out = new Map<string, string>();
  for (const [name, d] of Object.entries(deps)) {
    const v = isRecord(d) ? str(d.version) : undefined;
    if (v) out.set(name, v);
  }
  return out;
}
