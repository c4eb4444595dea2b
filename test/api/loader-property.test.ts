import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIssue, loadSources, type SourceFile } from "../../src/api/loader/load.js";
import { EXAMPLE_DIR } from "../support/desired.js";

const example: SourceFile[] = readdirSync(EXAMPLE_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => ({ path: `desired-state/${f}`, text: readFileSync(join(EXAMPLE_DIR, f), "utf8") }));

const NOISE = [
  ":",
  "-",
  " ",
  '"',
  "'",
  "[",
  "]",
  "{",
  "}",
  "#",
  "\t",
  "&",
  "*",
  "!",
  "|",
  ">",
  "0",
  "x",
  "\n",
  "---",
  "~",
  "null",
];

type Mutation =
  | { op: "deleteLine"; at: number }
  | { op: "duplicateLine"; at: number }
  | { op: "swapLines"; at: number; with: number }
  | { op: "replaceChar"; at: number; by: string }
  | { op: "insert"; at: number; text: string }
  | { op: "indent"; at: number; by: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("deleteLine" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("duplicateLine" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("swapLines" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant("replaceChar" as const), at: fc.nat(), by: fc.constantFrom(...NOISE) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...NOISE), fc.string({ maxLength: 8 })),
  }),
  fc.record({ op: fc.constant("indent" as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function apply(text: string, m: Mutation): string {
  const lines = text.split("\n");
  const i = m.at % Math.max(1, lines.length);
  switch (m.op) {
    case "deleteLine":
      lines.splice(i, 1);
      return lines.join("\n");
    case "duplicateLine":
      lines.splice(i, 0, lines[i] ?? "");
      return lines.join("\n");
    case "swapLines": {
      const j = m.with % Math.max(1, lines.length);
      const a = lines[i] ?? "";
      lines[i] = lines[j] ?? "";
      lines[j] = a;
      return lines.join("\n");
    }
    case "indent": {
      const line = lines[i] ?? "";
      lines[i] = m.by >= 0 ? " ".repeat(m.by) + line : line.replace(new RegExp(`^ {0,${-m.by}}`), "");
      return lines.join("\n");
    }
    case "replaceChar": {
      const at = m.at % Math.max(1, text.length);
      return text.slice(0, at) + m.by + text.slice(at + 1);
    }
    case "insert": {
      const at = m.at % Math.max(1, text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
  }
}

const ISSUE = /^(desired-state\/[a-z-]+\.yaml):(\d+):(\d+): (\S+\/\S+ )?(\S+: )?.+$/s;

describe("loader under random mutations of the example desired state", () => {
  it("never crashes, and yields valid objects or errors in the documented format", () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (fileIndex, mutations) => {
        const files = example.map((f) => ({ ...f }));
        const target = files[fileIndex % files.length]!;
        target.text = mutations.reduce(apply, target.text);
        const result = loadSources(files);
        const lineCounts = new Map(files.map((f) => [f.path, f.text.split("\n").length]));
        for (const issue of result.issues) {
          const text = formatIssue(issue);
          const m = ISSUE.exec(text);
          expect(m, text).not.toBeNull();
          expect(lineCounts.has(issue.file), text).toBe(true);
          expect(issue.line, text).toBeGreaterThanOrEqual(1);
          expect(issue.line, text).toBeLessThanOrEqual((lineCounts.get(issue.file) ?? 0) + 1);
          expect(issue.col, text).toBeGreaterThanOrEqual(1);
        }
        // Files that were not touched still yield their objects, unless the mutation produced a
        // duplicate or took away something they refer to; in every case each object is either
        // valid or named by an issue.
        for (const o of result.objects)
          expect(
            result.issues.some((i) => i.object === `${o.kind}/${o.name}` && i.file === o.source.file),
          ).toBe(false);
        if (result.issues.length === 0) expect(result.objects.length).toBeGreaterThan(0);
      }),
      { numRuns: 400, seed: 20261122 },
    );
  });

  it("leaves untouched files valid when one file becomes unparseable", () => {
    const files = example.map((f) =>
      f.path.endsWith("windows.yaml") ? { ...f, text: f.text + "\n  : : [\n" } : f,
    );
    const result = loadSources(files);
    expect(
      result.issues.every(
        (i) => i.file === "desired-state/windows.yaml" || i.message.includes("MaintenanceWindow/"),
      ),
    ).toBe(true);
    expect(result.objects.some((o) => o.kind === "ProxmoxCluster")).toBe(true);
  });
});
