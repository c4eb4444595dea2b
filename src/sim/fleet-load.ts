import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { TerminalError } from "../errors.js";
import { fleetSchema, type Fleet, type FleetInput } from "./fleet-schema.js";

export const SimReason = {
  InvalidFleet: "InvalidFleet",
  FleetUnreadable: "FleetUnreadable",
} as const;

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out.length === 0 ? String(p) : `.${String(p)}`;
  }
  return out.length === 0 ? "(top level)" : out;
}

/** The 1-based line of the YAML node at `path`, or of its closest existing parent. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

function issuesToMessage(
  issues: readonly z.core.$ZodIssue[],
  where: (path: readonly PropertyKey[]) => string,
): string {
  return issues
    .slice(0, 20)
    .map((i) => `${where(i.path)}${formatPath(i.path)}: ${i.message}`)
    .join("; ");
}

/** Validates a fleet given as an object; errors name each offending field. */
export function parseFleet(input: unknown, source = "fleet"): Fleet {
  const res = fleetSchema.safeParse(input);
  if (!res.success)
    throw new TerminalError(
      SimReason.InvalidFleet,
      `The simulator fleet ${source} is invalid: ${issuesToMessage(res.error.issues, () => "")}. Fix the named fields and start the simulator again.`,
      { source },
    );
  return res.data;
}

/** Reads and validates a fleet YAML file; errors name the file, line and field. */
export function loadFleetFile(path: string): Fleet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new TerminalError(
      SimReason.FleetUnreadable,
      `Cannot read the simulator fleet file ${path}: ${e instanceof Error ? e.message : String(e)}. Check the path.`,
      { path },
      { cause: e },
    );
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new TerminalError(
      SimReason.InvalidFleet,
      `The simulator fleet file ${path}${line ? `:${line}` : ""} is not valid YAML: ${first.message.split("\n")[0]}. Fix the syntax and start again.`,
      { path },
    );
  }
  const res = fleetSchema.safeParse(doc.toJS());
  if (!res.success) {
    const message = issuesToMessage(res.error.issues, (p) => {
      const line = lineOf(doc, counter, p);
      return line ? `${path}:${line}: ` : `${path}: `;
    });
    throw new TerminalError(
      SimReason.InvalidFleet,
      `The simulator fleet is invalid: ${message}. Fix the named fields and start the simulator again.`,
      { path },
    );
  }
  return res.data;
}

export function loadFleet(fleet: string | FleetInput): Fleet {
  return typeof fleet === "string" ? loadFleetFile(fleet) : parseFleet(fleet);
}
