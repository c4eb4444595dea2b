import { PveReader, storageIndex, type ClusterResources } from "../../src/pve/index.js";
import type { ClusterAccess } from "../fleet/cluster-access.js";
import type { EvacGuest, LocalMedium } from "./evacuation-plan.js";
import type { GuestConfig, MigratePrecondition } from "../../src/pve/index.js";

/** What Proxmox's migration precondition adds for a running VM: local devices, CD images, disallowed nodes. */
type Precondition = { ok: true; value: MigratePrecondition } | { ok: false; message: string };

async function precondition(reader: PveReader, node: string, vmid: number): Promise<Precondition> {
  try {
    return { ok: true, value: await reader.migratePrecondition(node, vmid) };
  } catch (e) {
    // Fail closed: a VM whose preconditions cannot be read is not proven movable.
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** CD images on storage that is not shared: the config's CD drives, and what the endpoint lists. */
function localMedia(config: GuestConfig | undefined, pre: MigratePrecondition | undefined): LocalMedium[] {
  const out = new Map<string, LocalMedium>();
  for (const d of config?.localDisks ?? []) if (d.cdrom) out.set(d.key, { drive: d.key, volume: d.volume });
  for (const d of pre?.localDisks ?? [])
    if (d.cdrom && d.drive !== undefined && d.volid !== "cdrom" && !out.has(d.drive))
      out.set(d.drive, { drive: d.drive, volume: d.volid });
  return [...out.values()].sort((a, b) => a.drive.localeCompare(b.drive));
}

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
    const pre =
      running && !g.template && g.type === "qemu" ? await precondition(reader, node, g.vmid) : undefined;
    const devices = new Set([
      ...(config?.localDevices.map((d) => d.key) ?? []),
      ...(pre?.ok ? pre.value.localResources : []),
    ]);
    const media = localMedia(config, pre?.ok ? pre.value : undefined);
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
      localDevices: [...devices],
      ...(media.length > 0 ? { localMedia: media } : {}),
      ...(pre?.ok && Object.keys(pre.value.notAllowed).length > 0
        ? { notAllowedNodes: pre.value.notAllowed }
        : {}),
      ...(pre && !pre.ok ? { preconditionError: pre.message } : {}),
    });
  }
  return out;
}
