/**
 * Which containers a selector picks, over what `/cluster/resources` says about the cluster's guests.
 * Pure: the reconciler, `refit plan` and the tests share it.
 */
import type { GuestExclusion, GuestSelector } from "../../src/api/guest-selector.js";
import { parseVmidRange } from "../../src/api/primitives.js";
import type { GuestResource } from "../../src/pve/resources.js";
import { matchesGlob } from "../glob.js";

/** One guest of the cluster as selection sees it (a `/cluster/resources` row). */
export interface GuestView {
  vmid: number;
  type: "lxc" | "qemu";
  node: string;
  name?: string;
  tags: readonly string[];
  pool?: string;
  template: boolean;
  status: string;
}

export function guestView(r: GuestResource): GuestView {
  return {
    vmid: r.vmid,
    type: r.type,
    node: r.node,
    ...(r.name !== undefined ? { name: r.name } : {}),
    tags: r.tags,
    ...(r.pool !== undefined ? { pool: r.pool } : {}),
    template: r.template,
    status: r.status,
  };
}

/** The criteria both a selector and its exclusion carry; a policy selector has a subset. */
export interface Criteria {
  tags?: readonly string[];
  allTags?: readonly string[];
  names?: readonly string[];
  vmids?: readonly (number | string)[];
  pools?: readonly string[];
  nodes?: readonly string[];
}

type Test = (c: Criteria, g: GuestView) => boolean | undefined;

/** Each criterion: undefined when it is empty (not asked), else whether the guest meets it. */
const TESTS: Test[] = [
  (c, g) => (c.tags?.length ? c.tags.some((t) => g.tags.includes(t)) : undefined),
  (c, g) => (c.allTags?.length ? c.allTags.every((t) => g.tags.includes(t)) : undefined),
  (c, g) =>
    c.names?.length ? g.name !== undefined && c.names.some((n) => matchesGlob(n, g.name ?? "")) : undefined,
  (c, g) => (c.vmids?.length ? c.vmids.some((v) => inRange(v, g.vmid)) : undefined),
  (c, g) => (c.pools?.length ? g.pool !== undefined && c.pools.includes(g.pool) : undefined),
  (c, g) => (c.nodes?.length ? c.nodes.some((n) => matchesGlob(n, g.node)) : undefined),
];

function inRange(v: number | string, vmid: number): boolean {
  const r = parseVmidRange(v);
  return typeof r !== "string" && vmid >= r.from && vmid <= r.to;
}

/** Every non-empty criterion matches (and at least one is non-empty). */
export function matchesAll(c: Criteria, g: GuestView): boolean {
  const results = TESTS.map((t) => t(c, g)).filter((r) => r !== undefined);
  return results.length > 0 && results.every(Boolean);
}

/** Any non-empty criterion matches (how `exclude` reads). */
export function matchesAny(c: GuestExclusion | Criteria, g: GuestView): boolean {
  return TESTS.some((t) => t(c, g) === true);
}

/**
 * The containers `selector` picks, in vmid order. Templates are never selected (they cannot run,
 * so nothing inside them can be updated); neither are guests of a type the selector does not name.
 */
export function selectContainers(selector: GuestSelector, guests: readonly GuestView[]): GuestView[] {
  const types: readonly string[] = selector.types;
  return guests
    .filter((g) => types.includes(g.type) && !g.template)
    .filter((g) => matchesAll(selector, g) && !matchesAny(selector.exclude, g))
    .sort((a, b) => a.vmid - b.vmid);
}
