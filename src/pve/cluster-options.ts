import { z } from "zod";
import type { ParseContext } from "./errors.js";
import { parseJsonWith } from "./json.js";

/**
 * `pvesh get /cluster/options`: datacenter.cfg as PVE::API2::Cluster get_options returns it, only
 * the keys that are set. `max_workers` bounds the workers each node's HA LRM runs at once; unset,
 * the LRM uses 4 (PVE::HA::Env::PVE2::get_max_workers: `max_workers || 4`). See REFERENCE-migration.md.
 */
export const CLUSTER_OPTIONS_ARGV = ["pvesh", "get", "/cluster/options", "--output-format", "json"] as const;

/** pve-ha-manager's default when datacenter.cfg sets no max_workers. */
export const HA_DEFAULT_MAX_WORKERS = 4;

export interface ClusterOptions {
  /** HA LRM workers per node (datacenter.cfg max_workers, else 4). */
  readonly haMaxWorkers: number;
}

const options = z.looseObject({ max_workers: z.coerce.number().int().min(1).optional() });

export function parseClusterOptions(text: string, ctx?: ParseContext): ClusterOptions {
  const o = parseJsonWith(options, text, CLUSTER_OPTIONS_ARGV.join(" "), ctx);
  return { haMaxWorkers: o.max_workers ?? HA_DEFAULT_MAX_WORKERS };
}
