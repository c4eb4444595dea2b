import type { HostPatchPlanSpec } from "../../../src/api/host-patch-plan.js";
import { unavailable, type Available, type Observed, type Unavailable } from "../../../src/pve/index.js";

/** The cluster-wide safety switches gates honour (ProxmoxCluster `spec.safety`). */
export interface GateSafety {
  readonly requireQuorum: boolean;
  readonly requireAllNodesOnline: boolean;
}

/** What a gate knows besides the observation: which host, the plan's spec and the cluster's safety. */
export interface GateContext {
  readonly host: string;
  readonly spec: HostPatchPlanSpec;
  readonly safety: GateSafety;
}

/**
 * A profile's input: the context plus its observations, a record of named observations (`node`,
 * `cluster`, ...) whose fields are `Observed` parts. A part is named by its path, e.g. "node.zfs".
 */
export type GateInput<O> = GateContext & { readonly observed: O };

/** Open, or closed with one CamelCase reason; the message is for humans either way. */
export type GateVerdict =
  | { readonly open: true; readonly message: string }
  | { readonly open: false; readonly reason: string; readonly message: string };

type ObservedKeys<T> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends Observed<unknown> ? K : never;
}[keyof T & string];

/** Every part path of an observation bundle: "node.zfs", "cluster.quorum", ... */
export type PartPath<O> = { [S in keyof O & string]-?: `${S}.${ObservedKeys<O[S]>}` }[keyof O & string];

/** The value a part holds when it could be read. */
export type PartValue<O, P> = P extends `${infer S}.${infer F}`
  ? S extends keyof O
    ? F extends keyof O[S]
      ? Extract<NonNullable<O[S][F]>, { readonly ok: true }> extends Available<infer T>
        ? T
        : never
      : never
    : never
  : never;

/** One gate of one profile. The registry evaluates only enabled gates, in registry order. */
export interface Gate<O> {
  /** Unique within its profile; the `name` on HostPatch `status.gates`. */
  readonly id: string;
  /** The observation parts the gate needs; it sees no others, and any unreadable one closes it. */
  readonly reads: readonly PartPath<O>[];
  enabled(spec: HostPatchPlanSpec, safety: GateSafety): boolean;
  evaluate(input: GateInput<O>): GateVerdict;
}

/** What a gate author writes: `check` gets the declared parts, already read. */
export interface GateDefinition<O, R extends PartPath<O>> {
  readonly id: string;
  readonly reads: readonly R[];
  enabled(spec: HostPatchPlanSpec, safety: GateSafety): boolean;
  check(parts: { readonly [K in R]: PartValue<O, K> }, ctx: GateContext): GateVerdict;
}

export function open(message: string): GateVerdict {
  return { open: true, message };
}

export function closed(reason: string, message: string): GateVerdict {
  return { open: false, reason, message };
}

/** Fail closed: a part that could not be read closes the gate with the part's reason and says why. */
export function unreadable(part: Unavailable): GateVerdict {
  return closed(part.reason, `cannot be evaluated: ${part.message} (${part.reason})`);
}

/** Reads one part by its path; a part the profile did not observe is unreadable, not empty. */
export function readPart<O, P extends PartPath<O>>(observed: O, path: P): Observed<PartValue<O, P>> {
  const [section = "", field = ""] = path.split(".");
  const parts = (observed as Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>)[
    section
  ];
  const part = parts?.[field] as Observed<PartValue<O, P>> | undefined;
  return part ?? unavailable("NotObserved", `${path} was not observed`);
}

/** Builds the gates of one observation bundle: `gateFor<PveObserved>()({ id, reads, enabled, check })`. */
export function gateFor<O>() {
  return <R extends PartPath<O>>(def: GateDefinition<O, R>): Gate<O> => ({
    id: def.id,
    reads: def.reads,
    enabled: (spec, safety) => def.enabled(spec, safety),
    evaluate: (input) => {
      const parts: Partial<Record<R, unknown>> = {};
      for (const path of def.reads) {
        const part = readPart(input.observed, path);
        if (!part.ok) return unreadable(part);
        parts[path] = part.value;
      }
      // The context only: a gate cannot reach an observation part it did not declare.
      const ctx: GateContext = { host: input.host, spec: input.spec, safety: input.safety };
      return def.check(parts as { readonly [K in R]: PartValue<O, K> }, ctx);
    },
  });
}
