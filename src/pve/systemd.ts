import { unitName } from "./args.js";
import { unparseable, type ParseContext } from "./errors.js";

export function isActiveArgv(units: readonly string[]): string[] {
  return ["systemctl", "is-active", ...units.map(unitName)];
}

export function isEnabledArgv(units: readonly string[]): string[] {
  return ["systemctl", "is-enabled", ...units.map(unitName)];
}

const STATE = /^[a-z][a-z-]*$/;
const FAILED_STATE = /^Failed to get unit file state for /;

/**
 * Parses `systemctl is-active a b c`: one state per unit, in order ("active", "inactive", "failed",
 * "activating", ...). The exit code is non-zero when any unit is not active, so it says nothing about
 * which; only the lines do. An unknown unit prints "inactive".
 */
export function parseIsActive(
  units: readonly string[],
  stdout: string,
  ctx?: ParseContext,
): Record<string, string> {
  const lines = stdout.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length !== units.length || !lines.every((l) => STATE.test(l.trim()))) {
    unparseable(
      ctx,
      `systemctl is-active ${units.join(" ")}`,
      stdout,
      `expected ${units.length} state line(s)`,
    );
  }
  return Object.fromEntries(units.map((u, i) => [u, (lines[i] ?? "").trim()]));
}

/**
 * Parses `systemctl is-enabled a b c`: one state per unit ("enabled", "disabled", "static",
 * "masked", "not-found", ...). For a missing unit, older systemctl prints `Failed to get unit file
 * state for X: No such file or directory` on stderr and stops; that unit is "not-found" and the
 * ones after it, never asked, are "unknown" (so no gate reads them as enabled).
 */
export function parseIsEnabled(
  units: readonly string[],
  stdout: string,
  stderr: string,
  ctx?: ParseContext,
): Record<string, string> {
  const all = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  // In a batch step stderr is merged into the output; put systemctl's complaint back where it belongs.
  const lines = all.filter((l) => !FAILED_STATE.test(l));
  const complaints = [stderr, ...all.filter((l) => FAILED_STATE.test(l))].join("\n");
  if (lines.length > units.length || !lines.every((l) => STATE.test(l))) {
    unparseable(
      ctx,
      `systemctl is-enabled ${units.join(" ")}`,
      stdout,
      `expected ${units.length} state line(s)`,
    );
  }
  const out: Record<string, string> = {};
  units.forEach((u, i) => {
    const line = lines[i];
    if (line !== undefined) out[u] = line;
    else if (
      i === lines.length &&
      new RegExp(`Failed to get unit file state for ${escapeRe(u)}`).test(complaints)
    )
      out[u] = "not-found";
    else out[u] = "unknown";
  });
  if (lines.length < units.length && out[units[lines.length] ?? ""] !== "not-found") {
    unparseable(
      ctx,
      `systemctl is-enabled ${units.join(" ")}`,
      `${stdout}\n${complaints}`,
      `expected ${units.length} state line(s)`,
    );
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
