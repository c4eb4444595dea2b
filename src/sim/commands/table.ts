/**
 * Column alignment the way coreutils `df` prints tables: every column padded to its widest cell,
 * text columns left-aligned, numbers right-aligned, one space between columns, the last column
 * not padded.
 */
export function alignTable(rows: string[][], rightAligned: boolean[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => {
          if (i === r.length - 1) return rightAligned[i] ? c.padStart(widths[i]!) : c;
          return rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
        })
        .join(" ")
        .concat("\n"),
    )
    .join("");
}
