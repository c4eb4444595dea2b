import { tail, unparseable, type ParseContext } from "./errors.js";

export const ZPOOL_STATUS_X_ARGV = ["zpool", "status", "-x"] as const;

export interface ZfsPoolProblem {
  readonly pool: string;
  /** DEGRADED, FAULTED, SUSPENDED, ... (undefined if zpool did not print a state line). */
  readonly state: string | undefined;
}

export type ZfsHealth =
  | { readonly state: "healthy" }
  /** No pools at all: not a ZFS host. Whether that passes a gate is the gate's decision. */
  | { readonly state: "no-pools" }
  | { readonly state: "unhealthy"; readonly pools: readonly ZfsPoolProblem[]; readonly detail: string };

/**
 * Parses `zpool status -x`: "all pools are healthy", "no pools available", or the status of every
 * pool with a problem (`  pool: rpool` / ` state: DEGRADED` / ...). Anything else is unreadable.
 */
export function parseZpoolStatusX(text: string, ctx?: ParseContext): ZfsHealth {
  const trimmed = text.trim();
  if (/^all pools are healthy$/i.test(trimmed)) return { state: "healthy" };
  if (/^no pools available$/i.test(trimmed)) return { state: "no-pools" };
  const pools: ZfsPoolProblem[] = [];
  let current: { pool: string; state: string | undefined } | undefined;
  for (const line of text.split(/\r?\n/)) {
    const pool = /^\s*pool:\s*(\S+)\s*$/.exec(line);
    if (pool?.[1] !== undefined) {
      current = { pool: pool[1], state: undefined };
      pools.push(current);
      continue;
    }
    const state = /^\s*state:\s*(\S+)\s*$/.exec(line);
    if (state?.[1] !== undefined && current !== undefined) current.state = state[1];
  }
  if (pools.length === 0)
    unparseable(ctx, ZPOOL_STATUS_X_ARGV.join(" "), text, "neither a healthy summary nor a pool status");
  return { state: "unhealthy", pools, detail: tail(trimmed, 2000) };
}
