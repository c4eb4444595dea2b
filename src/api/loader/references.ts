import { parseVmidRange } from "../primitives.js";
import type { FieldProblem } from "./zod-issues.js";

/** The parts of a valid object that cross-object checks read. */
export interface ObjectView {
  kind: string;
  name: string;
  namespace: string;
  spec: Record<string, unknown>;
  /** Reports a problem on this object. */
  report(problem: FieldProblem): void;
}

type Refs = { path: PropertyKey[]; kind: string; name: string }[];

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function nameOf(v: unknown): string | undefined {
  return typeof v === "object" && v !== null && typeof (v as { name?: unknown }).name === "string"
    ? (v as { name: string }).name
    : undefined;
}

/** Every reference an object makes, with the field path it is written at. */
function referencesOf(o: ObjectView): Refs {
  const refs: Refs = [];
  const spec = o.spec;
  const cluster = nameOf(spec.clusterRef);
  if (cluster && (o.kind === "HostPatchPlan" || o.kind === "GuestUpdatePlan")) {
    refs.push({ path: ["spec", "clusterRef", "name"], kind: "ProxmoxCluster", name: cluster });
  }
  const planRef = nameOf(spec.planRef);
  if (planRef && o.kind === "GuestUpdatePolicy") {
    refs.push({ path: ["spec", "planRef", "name"], kind: "GuestUpdatePlan", name: planRef });
  }
  for (const [field, kind] of [
    ["windowRefs", "MaintenanceWindow"],
    ["blackoutRefs", "MaintenanceWindow"],
  ] as const) {
    asArray(spec[field]).forEach((r, i) => {
      const n = nameOf(r);
      if (n) refs.push({ path: ["spec", field, i, "name"], kind, name: n });
    });
  }
  const notifications = spec.notifications as { channelRefs?: unknown } | undefined;
  asArray(notifications?.channelRefs).forEach((r, i) => {
    const n = nameOf(r);
    if (n)
      refs.push({
        path: ["spec", "notifications", "channelRefs", i, "name"],
        kind: "NotificationChannel",
        name: n,
      });
  });
  asArray(spec.after).forEach((r, i) => {
    const n = nameOf(r);
    const kind = (r as { kind?: unknown }).kind;
    if (n && typeof kind === "string") refs.push({ path: ["spec", "after", i, "name"], kind, name: n });
  });
  return refs;
}

const key = (kind: string, ns: string, name: string): string => `${kind}/${ns}/${name}`;

/** Dangling references and `after` cycles. */
export function checkReferences(
  objects: readonly ObjectView[],
  exists: (kind: string, ns: string, name: string) => boolean,
): void {
  for (const o of objects) {
    for (const r of referencesOf(o)) {
      if (r.kind === o.kind && r.name === o.name && r.path[1] === "after") {
        o.report({ path: r.path, message: `a plan cannot be ordered after itself` });
      } else if (!exists(r.kind, o.namespace, r.name)) {
        o.report({
          path: r.path,
          message: `refers to ${r.kind}/${r.name}, which does not exist in the desired state`,
        });
      }
    }
  }
  // `after` must not form a cycle: plans in a cycle would wait for each other forever.
  const plans = new Map(
    objects.filter((o) => o.kind.endsWith("Plan")).map((o) => [key(o.kind, o.namespace, o.name), o]),
  );
  const edges = (o: ObjectView): string[] =>
    referencesOf(o)
      .filter((r) => r.path[1] === "after" && !(r.kind === o.kind && r.name === o.name))
      .map((r) => key(r.kind, o.namespace, r.name));
  const state = new Map<string, "visiting" | "done">();
  const reported = new Set<string>();
  const visit = (k: string, stack: string[]): void => {
    if (state.get(k) === "done") return;
    if (state.get(k) === "visiting") {
      const cycle = stack.slice(stack.indexOf(k));
      const names = [...cycle, k].map((c) =>
        c
          .split("/")
          .filter((_, i) => i !== 1)
          .join("/"),
      );
      for (const c of cycle) {
        if (reported.has(c)) continue;
        reported.add(c);
        plans.get(c)?.report({ path: ["spec", "after"], message: `ordering cycle: ${names.join(" -> ")}` });
      }
      return;
    }
    const o = plans.get(k);
    if (!o) return;
    state.set(k, "visiting");
    for (const next of edges(o)) visit(next, [...stack, k]);
    state.set(k, "done");
  };
  for (const k of plans.keys()) visit(k, []);
}

interface Claim {
  owner: ObjectView;
  from: number;
  to: number;
  path: PropertyKey[];
  excluded: { from: number; to: number }[];
}

function vmidRanges(list: unknown): { from: number; to: number; index: number }[] {
  const out: { from: number; to: number; index: number }[] = [];
  asArray(list).forEach((v, index) => {
    if (typeof v !== "number" && typeof v !== "string") return;
    const r = parseVmidRange(v);
    if (typeof r !== "string") out.push({ ...r, index });
  });
  return out;
}

/** True when a guest selector narrows by something other than vmids, so overlap is a runtime question. */
function narrowsBeyondVmids(selector: Record<string, unknown>): boolean {
  return Object.entries(selector).some(
    ([k, v]) =>
      k !== "vmids" &&
      k !== "exclude" &&
      k !== "types" &&
      v !== undefined &&
      !(Array.isArray(v) && v.length === 0),
  );
}

/**
 * Selections that can be decided without looking at the fleet: two GuestUpdatePlans of one cluster
 * that both name a vmid (and do not exclude it), or two HostPatchPlans that name the same node.
 */
export function checkOverlaps(objects: readonly ObjectView[]): void {
  const claims = new Map<string, Claim[]>();
  for (const o of objects.filter((x) => x.kind === "GuestUpdatePlan")) {
    const selector = (o.spec.selector ?? {}) as Record<string, unknown>;
    const exclude = (selector.exclude ?? {}) as Record<string, unknown>;
    // Any other criterion (here or in exclude) makes the overlap a question about the fleet, not the files.
    if (narrowsBeyondVmids(selector) || narrowsBeyondVmids(exclude)) continue;
    const excluded = vmidRanges(exclude.vmids);
    const cluster = `${o.namespace}/${nameOf(o.spec.clusterRef) ?? ""}`;
    for (const r of vmidRanges(selector.vmids)) {
      const list = claims.get(cluster) ?? [];
      list.push({ owner: o, from: r.from, to: r.to, path: ["spec", "selector", "vmids", r.index], excluded });
      claims.set(cluster, list);
    }
  }
  for (const list of claims.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (!a || !b || a.owner === b.owner) continue;
        const shared = firstShared(a, b);
        if (shared === undefined) continue;
        const msg = (other: ObjectView): string =>
          `vmid ${shared} is also selected by GuestUpdatePlan/${other.name}; a guest may belong to one plan only (exclude it from one of them)`;
        a.owner.report({ path: a.path, message: msg(b.owner) });
        b.owner.report({ path: b.path, message: msg(a.owner) });
      }
    }
  }
  const nodes = new Map<string, { owner: ObjectView; path: PropertyKey[] }>();
  for (const o of objects.filter((x) => x.kind === "HostPatchPlan")) {
    const targets = (o.spec.targets ?? {}) as { nodes?: unknown; excludeNodes?: unknown };
    const cluster = `${o.namespace}/${nameOf(o.spec.clusterRef) ?? ""}`;
    asArray(targets.nodes).forEach((n, i) => {
      if (typeof n !== "string" || /[*?[]/.test(n)) return;
      if (asArray(targets.excludeNodes).includes(n)) return;
      const k = `${cluster}/${n}`;
      const prev = nodes.get(k);
      if (prev && prev.owner !== o) {
        o.report({
          path: ["spec", "targets", "nodes", i],
          message: `node ${n} is also patched by HostPatchPlan/${prev.owner.name}; a node may belong to one plan only`,
        });
        prev.owner.report({
          path: prev.path,
          message: `node ${n} is also patched by HostPatchPlan/${o.name}; a node may belong to one plan only`,
        });
      } else if (!prev) {
        nodes.set(k, { owner: o, path: ["spec", "targets", "nodes", i] });
      }
    });
  }
}

function firstShared(a: Claim, b: Claim): number | undefined {
  const from = Math.max(a.from, b.from);
  const to = Math.min(a.to, b.to);
  for (let v = from; v <= to; v++) {
    const out = [...a.excluded, ...b.excluded].some((e) => v >= e.from && v <= e.to);
    if (!out) return v;
    // Skip to the end of the exclusion that covers v, so huge ranges stay cheap.
    const cover = [...a.excluded, ...b.excluded].filter((e) => v >= e.from && v <= e.to).map((e) => e.to);
    v = Math.max(...cover);
  }
  return undefined;
}
