import { TerminalError } from "../../errors.js";
import { faultSpecSchema, type FaultInput, type FaultKind, type FaultSpec } from "./schema.js";

export interface ActiveFault {
  readonly id: string;
  readonly spec: FaultSpec;
  fired: number;
}

type Of<K extends FaultKind> = Extract<FaultSpec, { kind: K }>;

/** Compiles a `match` string: `/re/flags` is a regular expression, anything else a substring. */
export function compileMatch(match: string): (line: string) => boolean {
  const re = /^\/(.*)\/([gimsuy]*)$/s.exec(match);
  if (re) {
    const rx = new RegExp(re[1]!, re[2]!.replace("g", ""));
    return (line) => rx.test(line);
  }
  return (line) => line.includes(match);
}

/**
 * The faults in force. Command faults (`dropConnection`, `hang`, `exit`) are matched against each
 * simple command a host runs; the others are looked up by the part of the simulator they affect.
 * A fault with `times` disappears after firing that many times.
 */
export class FaultRegistry {
  private readonly faults = new Map<string, ActiveFault>();
  private seq = 0;
  private readonly listeners = new Set<(change: "added" | "removed", fault: ActiveFault) => void>();

  /** Validates and adds a fault; returns its id (the given `id`, or a generated one). */
  add(input: FaultInput): string {
    const res = faultSpecSchema.safeParse(input);
    if (!res.success) {
      const detail = res.error.issues.map((i) => `${i.path.join(".") || "(fault)"}: ${i.message}`).join("; ");
      throw new TerminalError("InvalidFault", `The fault is invalid: ${detail}. Fix the fault definition.`);
    }
    const id = res.data.id ?? `fault-${++this.seq}`;
    if (this.faults.has(id)) this.remove(id);
    const fault: ActiveFault = { id, spec: res.data, fired: 0 };
    this.faults.set(id, fault);
    for (const l of this.listeners) l("added", fault);
    return id;
  }

  remove(id: string): boolean {
    const f = this.faults.get(id);
    if (!f) return false;
    this.faults.delete(id);
    for (const l of this.listeners) l("removed", f);
    return true;
  }

  clear(): void {
    for (const id of [...this.faults.keys()]) this.remove(id);
  }

  list(): { id: string; spec: FaultSpec; fired: number }[] {
    return [...this.faults.values()].map((f) => ({
      id: f.id,
      spec: structuredClone(f.spec),
      fired: f.fired,
    }));
  }

  onChange(listener: (change: "added" | "removed", fault: ActiveFault) => void): void {
    this.listeners.add(listener);
  }

  /** Finds a fault of one kind without using it up. */
  find<K extends FaultKind>(
    kind: K,
    pred: (spec: Of<K>) => boolean = () => true,
  ): (ActiveFault & { spec: Of<K> }) | undefined {
    for (const f of this.faults.values()) {
      if (f.spec.kind === kind && pred(f.spec as Of<K>)) return f as ActiveFault & { spec: Of<K> };
    }
    return undefined;
  }

  /** Records that a fault fired; removes it when its `times` are used up. */
  fire(fault: ActiveFault): void {
    fault.fired++;
    if (fault.spec.times !== undefined && fault.fired >= fault.spec.times) this.remove(fault.id);
  }

  /** Finds (and fires) a fault of one kind; for faults that act once per event. */
  take<K extends FaultKind>(
    kind: K,
    pred: (spec: Of<K>) => boolean = () => true,
  ): (ActiveFault & { spec: Of<K> }) | undefined {
    const f = this.find(kind, pred);
    if (f) this.fire(f);
    return f;
  }

  /** The command fault for a simple command on a host, fired. */
  matchCommand(
    host: string,
    line: string,
  ): (ActiveFault & { spec: Of<"dropConnection" | "hang" | "exit"> }) | undefined {
    for (const f of this.faults.values()) {
      const s = f.spec;
      if (s.kind !== "dropConnection" && s.kind !== "hang" && s.kind !== "exit") continue;
      if (s.host !== undefined && s.host !== host) continue;
      if (!compileMatch(s.match)(line)) continue;
      this.fire(f);
      return f as ActiveFault & { spec: Of<"dropConnection" | "hang" | "exit"> };
    }
    return undefined;
  }
}
