import type { NotificationEvent } from "./event.js";

/** A detail value longer than this is cut: chat messages have size limits and are read by people. */
const DETAIL_CHARS = 500;

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Cuts text to at most `max` UTF-8 bytes without splitting a character. */
export function boundedBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, "utf8") <= max) return text;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > max - 3) break;
    out += ch;
    bytes += size;
  }
  return `${out}…`;
}

/** `[ERROR] TargetFailed HostPatchPlan/pve-nodes`: ASCII only, so it can travel in an HTTP header. */
export function title(event: NotificationEvent): string {
  return `[${event.severity.toUpperCase()}] ${event.event} ${event.plan.kind}/${event.plan.name}`;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value) && value.every((v) => ["string", "number", "boolean"].includes(typeof v))) {
    return value.map(String).join(", ");
  }
  return JSON.stringify(value) ?? "-";
}

/** Labelled facts of an event, in a fixed order, for the chat services. */
export function facts(event: NotificationEvent): [label: string, value: string][] {
  const out: [string, string][] = [];
  out.push(["Event", event.event]);
  out.push(["Severity", event.severity]);
  out.push(["Plan", `${event.plan.kind}/${event.plan.name}`]);
  if (event.cluster !== undefined) out.push(["Cluster", event.cluster]);
  if (event.hosts.length > 0) out.push(["Hosts", event.hosts.join(", ")]);
  for (const [key, value] of Object.entries(event.details ?? {})) {
    out.push([key, bounded(renderValue(value), DETAIL_CHARS)]);
  }
  out.push(["At", event.at]);
  return out;
}

/** The summary, then one `label: value` line per fact except the ones the title already says. */
export function plainBody(event: NotificationEvent): string {
  const shown = new Set(["Event", "Severity", "Plan"]);
  const lines = facts(event)
    .filter(([label]) => !shown.has(label))
    .map(([label, value]) => `${label}: ${value}`);
  return [event.summary, ...lines].join("\n");
}

export function truncate(text: string, max: number): string {
  return bounded(text, max);
}
