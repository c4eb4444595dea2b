import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";

/** One line of a target's history: a step that happened, with what proves it. */
export interface HistoryEntry {
  at: string;
  plan: string;
  cycle?: string;
  phase: string;
  step: string;
  outcome: "started" | "done" | "failed" | "skipped" | "blocked";
  message?: string;
  [key: string]: unknown;
}

/** JSON-lines history per target (e.g. a node or a container) in the state directory. */
export class History {
  constructor(private readonly dir: string) {}

  pathFor(kind: string, target: string): string {
    return join(this.dir, "history", kind, `${target.replace(/[^A-Za-z0-9_.-]/g, "_")}.jsonl`);
  }

  async append(kind: string, target: string, entry: HistoryEntry): Promise<void> {
    const path = this.pathFor(kind, target);
    await mkdir(join(this.dir, "history", kind), { recursive: true });
    await appendFile(path, `${JSON.stringify(entry)}\n`);
  }
}
