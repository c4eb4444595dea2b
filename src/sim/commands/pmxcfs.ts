import type { CommandContext } from "./types.js";

/**
 * What every PVE CLI (pvesh, qm, pct, ha-manager, pvecm) prints, exit 255, while pmxcfs does not run
 * on the node (pve-cluster restarting after its upgrade, or not started yet after a boot): each
 * `cfs_update` call warns `ipcc_send_rec[<msgid>] failed: Connection refused` (proxmox/pve-cluster
 * src/PVE/Cluster.pm; msgids 1–3: fs version, cluster info, guest list), then the CLI environment's
 * init_request dies with `Unable to load access control list: Connection refused`
 * (pve-access-control PVE/RPCEnvironment.pm).
 */
export const PMXCFS_DOWN_STDERR =
  "ipcc_send_rec[1] failed: Connection refused\n" +
  "ipcc_send_rec[2] failed: Connection refused\n" +
  "ipcc_send_rec[3] failed: Connection refused\n" +
  "Unable to load access control list: Connection refused\n";

/** True (and the error printed) when the command runs on a PVE node whose pmxcfs is not running. */
export function pmxcfsDown(ctx: CommandContext): boolean {
  if (ctx.place.kind !== "host" || ctx.place.host.kind !== "pve") return false;
  const svc = ctx.place.host.services["pve-cluster"];
  if (svc === undefined || svc.active === "active") return false;
  ctx.err(PMXCFS_DOWN_STDERR);
  return true;
}
