import { isRecord, parseJson, str } from "../json.js";

/**
 * `go version -m DIR` (cmd/go/internal/version): for each binary `PATH: go1.22.2`, then
 * tab-indented `path <pkg>`, `mod <module> <version> <sum>`, `dep …`, `build …` lines.
 * `go list -m -json MOD@latest`: `{"Path": …, "Version": "v0.16.1", …}`.
 */
export interface GoBinary {
  file: string;
  path: string;
  module: string;
  version: string;
}

export function parseGoVersionM(text: string): GoBinary[] {
  const out: GoBinary[] = [];
  let cur: Partial<GoBinary> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const head = /^(\S.*): go\S+$/.exec(line);
    if (head?.[1]) {
      cur = { file: head[1] };
      continue;
    }
    const f = line.trim().split("\t");
    if (!cur) continue;
    if (f[0] === "path" && f[1]) cur.path = f[1];
    if (f[0] === "mod" && f[1] && f[2]) {
      cur.module = f[1];
      cur.version = f[2];
      if (cur.path) out.push(cur as GoBinary);
    }
  }
  return out;
}

export function parseGoListLatest(text: string): string | undefined {
  const d = parseJson("go", "go list -m -json", text, {});
  return isRecord(d) ? str(d.Version) : undefined;
}
