import { z } from "zod";
import { nodeName, type GuestKind } from "./args.js";
import type { ParseContext } from "./errors.js";
import { optBool, optNumber, optString, optional, parseJsonWith } from "./json.js";
import { haServiceId } from "./resources.js";

export const HA_MANAGER_STATUS_ARGV = [
  "pvesh",
  "get",
  "/cluster/ha/status/manager_status",
  "--output-format",
  "json",
] as const;
export const HA_CURRENT_ARGV = [
  "pvesh",
  "get",
  "/cluster/ha/status/current",
  "--output-format",
  "json",
] as const;

/** Asks the CRM to put a node into (or take it out of) maintenance: HA then moves its services away. */
export function nodeMaintenanceArgv(node: string, enable: boolean): string[] {
  return ["ha-manager", "crm-command", "node-maintenance", enable ? "enable" : "disable", nodeName(node)];
}

/** Migrates an HA-managed guest through the HA stack (produces an `hamigrate` task). */
export function haMigrateArgv(kind: GuestKind, vmid: number, target: string): string[] {
  return ["ha-manager", "migrate", haServiceId(kind, vmid), nodeName(target)];
}

export interface HaLrmStatus {
  /** "active", "maintenance", "restart", ... */
  readonly mode: string | undefined;
  /** "active", "wait_for_agent_lock", "lost_agent_lock", ... */
  readonly state: string | undefined;
  readonly timestamp: number | undefined;
}

export interface HaManagerStatus {
  /** False when HA has never been configured (no master, no nodes). */
  readonly configured: boolean;
  readonly masterNode: string | undefined;
  readonly timestamp: number | undefined;
  /** Node → "online", "maintenance", "unknown", "fence", "gone", ... */
  readonly nodeStatus: Readonly<Record<string, string>>;
  /** Service id (`vm:100`) → where it is and in what state. */
  readonly services: Readonly<
    Record<string, { readonly node: string | undefined; readonly state: string | undefined }>
  >;
  readonly lrm: Readonly<Record<string, HaLrmStatus>>;
  readonly quorate: boolean | undefined;
}

const managerSchema = z.object({
  manager_status: optional(
    z.object({
      master_node: optString,
      timestamp: optNumber,
      node_status: optional(z.record(z.string(), z.string())),
      service_status: optional(z.record(z.string(), z.object({ node: optString, state: optString }))),
    }),
  ),
  quorum: optional(z.object({ node: optString, quorate: optBool })),
  lrm_status: optional(
    z.record(z.string(), z.object({ mode: optString, state: optString, timestamp: optNumber })),
  ),
});

/** Parses `pvesh get /cluster/ha/status/manager_status --output-format json`. */
export function parseHaManagerStatus(text: string, ctx?: ParseContext): HaManagerStatus {
  const d = parseJsonWith(managerSchema, text, HA_MANAGER_STATUS_ARGV.join(" "), ctx);
  const m = d.manager_status;
  const nodeStatus = m?.node_status ?? {};
  return {
    configured: m?.master_node !== undefined || Object.keys(nodeStatus).length > 0,
    masterNode: m?.master_node,
    timestamp: m?.timestamp,
    nodeStatus,
    services: m?.service_status ?? {},
    lrm: d.lrm_status ?? {},
    quorate: d.quorum?.quorate,
  };
}

export type HaCurrentEntry =
  | {
      readonly type: "quorum";
      readonly node: string | undefined;
      readonly quorate: boolean;
      readonly status: string;
    }
  | {
      readonly type: "master";
      readonly node: string | undefined;
      readonly state: string | undefined;
      readonly status: string;
    }
  | {
      readonly type: "lrm";
      readonly node: string | undefined;
      readonly state: string | undefined;
      readonly status: string;
    }
  | {
      readonly type: "service";
      readonly sid: string;
      readonly node: string | undefined;
      readonly state: string | undefined;
      readonly crmState: string | undefined;
      readonly requestState: string | undefined;
      readonly status: string;
    }
  /** A row type this version does not know; kept, never a crash. */
  | {
      readonly type: "other";
      readonly rowType: string;
      readonly id: string | undefined;
      readonly status: string;
    };

const currentRow = z.object({
  id: optString,
  type: z.string(),
  node: optString,
  status: optString,
  quorate: optBool,
  sid: optString,
  state: optString,
  crm_state: optString,
  request_state: optString,
});

/**
 * The state word in a status string: "pve1 (active, Tue Mar 18 10:00:00 2025)" → "active",
 * "pve2 (maintenance mode, …)" → "maintenance mode", "pve3 (old timestamp - dead?, …)" →
 * "old timestamp - dead?", "pve2 (unable to read lrm status)" → "unable to read lrm status".
 */
export function haStatusState(status: string): string | undefined {
  const m = /^\S+\s+\(([^,)]+)[,)]/.exec(status);
  return m?.[1]?.trim();
}

/** Parses `pvesh get /cluster/ha/status/current --output-format json`. There are no `node` rows. */
export function parseHaCurrent(text: string, ctx?: ParseContext): HaCurrentEntry[] {
  return parseJsonWith(z.array(currentRow), text, HA_CURRENT_ARGV.join(" "), ctx).map((r): HaCurrentEntry => {
    const status = r.status ?? "";
    switch (r.type) {
      case "quorum":
        return { type: "quorum", node: r.node, quorate: r.quorate ?? status === "OK", status };
      case "master":
        return { type: "master", node: r.node, state: haStatusState(status), status };
      case "lrm":
        return {
          type: "lrm",
          node: r.node ?? r.id?.replace(/^lrm:/, ""),
          state: haStatusState(status),
          status,
        };
      case "service":
        return {
          type: "service",
          sid: r.sid ?? r.id?.replace(/^service:/, "") ?? "",
          node: r.node,
          state: r.state,
          crmState: r.crm_state,
          requestState: r.request_state,
          status,
        };
      default:
        return { type: "other", rowType: r.type, id: r.id, status };
    }
  });
}

/** LRM state per node from the current status ("active", "idle", "maintenance mode", ...). */
export function lrmStates(entries: readonly HaCurrentEntry[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const e of entries) {
    if (e.type === "lrm" && e.node !== undefined) out[e.node] = e.state;
  }
  return out;
}

/** Whether the manager is alive: a master exists and its status is "active" (or "idle" with nothing to do). */
export function haMasterAlive(entries: readonly HaCurrentEntry[]): boolean {
  for (const e of entries) {
    if (e.type === "master") return e.state === "active" || e.state === "idle";
  }
  return false;
}

/** A node is in maintenance once the manager says so (`node_status[node] === "maintenance"`). */
export function nodeInMaintenance(status: HaManagerStatus, node: string): boolean {
  return status.nodeStatus[node] === "maintenance";
}
