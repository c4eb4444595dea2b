import { ParseError } from "../errors.js";
import { isRecord, parseJson, str } from "../json.js";

/**
 * `pip list --outdated --format=json`: `[{"name","version","latest_version","latest_filetype"}]`;
 * `pip list --format=json`: `[{"name","version"}]` (pip src/pip/_internal/commands/list.py
 * format_for_json). `pip install --dry-run --report -`: `{"install":[{"metadata":{"name","version"}}]}`
 * (pip docs, "Installation Report", version 1).
 */

export interface PipRow {
  name: string;
  version: string;
  latest?: string;
}

export function parsePipList(text: string, command: string): PipRow[] {
  const data = parseJson("pip", command, text, []);
  if (!Array.isArray(data)) throw new ParseError("pip", command, text, "it is not a JSON array");
  return data.map((row): PipRow => {
    const name = isRecord(row) ? str(row.name) : undefined;
    const version = isRecord(row) ? str(row.version) : undefined;
    if (!name || !version) throw new ParseError("pip", command, text, "a row has no name or version");
    const latest = isRecord(row) ? str(row.latest_version) : undefined;
    return latest === undefined ? { name, version } : { name, version, latest };
  });
}

export function parseInstallReport(text: string, command: string): { name: string; version: string }[] {
  const data = parseJson("pip", command, text);
  if (!isRecord(data) || !Array.isArray(data.install))
    throw new ParseError("pip", command, text, "no `install` list in the report");
  return data.install.map((item) => {
    const meta = isRecord(item) && isRecord(item.metadata) ? item.metadata : undefined;
    const name = meta ? str(meta.name) : undefined;
    const version = meta ? str(meta.version) : undefined;
    if (!name || !version)
      throw new ParseError("pip", command, text, "an install entry has no metadata name/version");
    return { name, version };
  });
}

/** pip compares names after PEP 503 normalisation (`Flask_Login` is `flask-login`). */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}
