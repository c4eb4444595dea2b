/**
 * Reading what systemd prints, and writing what systemd reads. Formats are systemd's own:
 * `systemctl show` prints `Key=value` lines (value empty when unset, timestamps as
 * `Thu 2024-03-14 10:21:03 UTC`); journal lines from PID 1 about a unit read
 * `<unit>: Failed with result '<result>'.` / `<unit>: Deactivated successfully.`.
 */

export type SystemdProperties = Record<string, string>;

/** `Key=value` lines; the value is everything after the first `=` (values may contain `=`). */
export function parseSystemctlShow(text: string): SystemdProperties {
  const props: SystemdProperties = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    props[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return props;
}

const TIMESTAMP =
  /^(?:[A-Z][a-z]{2} )?(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: (\S+))?$/;

/**
 * Epoch milliseconds of a systemd timestamp, or undefined when it is unset (`""`, `n/a`) or in a
 * zone that an abbreviation cannot pin down. Refit asks for UTC (`TZ=UTC systemctl show …`), so in
 * practice the zone is `UTC`; numeric zones (`+01`, `-0530`) are what strftime prints for zones
 * without an abbreviation.
 */
export function parseSystemdTimestamp(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let offsetMinutes: number;
  if (zone === undefined || zone === "UTC" || zone === "GMT" || zone === "Z") offsetMinutes = 0;
  else {
    const z = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(zone);
    if (!z) return undefined;
    offsetMinutes = (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  }
  const ms = Number((frac ?? "").padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  return utc - offsetMinutes * 60_000;
}

/**
 * Escapes one ExecStart argument so systemd passes it through unchanged. systemd expands `${NAME}`
 * and turns `$$` into `$` inside arguments, and replaces an argument that is exactly `$NAME`; no
 * other `$` is touched. So only a `$` that would start one of those forms is doubled, and an argument
 * without such a `$` (the common case, including `$?`) is left byte for byte as it was.
 */
export function escapeExecStartArg(arg: string): string {
  let out = "";
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i];
    const next = arg[i + 1];
    if (c === "$" && (next === "$" || next === "{" || i === 0)) out += "$$";
    else out += c;
  }
  return out;
}

/** The result systemd logged for the unit in its journal (`Failed with result 'timeout'.` → `timeout`). */
export function journalUnitResult(lines: readonly string[], unit: string): string | undefined {
  let result: string | undefined;
  const failed = `${unit}: Failed with result '`;
  for (const line of lines) {
    if (line.startsWith(failed)) result = line.slice(failed.length).replace(/'\.?$/, "");
    else if (line === `${unit}: Deactivated successfully.` || line === `${unit}: Succeeded.`)
      result = "success";
  }
  return result;
}
