import { PveReader, storageIndex, type ClusterResources } from "../../src/pve/index.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import type { EvacGuest } from "./evacuation-plan.js";

/** The guests on `node` with what the evacuation planner needs, from resources plus each guest's config. */
export async function guestsOn(
  access: ClusterAccess,
  via: string,
  resources: ClusterResources,
  node: string,
): Promise<EvacGuest[]> {
  const reader = new PveReader(access.node(via));
  const storages = storageIndex(resources);
  const out: EvacGuest[] = [];
  for (const g of resources.guests.filter(
    (x) => x.node === node && (x.type === "qemu" || x.type === "lxc"),
  )) {
    const running = g.status === "running" || g.status === "paused";
    // Stopped guests stay where they are: their config is not needed to plan.
    const config =
      running && !g.template ? await reader.guestConfig(node, g.type, g.vmid, storages) : undefined;
    out.push({
      vmid: g.vmid,
      type: g.type,
      ...(g.name ? { name: g.name } : {}),
      status: g.status,
      memoryBytes: g.maxmem ?? (config?.memoryMiB ?? 0) * 1024 * 1024,
      haManaged: g.hastate !== undefined && g.hastate !== "" && g.hastate !== "ignored",
      template: g.template,
      ...((config?.lock ?? g.lock) ? { lock: config?.lock ?? g.lock } : {}),
      localDisks: config?.localDisks.filter((d) => !d.cdrom).length ?? 0,
      localDevices: config?.localDevices.map((d) => d.key) ?? [],
    });
  }
  return out;
}
