import { unparseable, type ParseContext } from "./errors.js";

export const PVEVERSION_ARGV = ["pveversion"] as const;

export interface PveVersion {
  /** pve-manager version, e.g. "8.4.1". */
  readonly version: string;
  /** pve-manager build hash. */
  readonly build: string | undefined;
  /** Kernel pveversion reports as running (it reads uname). */
  readonly runningKernel: string | undefined;
  readonly major: number;
}

/** Parses `pveversion`: `pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)`. */
export function parsePveVersion(text: string, ctx?: ParseContext): PveVersion {
  const m = /^pve-manager\/(\d+)([^/\s]*)(?:\/(\S+))?(?:\s+\(running kernel: ([^)\s]+)\))?/m.exec(
    text.trim(),
  );
  if (!m?.[1]) unparseable(ctx, PVEVERSION_ARGV.join(" "), text, "expected `pve-manager/<version>/<build>`");
  return { version: `${m[1]}${m[2] ?? ""}`, build: m[3], runningKernel: m[4], major: Number(m[1]) };
}
