/** Text tables as pvesh prints them for `--output-format text` (the default). */
export function renderText(data: unknown, noborder: boolean, noheader: boolean): string {
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return "";
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return JSON.stringify(v);
  };
  let header: string[];
  let rows: string[][];
  if (Array.isArray(data)) {
    if (data.length === 0) return "";
    const keys = new Set<string>();
    for (const r of data)
      if (r && typeof r === "object") Object.keys(r as object).forEach((k) => keys.add(k));
    header = [...keys].sort();
    rows = data.map((r) => header.map((k) => cell((r as Record<string, unknown>)[k])));
  } else if (data && typeof data === "object") {
    header = ["key", "value"];
    rows = Object.keys(data)
      .sort()
      .map((k) => [k, cell((data as Record<string, unknown>)[k])]);
  } else return `${cell(data)}\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    noborder
      ? `${cells
          .map((c, i) => c.padEnd(widths[i]!))
          .join(" ")
          .trimEnd()}\n`
      : `│ ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" │ ")} │\n`;
  const rule = (l: string, m: string, r: string, f: string): string =>
    `${l}${widths.map((w) => f.repeat(w + 2)).join(m)}${r}\n`;
  let out = "";
  if (!noborder) out += rule("┌", "┬", "┐", "─");
  if (!noheader) {
    out += line(header);
    if (!noborder) out += rule("╞", "╪", "╡", "═");
  }
  rows.forEach((r, i) => {
    out += line(r);
    if (!noborder && i < rows.length - 1) out += rule("├", "┼", "┤", "─");
  });
  if (!noborder) out += rule("└", "┴", "┘", "─");
  return out;
}
