import type { OptType } from "../commands/pve-args.js";
import type { HostState } from "../model/state.js";
import type { Sim } from "../world.js";

/** The slice of the PVE REST API that `pvesh get` serves. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Params = Record<string, string | number | boolean>;

export interface ApiRequest {
  sim: Sim;
  /** The node pvesh runs on (`local` in /cluster/status). */
  local: HostState;
  params: Params;
  /** Captures from the path pattern. */
  path: string[];
}

export interface Endpoint {
  pattern: RegExp;
  params: Record<string, OptType>;
  /** The node the request is proxied to (from the path), if any. */
  node?: (m: string[]) => string;
  get: (req: ApiRequest) => unknown;
}

const endpoints: Endpoint[] = [];

export function registerEndpoints(list: Endpoint[]): void {
  endpoints.push(...list);
}

export function findEndpoint(path: string): { endpoint: Endpoint; captures: string[] } | undefined {
  for (const e of endpoints) {
    const m = e.pattern.exec(path);
    if (m) return { endpoint: e, captures: m.slice(1) };
  }
  return undefined;
}

export const perl = (b: boolean): 0 | 1 => (b ? 1 : 0);
