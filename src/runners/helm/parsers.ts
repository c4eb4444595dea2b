import { ParseError } from "../errors.js";
import { isRecord, parseJson, str } from "../json.js";

/**
 * `helm list --all-namespaces --output json` (helm pkg/cmd/list.go): `[{name, namespace, revision,
 * updated, status, chart: "<chart>-<version>", app_version}]`. `helm show chart`: the Chart.yaml,
 * whose top-level `name:` and `version:` say what an upgrade would install.
 */
export interface HelmListRow {
  name: string;
  namespace: string;
  chart: string;
}

export function parseHelmList(text: string): HelmListRow[] {
  const cmd = "helm list -A -o json";
  const d = parseJson("helm", cmd, text, []);
  if (!Array.isArray(d)) throw new ParseError("helm", cmd, text, "it is not a JSON array");
  return d.map((r) => {
    const row = isRecord(r)
      ? { name: str(r.name), namespace: str(r.namespace), chart: str(r.chart) }
      : undefined;
    if (!row?.name || !row.namespace || !row.chart)
      throw new ParseError("helm", cmd, text, "a release has no name, namespace or chart");
    return { name: row.name, namespace: row.namespace, chart: row.chart };
  });
}

export function parseChartYaml(text: string, command: string): { name: string; version: string } {
  const field = (k: string): string | undefined =>
    new RegExp(`^${k}:\\s*["']?([^"'\\s]+)["']?\\s*$`, "m").exec(text)?.[1];
  const name = field("name");
  const version = field("version");
  if (!name || !version) throw new ParseError("helm", command, text, "no top-level name and version");
  return { name, version };
}

/** `nginx-15.3.0` with chart name `nginx` → `15.3.0`. */
export function chartVersion(chartField: string, chartName: string): string | undefined {
  return chartField.startsWith(`${chartName}-`) ? chartField.slice(chartName.length + 1) : undefined;
}
