import { offsetMs, wallMs, wallFields } from "./zone.js";

/** Human-readable times and durations for gate messages. */

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** `2026-03-28 01:00 Europe/Berlin (UTC+01:00)`: the wall time a user would read on a clock there. */
export function formatInZone(epochMs: number, timeZone: string): string {
  const f = wallFields(wallMs(timeZone, epochMs));
  const offset = Math.round(offsetMs(timeZone, epochMs) / 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const seconds = f.second === 0 ? "" : `:${pad(f.second)}`;
  return (
    `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}${seconds} ` +
    `${timeZone} (UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)})`
  );
}

/** `2026-03-28T00:00:00.000Z (2026-03-28 01:00 Europe/Berlin (UTC+01:00))`. */
export function formatInstant(epochMs: number, timeZone: string): string {
  const iso = new Date(epochMs).toISOString();
  return timeZone === "UTC" ? iso : `${iso} (${formatInZone(epochMs, timeZone)})`;
}

/** `1h30m`, `45s`, `2d3h`: the duration syntax the API accepts, largest units first. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ];
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
