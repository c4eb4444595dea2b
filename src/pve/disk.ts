import { unparseable, type ParseContext } from "./errors.js";

/**
 * POSIX output format with 1-byte blocks: one header line and one line per file system, never
 * wrapped (-P), sizes in bytes (-B1, GNU df).
 */
export const DF_ROOT_ARGV = ["df", "-P", "-B1", "/"] as const;

export interface DiskUsage {
  readonly filesystem: string;
  readonly mountpoint: string;
  readonly sizeBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
  /** df's Capacity column: used / (used + available), rounded up, in percent. */
  readonly usedPercent: number;
  readonly freeGiB: number;
}

const GIB = 1024 ** 3;

/**
 * Parses `df -P -B1 <path>`:
 *
 *     Filesystem         1-blocks        Used   Available Capacity Mounted on
 *     rpool/ROOT/pve-1 100861181952 5398265856 95462916096       6% /
 *
 * Columns are read from the right of the data line, so a file system name with spaces still parses.
 */
export function parseDfPosix(text: string, ctx?: ParseContext): DiskUsage {
  const cmd = DF_ROOT_ARGV.join(" ");
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length !== 2 || !/^Filesystem\s/.test(lines[0] ?? "")) {
    unparseable(ctx, cmd, text, "expected a header line and one file system line");
  }
  const m = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|-)%?\s+(\/.*)$/.exec((lines[1] ?? "").trim());
  if (!m)
    unparseable(ctx, cmd, text, "the file system line is not `fs size used available capacity% mountpoint`");
  const size = Number(m[2]);
  const used = Number(m[3]);
  const avail = Number(m[4]);
  const capacity = m[5] === "-" || m[5] === undefined ? undefined : Number(m[5]);
  const percent = capacity ?? (used + avail > 0 ? Math.ceil((used * 100) / (used + avail)) : 0);
  return {
    filesystem: m[1] ?? "",
    mountpoint: m[6] ?? "",
    sizeBytes: size,
    usedBytes: used,
    availableBytes: avail,
    usedPercent: percent,
    freeGiB: avail / GIB,
  };
}
