/**
 * Where a guest update cycle's time goes: per phase, the mean simulated seconds the containers spent
 * in it, read from the GuestUpdate histories the controller wrote (STATE/history/GuestUpdate/*.jsonl;
 * each line carries the phase the container is in after that step). A phase lasts from its first
 * line to the first line of the phase after it; Preflight starts at the child's startedAt.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StoredObject } from "../../../controller/runtime/state-reader.js";

export const FLOW_PHASES = ["Preflight", "BackingUp", "Baseline", "Updating", "Restarting", "Verifying"];

interface Line {
  at: string;
  vmid: number;
  phase: string;
}

function linesOf(file: string): Line[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
}

/** The first time each phase was entered, for one container. */
function entered(lines: readonly Line[], startedAt: number): Map<string, number> {
  const first = new Map<string, number>([["Preflight", startedAt]]);
  for (const l of lines) if (!first.has(l.phase)) first.set(l.phase, Date.parse(l.at));
  return first;
}

/** Mean seconds per phase over the containers that went through it and the one after. */
export function phaseMeans(state: string, children: readonly StoredObject[]): Record<string, number> {
  const dir = join(state, "history", "GuestUpdate");
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
  } catch {
    return {};
  }
  const startOf = new Map(
    children.map((c) => [Number(c.spec.vmid), Date.parse(String(c.status?.startedAt))]),
  );
  const sums = new Map<string, { s: number; n: number }>();
  for (const f of files) {
    const lines = linesOf(join(dir, f));
    const start = startOf.get(lines[0]?.vmid ?? NaN);
    if (start === undefined || !Number.isFinite(start)) continue;
    const first = entered(lines, start);
    const order = [...FLOW_PHASES, "Succeeded"];
    for (let i = 0; i < FLOW_PHASES.length; i++) {
      const a = first.get(order[i]!);
      const b = first.get(order[i + 1]!);
      if (a === undefined || b === undefined) continue;
      const acc = sums.get(order[i]!) ?? { s: 0, n: 0 };
      sums.set(order[i]!, { s: acc.s + (b - a) / 1000, n: acc.n + 1 });
    }
  }
  return Object.fromEntries([...sums].map(([p, { s, n }]) => [p, s / n]));
}
