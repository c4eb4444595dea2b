/** Time stamps as the real tools print them. The simulated hosts run in UTC. */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const p2 = (n: number): string => String(n).padStart(2, "0");

function parts(ms: number): {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  wd: number;
} {
  const t = new Date(ms);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth(),
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
    wd: t.getUTCDay(),
  };
}

/** `2025-01-14 10:00:00` (task logs, listsnapshot). */
export function isoLocal(ms: number): string {
  const t = parts(ms);
  return `${t.y}-${p2(t.mo + 1)}-${p2(t.d)} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}`;
}

/** `Tue 2025-01-14 10:00:00 UTC` (systemctl show timestamps). */
export function systemdTimestamp(ms: number): string {
  return `${DAYS[parts(ms).wd]} ${isoLocal(ms)} UTC`;
}

/** `Jan 14 10:00:00` (journalctl short output). */
export function syslogTime(ms: number): string {
  const t = parts(ms);
  return `${MONTHS[t.mo]} ${p2(t.d)} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}`;
}

/** `Tue Jan 14 10:00:00 2025` (corosync-quorumtool Date). */
export function ctime(ms: number): string {
  const t = parts(ms);
  return `${DAYS[t.wd]} ${MONTHS[t.mo]} ${String(t.d).padStart(2, " ")} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)} ${t.y}`;
}

/** `Tue Jan 14 10:00:00 UTC 2025` (date). */
export function dateOutput(ms: number): string {
  const t = parts(ms);
  return `${DAYS[t.wd]} ${MONTHS[t.mo]} ${String(t.d).padStart(2, " ")} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)} UTC ${t.y}`;
}

/** `00:01:30` (durations in task logs). */
export function hms(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${p2(Math.floor(s / 3600))}:${p2(Math.floor((s % 3600) / 60))}:${p2(s % 60)}`;
}

/** `2025_01_14-10_00_00` (vzdump archive names). */
export function vzdumpStamp(ms: number): string {
  const t = parts(ms);
  return `${t.y}_${p2(t.mo + 1)}_${p2(t.d)}-${p2(t.h)}_${p2(t.mi)}_${p2(t.s)}`;
}
