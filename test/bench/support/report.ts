/**
 * What a benchmark returns and how the runner prints it. Verdicts are printed, never asserted: a
 * benchmark exits non-zero only when it crashes.
 */

/** `PASS`/`FAIL` against a hard bound; `GOAL MET`/`BELOW GOAL` against a performance goal. */
export type Verdict = "PASS" | "FAIL" | "GOAL MET" | "BELOW GOAL" | "INFO";

export interface BenchRow {
  readonly name: string;
  /** The measured figure, formatted with its unit. */
  readonly value: string;
  /** The bound or baseline it is compared with, formatted (e.g. `= 20`, `≤ 8`, `1 node: 41 ms`). */
  readonly bound: string;
  /** measured / bound (or baseline / measured for a speed-up); undefined when there is nothing to divide. */
  readonly ratio?: number;
  readonly verdict: Verdict;
}

export interface BenchReport {
  readonly title: string;
  readonly rows: readonly BenchRow[];
  /** Free-text lines printed under the table (setup, what the figures mean). */
  readonly notes?: readonly string[];
}

/** A benchmark module: test/bench/<name>.bench.ts exports `run`. */
export interface BenchModule {
  run(): Promise<BenchReport>;
}

export function countRow(name: string, value: number, op: "=" | "≤", bound: number): BenchRow {
  const ok = op === "=" ? value === bound : value <= bound;
  return {
    name,
    value: String(value),
    bound: `${op} ${bound}`,
    ratio: value / bound,
    verdict: ok ? "PASS" : "FAIL",
  };
}

export function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`;
}

export function formatReport(report: BenchReport): string[] {
  const header = ["benchmark", "value", "bound / baseline", "ratio", "verdict"];
  const cells = report.rows.map((r) => [
    r.name,
    r.value,
    r.bound,
    r.ratio === undefined || !Number.isFinite(r.ratio) ? "-" : `${r.ratio.toFixed(2)}x`,
    r.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]): string =>
    c.map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join("  ");
  return [
    `== ${report.title}`,
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
    ...(report.notes ?? []).map((n) => `   ${n}`),
  ];
}
